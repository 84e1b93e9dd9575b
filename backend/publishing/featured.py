"""Editors' picks (编辑推荐, issue 21 item 3): lists that marketers curate, in the publishing flow.

A list is `{title: {zh, en}, items: [{kind, slug, note?: {zh, en}}], slug?}`: one to twelve published
venues, events, tours, exhibitions or articles, no item twice, in the marketer's order. It is a
publishable kind like the others (`/admin/featured`: the same states, second-reviewer rule, `publish_at`
and transition log), and the public reads the published, due lists at `GET /featured`, each item as a
card in the request's language. An item that stopped being public after the list was written (an event
archived, an article back to draft) is left out of the public list rather than failing it.

`content/featured.toml` holds a sample list, loaded (published) by `changxiang load-content`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from piccolo.table import Table

from backend.events.tables import Article, Event
from backend.exhibitions.tables import Exhibition, ExhibitionItem
from backend.lib.clock import clock
from backend.lib.content_urls import safe_or_none
from backend.lib.i18n import Lang, pick
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.publication import visible_now
from backend.publishing.tables import FeaturedList
from backend.tours.tables import Tour
from backend.venues.schemas import Live, Localised, Slug
from backend.venues.services import catalog

ItemKind = Literal["venue", "event", "tour", "exhibition", "article"]
MAX_ITEMS = 12
ShortZh = Annotated[str, msgspec.Meta(max_length=120)]
ShortEn = Annotated[str, msgspec.Meta(max_length=200)]

_TABLES: dict[str, type[Table]] = {"event": Event, "tour": Tour, "exhibition": Exhibition, "article": Article}


class Note(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: ShortZh = ""
    en: ShortEn = ""


class FeaturedItemIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    kind: ItemKind
    slug: Slug
    note: Note | None = None


class Title(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: ShortZh
    en: ShortEn = ""


class FeaturedIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /admin/featured."""

    title: Title
    items: list[FeaturedItemIn]
    slug: Slug | None = None
    publish_at: datetime | None = None


class FeaturedPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Title | None = None
    items: list[FeaturedItemIn] | None = None
    publish_at: datetime | None = None


class FeaturedAdminOut(msgspec.Struct):
    id: int
    slug: str
    title: Localised
    items: list[FeaturedItemIn]
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    created_by: int | None
    updated_at: datetime


class FeaturedCard(msgspec.Struct, omit_defaults=True):
    """One pick as the public sees it: enough for a card with a picture."""

    kind: str
    slug: str
    title: str
    image: str | None = None
    subtitle: str = ""
    note: str = ""
    category: str | None = None  # events and venues: the PWA's illustration when there is no picture
    live: Live | None = None  # venues: open or closed now, how full


class FeaturedOut(msgspec.Struct):
    slug: str
    title: str
    items: list[FeaturedCard]
    published_at: datetime | None


class FeaturedPage(msgspec.Struct):
    items: list[FeaturedOut]
    total: int


# ---- validation: every item exists and is public, 1–12 of them, none twice ----


async def _public_slugs(kind: str, slugs: set[str]) -> set[str]:
    if not slugs:
        return set()
    if kind == "venue":
        return {s for s in slugs if await catalog.record(s) is not None}
    table = _TABLES[kind]
    slug_col = table._meta.get_column_by_name("slug")
    rows = await table.select(slug_col).where(slug_col.is_in(sorted(slugs)) & visible_now(table, clock.now()))
    return {r["slug"] for r in rows}


async def _existing_slugs(kind: str, slugs: set[str]) -> set[str]:
    if not slugs or kind == "venue":
        return set()
    table = _TABLES[kind]
    slug_col = table._meta.get_column_by_name("slug")
    return {r["slug"] for r in await table.select(slug_col).where(slug_col.is_in(sorted(slugs)))}


