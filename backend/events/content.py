"""Loading content/events.toml and content/articles.toml: parse and check every entry, then upsert by
slug (content items are published as they load; a re-run changes nothing)."""

from __future__ import annotations

import hashlib
import time
import tomllib
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from litestar.stores.base import Store

from backend.events.articles import article_columns
from backend.events.editing import event_columns
from backend.events.schemas import ArticleContent, EventContent
from backend.events.services import VERSION_KEY, utc_now
from backend.events.tables import Article, Event
from backend.lib.problems import InvalidInput
from backend.venues.schemas import LoadReport
from backend.venues.services import catalog

# the content tables, each upserted as itself (a constrained TypeVar: `table(...)` is inserted into its own table)
ContentTable = TypeVar("ContentTable", Event, Article)


def read_event_files(content_dir: Path) -> list[dict[str, Any]]:
    """The raw events of content/events.toml and of every content/events_*.toml after it (the next seasons'
    files, e.g. events_2027.toml), in that order."""
    files = [content_dir / "events.toml", *sorted(content_dir.glob("events_*.toml"))]
    return [e for f in files if f.is_file() for e in tomllib.loads(f.read_text(encoding="utf-8")).get("event", [])]


def parse_event_content(raw: list[dict[str, Any]]) -> list[EventContent]:
    items, seen = [], set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, EventContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"event {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"event {label}: duplicate slug")
        seen.add(item.slug)
        items.append(item)
    return items


def parse_article_content(raw: list[dict[str, Any]]) -> list[ArticleContent]:
    items, seen = [], set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, ArticleContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"article {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"article {label}: duplicate slug")
        seen.add(item.slug)
        items.append(item)
    return items


async def _upsert(
    table: type[ContentTable],
    slug: str,
    columns: dict[str, Any],
    existing: dict[str, dict[str, Any]],
    extra_new: dict[str, Any],
) -> str:
    digest = hashlib.sha256(msgspec.json.encode(columns, order="sorted")).hexdigest()
    current = existing.get(slug)
    if current is None:
        await table.insert(table(**columns, **extra_new, content_hash=digest))
        return "created"
    if current["content_hash"] != digest:
        values = {getattr(table, k): v for k, v in columns.items()}
        values[table.content_hash] = digest
        values[table.updated_at] = utc_now()
        if table is Event:
            values[Event.sequence] = (current.get("sequence") or 0) + 1
        await table.update(values).where(table.id == current["id"])
        return "updated"
    return "unchanged"


async def load_events(items: list[EventContent], store: Store | None = None) -> LoadReport:
    """Upsert by slug; content items are published as they load. A re-run changes nothing."""
    await catalog.snapshot()  # venues must be loaded first: places come from them
    existing = {r["slug"]: r for r in await Event.select(Event.id, Event.slug, Event.content_hash, Event.sequence)}
    now = utc_now()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        try:
            columns = await event_columns(item)
        except InvalidInput as exc:
            raise ValueError(f"event {item.slug}: {exc.detail}") from None
        counts[await _upsert(Event, item.slug, columns, existing, {"status": "published", "published_at": now})] += 1
    if store is not None and (counts["created"] or counts["updated"]):
        await store.set(VERSION_KEY, str(time.time_ns()).encode())
    return LoadReport(**counts)


async def load_articles(items: list[ArticleContent]) -> LoadReport:
    existing = {r["slug"]: r for r in await Article.select(Article.id, Article.slug, Article.content_hash)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        columns = await article_columns(item)
        extra = {"status": "published", "published_at": item.published_at or utc_now()}
        counts[await _upsert(Article, item.slug, columns, existing, extra)] += 1
    return LoadReport(**counts)
