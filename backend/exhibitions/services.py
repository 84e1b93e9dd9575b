"""Cloud exhibitions (云看展): public reading and the shapes the publishing admin needs.

The IIIF Presentation 3.0 Manifest is built in `manifests`; content loading (YAML, images) is in `content`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from piccolo.columns.combination import Or

from backend.exhibitions.image_service import identifier_for, service_path
from backend.exhibitions.manifests import build_manifest, manifest_path
from backend.exhibitions.schemas import (
    ExhibitionAdmin,
    ExhibitionAdminItem,
    ExhibitionOut,
    ItemOut,
    SectionOut,
)
from backend.exhibitions.tables import Exhibition, ExhibitionItem
from backend.lib.clock import clock
from backend.lib.content_urls import is_safe_url
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import NotFound
from backend.lib.publication import visible_now


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _audio(row: dict[str, Any], lang: Lang) -> tuple[str | None, str | None]:
    for candidate in (lang, "en" if lang == "zh" else "zh"):
        if row.get(f"audio_{candidate}"):
            return row[f"audio_{candidate}"], candidate
    return None, None


class ExhibitionService:
    def _visible(self, now: datetime | None) -> Or:
        return visible_now(Exhibition, now or clock.now())

    async def _row(self, slug: str, now: datetime | None) -> dict[str, Any]:
        row = await Exhibition.select().where((Exhibition.slug == slug) & self._visible(now)).first()
        if row is None:
            raise NotFound("exhibition_not_found", f"no published exhibition {slug!r}")
        return row

    async def _items(self, exhibition_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        if not exhibition_ids:
            return {}
        rows = (
            await ExhibitionItem.select()
            .where(ExhibitionItem.exhibition.is_in(exhibition_ids))
            .order_by(ExhibitionItem.position)
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for row in rows:
            out.setdefault(row["exhibition"], []).append(row)
        return out

    def _out(
        self, row: dict[str, Any], items: list[dict[str, Any]], lang: Lang, detail: bool, base_url: str = ""
    ) -> ExhibitionOut:
        sections = msgspec.json.decode(row["sections"])
        return ExhibitionOut(
            slug=row["slug"],
            title=pick(row["title_zh"], row["title_en"], lang),
            summary=pick(row["summary_zh"], row["summary_en"], lang),
            attribution=pick(row["attribution_zh"], row["attribution_en"], lang),
            rights=row["rights"] if is_safe_url(row["rights"]) else "",  # a row stored before the rule
            manifest_url=base_url + manifest_path(row["slug"]),
            cover=items[0]["image"] if items else "",
            item_count=len(items),
            sections=[SectionOut(key=s["key"], label=pick(s["label"]["zh"], s["label"]["en"], lang)) for s in sections],
            items=[self._item_out(row["slug"], i, lang, base_url) for i in items] if detail else None,
            venue_slug=row["venue_slug"],
        )

    def _item_out(self, slug: str, item: dict[str, Any], lang: Lang, base_url: str) -> ItemOut:
        audio_url, audio_lang = _audio(item, lang)
        identifier = identifier_for(item["image"])
        return ItemOut(
            key=item["key"],
            label=pick(item["label_zh"], item["label_en"], lang),
            date=pick(item["date_zh"], item["date_en"], lang),
            commentary=pick(item["commentary_zh"], item["commentary_en"], lang),
            section=item["section"],
            image=item["image"],
            width=item["width"],
            height=item["height"],
            canvas_id=f"{base_url}/api/v1/exhibitions/{slug}/canvas/{item['key']}",
            image_service=base_url + service_path(identifier) if identifier else None,
            audio_url=audio_url,
            audio_lang=audio_lang,
        )

    async def list(self, lang: Lang, base_url: str, limit: int = 20, offset: int = 0) -> Page[ExhibitionOut]:
        visible = self._visible(None)
        total = await Exhibition.count().where(visible)
        rows = (
            await Exhibition.select()
            .where(visible)
            .order_by(Exhibition.sort_order)
            .order_by(Exhibition.slug)
            .limit(limit)
            .offset(offset)
        )
        items = await self._items([r["id"] for r in rows])
        return Page(items=[self._out(r, items.get(r["id"], []), lang, False, base_url) for r in rows], total=total)

    async def get(self, slug: str, lang: Lang, base_url: str) -> ExhibitionOut:
        row = await self._row(slug, None)
        items = (await self._items([row["id"]])).get(row["id"], [])
        return self._out(row, items, lang, True, base_url)

    async def manifest(self, slug: str, base_url: str) -> dict[str, Any]:
        row = await self._row(slug, None)
        items = (await self._items([row["id"]])).get(row["id"], [])
        return build_manifest(row, items, base_url)


exhibitions = ExhibitionService()


# ---- the publishing admin's view (for the /admin/exhibitions registry) ----

LOCALISED_FIELDS = ("title", "summary", "attribution")  # <field>_zh / <field>_en; items: label, date, commentary


def exhibition_admin_shape(row: dict[str, Any], items: list[dict[str, Any]]) -> ExhibitionAdmin:
    """An exhibitions row (any state) and its item rows in the admin shape: localised fields as {zh, en}."""
    return ExhibitionAdmin(
        id=row["id"],
        slug=row["slug"],
        title={"zh": row["title_zh"], "en": row["title_en"]},
        summary={"zh": row["summary_zh"], "en": row["summary_en"]},
        attribution={"zh": row["attribution_zh"], "en": row["attribution_en"]},
        rights=row["rights"],
        venue_slug=row["venue_slug"],
        sections=msgspec.json.decode(row["sections"]),
        items=[
            ExhibitionAdminItem(
                key=i["key"],
                section=i["section"],
                label={"zh": i["label_zh"], "en": i["label_en"]},
                date={"zh": i["date_zh"], "en": i["date_en"]},
                commentary={"zh": i["commentary_zh"], "en": i["commentary_en"]},
                image=i["image"],
                width=i["width"],
                height=i["height"],
            )
            for i in items
        ],
        status=row["status"],
        publish_at=_iso(row["publish_at"]),
        published_at=_iso(row["published_at"]),
        updated_at=_iso(row["updated_at"]),
    )


async def exhibition_admin(exhibition_id: int) -> ExhibitionAdmin:
    """One exhibition (any state) in the admin shape."""
    row = await Exhibition.select().where(Exhibition.id == exhibition_id).first()
    if row is None:
        raise NotFound("exhibition_not_found", f"no exhibition {exhibition_id}")
    return exhibition_admin_shape(row, (await exhibitions._items([exhibition_id])).get(exhibition_id, []))


def exhibition_public(
    row: dict[str, Any], items: list[dict[str, Any]], lang: Lang, base_url: str = ""
) -> ExhibitionOut:
    """An exhibitions row (+ its item rows) in the public detail shape."""
    return exhibitions._out(row, items, lang, True, base_url)