async def check_items(items: list[FeaturedItemIn]) -> None:
    if not 1 <= len(items) <= MAX_ITEMS:
        raise InvalidInput(
            "featured_items_count", f"a list holds 1 to {MAX_ITEMS} items, not {len(items)}", field="items"
        )
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(items):
        if (item.kind, item.slug) in seen:
            raise InvalidInput(
                "featured_item_duplicate", f"{item.kind} {item.slug!r} is listed twice", field=f"items[{i}]"
            )
        seen.add((item.kind, item.slug))
    by_kind: dict[str, set[str]] = {}
    for item in items:
        by_kind.setdefault(item.kind, set()).add(item.slug)
    for kind, slugs in by_kind.items():
        public = await _public_slugs(kind, slugs)
        missing = slugs - public
        if not missing:
            continue
        existing = await _existing_slugs(kind, missing)
        i, item = next((i, it) for i, it in enumerate(items) if it.kind == kind and it.slug in missing)
        if item.slug in existing:
            raise InvalidInput(
                "featured_item_unpublished", f"{kind} {item.slug!r} is not published", field=f"items[{i}]"
            )
        raise InvalidInput("featured_item_unknown", f"no {kind} {item.slug!r}", field=f"items[{i}]")


def _items_json(items: list[FeaturedItemIn]) -> str:
    return msgspec.json.encode(items).decode()


def _decode_items(raw: str) -> list[FeaturedItemIn]:
    return msgspec.json.decode(raw or "[]", type=list[FeaturedItemIn])


async def _free_slug(title: Title) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.en.lower()).strip("-")[:60].strip("-")
    if len(base) < 2:
        base = "picks"
    slug = base
    for _ in range(20):
        if not await FeaturedList.exists().where(FeaturedList.slug == slug):
            return slug
        slug = f"{base}-{secrets.token_hex(2)}"
    return f"{base}-{secrets.token_hex(6)}"


def _title_columns(title: Title) -> dict[str, str]:
    zh, en = title.zh.strip(), title.en.strip()
    if not zh:
        raise InvalidInput("title_required", "the list needs a Chinese title", field="title.zh")
    return {"title_zh": zh, "title_en": en}


async def featured_columns(data: FeaturedIn) -> dict[str, Any]:
    cols = _title_columns(data.title)
    await check_items(data.items)
    return {"slug": data.slug or await _free_slug(data.title), "items": _items_json(data.items), **cols}


async def featured_patch_columns(data: FeaturedPatch, current: dict[str, Any]) -> dict[str, Any]:
    cols: dict[str, Any] = {}
    if data.title is not None:
        cols.update(_title_columns(data.title))
    if data.items is not None:
        await check_items(data.items)
        cols["items"] = _items_json(data.items)
    return cols


def featured_admin_out(row: dict[str, Any]) -> FeaturedAdminOut:
    return FeaturedAdminOut(
        id=row["id"],
        slug=row["slug"],
        title=Localised(row["title_zh"], row["title_en"]),
        items=_decode_items(row["items"]),
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )


# ---- the public side ----


async def _cards(kind: str, slugs: set[str], lang: Lang) -> dict[str, FeaturedCard]:
    """The public cards of the items of one kind that are public now (the others are absent)."""
    if not slugs:
        return {}
    out: dict[str, FeaturedCard] = {}
    if kind == "venue":
        for slug in slugs:
            try:
                v = await catalog.get(slug, lang)
            except NotFound:
                continue
            out[slug] = FeaturedCard(
                kind=kind,
                slug=slug,
                title=v.name,
                image=safe_or_none(v.images[0]) if v.images else None,
                subtitle=v.district_name,
                category=v.category,
                live=v.live,
            )
        return out
    table = _TABLES[kind]
    slug_col = table._meta.get_column_by_name("slug")
    rows = await table.select().where(slug_col.is_in(sorted(slugs)) & visible_now(table, clock.now()))
    covers: dict[int, str] = {}
    if kind == "exhibition" and rows:
        for item in (
            await ExhibitionItem.select(ExhibitionItem.exhibition, ExhibitionItem.image)
            .where(ExhibitionItem.exhibition.is_in([r["id"] for r in rows]))
            .order_by(ExhibitionItem.position, ascending=False)
        ):
            covers[item["exhibition"]] = item["image"]  # the first by position wins (read last)
    for r in rows:
        title = pick(r["title_zh"], r["title_en"], lang)
        if kind == "event":
            card = FeaturedCard(
                kind=kind,
                slug=r["slug"],
                title=title,
                image=safe_or_none(r["image"]),
                subtitle=pick(r["place_zh"], r["place_en"], lang),
                category=r["category"],
            )
        elif kind == "tour":
            images = list(r["images"] or [])
            card = FeaturedCard(
                kind=kind, slug=r["slug"], title=title, image=safe_or_none(images[0]) if images else None
            )
        elif kind == "exhibition":
            card = FeaturedCard(kind=kind, slug=r["slug"], title=title, image=safe_or_none(covers.get(r["id"])))
        else:
            card = FeaturedCard(kind=kind, slug=r["slug"], title=title, image=safe_or_none(r["image"]))
        out[r["slug"]] = card
    return out


async def public_lists(lang: Lang, limit: int = 10, offset: int = 0) -> FeaturedPage:
    """The published, due lists, the most recently published first, each item as a card in `lang`."""
    where = visible_now(FeaturedList, clock.now())
    total = await FeaturedList.count().where(where)
    rows = (
        await FeaturedList.select()
        .where(where)
        .order_by(FeaturedList.published_at, ascending=False)
        .order_by(FeaturedList.id, ascending=False)
        .limit(limit)
        .offset(offset)
    )
    lists = [(r, _decode_items(r["items"])) for r in rows]
    wanted: dict[str, set[str]] = {}
    for _, items in lists:
        for it in items:
            wanted.setdefault(it.kind, set()).add(it.slug)
    cards = {kind: await _cards(kind, slugs, lang) for kind, slugs in wanted.items()}
    out = []
    for r, items in lists:
        shown = []
        for it in items:
            card = cards.get(it.kind, {}).get(it.slug)
            if card is None:
                continue  # no longer public: left out
            note = pick(it.note.zh, it.note.en, lang) if it.note else ""
            shown.append(msgspec.structs.replace(card, note=note) if note else card)
        out.append(
            FeaturedOut(
                slug=r["slug"],
                title=pick(r["title_zh"], r["title_en"], lang),
                items=shown,
                published_at=r["published_at"] or r["publish_at"],
            )
        )
    return FeaturedPage(items=out, total=total)


# ---- content/featured.toml ----


class FeaturedContent(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    title: Title
    items: list[FeaturedItemIn]
    published_at: datetime | None = None


class FeaturedLoadReport(msgspec.Struct):
    created: int
    updated: int
    unchanged: int


def parse_featured_content(raw: list[dict[str, Any]]) -> list[FeaturedContent]:
    return msgspec.convert(raw, type=list[FeaturedContent], strict=False)


async def load_featured(items: list[FeaturedContent]) -> FeaturedLoadReport:
    """Upsert by slug, published as they load (after the items they name). A re-run changes nothing."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    existing = {
        r["slug"]: r for r in await FeaturedList.select(FeaturedList.id, FeaturedList.slug, FeaturedList.content_hash)
    }
    for item in items:
        await check_items(item.items)
        columns: dict[str, Any] = {"slug": item.slug, "items": _items_json(item.items), **_title_columns(item.title)}
        digest = hashlib.sha256(msgspec.json.encode(columns, order="sorted")).hexdigest()
        current = existing.get(item.slug)
        now = clock.now()
        if current is None:
            await FeaturedList.insert(
                FeaturedList(
                    **columns,
                    content_hash=digest,
                    status="published",
                    published_at=item.published_at or now,
                    updated_at=now,
                )
            )
            counts["created"] += 1
        elif current["content_hash"] != digest:
            await FeaturedList.update(
                {
                    FeaturedList.title_zh: columns["title_zh"],
                    FeaturedList.title_en: columns["title_en"],
                    FeaturedList.items: columns["items"],
                    FeaturedList.content_hash: digest,
                    FeaturedList.updated_at: now,
                }
            ).where(FeaturedList.id == current["id"])
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return FeaturedLoadReport(**counts)
