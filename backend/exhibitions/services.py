"""Cloud exhibitions (云看展): public reading, the IIIF Presentation 3.0 Manifest, content loading, and
the shapes the publishing admin needs.

The Manifest follows https://iiif.io/api/presentation/3.0/: language maps ("zh-Hans", "en") for
label/summary/metadata/requiredStatement, one Canvas per item sized like its image, the image as the
body of a `painting` Annotation, the item's commentary as `commenting` Annotations in the Canvas's
`annotations`, the exhibition's sections as `structures` Ranges, and `rights` from the CC /
RightsStatements.org vocabularies. Ids are absolute URLs under the serving origin.
"""

from __future__ import annotations

import hashlib
import struct
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from backend.exhibitions.schemas import (
    ExhibitionAdmin,
    ExhibitionAdminItem,
    ExhibitionContent,
    ExhibitionOut,
    ItemOut,
    LoadReport,
    SectionOut,
)
from backend.exhibitions.tables import Exhibition, ExhibitionItem
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import NotFound
from backend.lib.publication import visible_now

IMAGE_DIR = "media/exhibitions"  # under the content directory, served at /media/exhibitions
AUDIO_DIR = "media/audio/exhibitions"
IIIF_CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IIIF_LANG = {"zh": "zh-Hans", "en": "en"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _audio(row: dict, lang: Lang) -> tuple[str | None, str | None]:
    for candidate in (lang, "en" if lang == "zh" else "zh"):
        if row.get(f"audio_{candidate}"):
            return row[f"audio_{candidate}"], candidate
    return None, None


def manifest_path(slug: str) -> str:
    return f"/api/v1/exhibitions/{slug}/manifest.json"


def _lang_map(zh: str, en: str) -> dict[str, list[str]]:
    out = {}
    if zh:
        out[IIIF_LANG["zh"]] = [zh]
    if en:
        out[IIIF_LANG["en"]] = [en]
    return out


class ExhibitionService:
    def _visible(self, now: datetime | None):  # noqa: ANN202 - a Piccolo Where
        return visible_now(Exhibition, now or datetime.now(UTC))

    async def _row(self, slug: str, now: datetime | None) -> dict:
        row = await Exhibition.select().where((Exhibition.slug == slug) & self._visible(now)).first()
        if row is None:
            raise NotFound("exhibition_not_found", f"no published exhibition {slug!r}")
        return row

    async def _items(self, exhibition_ids: list[int]) -> dict[int, list[dict]]:
        if not exhibition_ids:
            return {}
        rows = (
            await ExhibitionItem.select()
            .where(ExhibitionItem.exhibition.is_in(exhibition_ids))
            .order_by(ExhibitionItem.position)
        )
        out: dict[int, list[dict]] = {}
        for row in rows:
            out.setdefault(row["exhibition"], []).append(row)
        return out

    def _out(self, row: dict, items: list[dict], lang: Lang, detail: bool, base_url: str = "") -> ExhibitionOut:
        sections = msgspec.json.decode(row["sections"])
        return ExhibitionOut(
            slug=row["slug"],
            title=pick(row["title_zh"], row["title_en"], lang),
            summary=pick(row["summary_zh"], row["summary_en"], lang),
            attribution=pick(row["attribution_zh"], row["attribution_en"], lang),
            rights=row["rights"],
            manifest_url=base_url + manifest_path(row["slug"]),
            cover=items[0]["image"] if items else "",
            item_count=len(items),
            sections=[SectionOut(key=s["key"], label=pick(s["label"]["zh"], s["label"]["en"], lang)) for s in sections],
            items=[self._item_out(row["slug"], i, lang, base_url) for i in items] if detail else None,
            venue_slug=row["venue_slug"],
        )

    def _item_out(self, slug: str, item: dict, lang: Lang, base_url: str) -> ItemOut:
        audio_url, audio_lang = _audio(item, lang)
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

    async def manifest(self, slug: str, base_url: str) -> dict:
        row = await self._row(slug, None)
        items = (await self._items([row["id"]])).get(row["id"], [])
        return build_manifest(row, items, base_url)


exhibitions = ExhibitionService()


def build_manifest(row: dict, items: list[dict], base_url: str) -> dict:
    """An exhibitions row and its item rows as a IIIF Presentation 3.0 Manifest (a JSON-ready dict)."""
    slug = row["slug"]
    base = f"{base_url}/api/v1/exhibitions/{slug}"
    canvases = []
    for item in items:
        canvas_id = f"{base}/canvas/{item['key']}"
        image = {
            "id": base_url + item["image"],
            "type": "Image",
            "format": "image/png" if item["image"].endswith(".png") else "image/jpeg",
            "width": item["width"],
            "height": item["height"],
        }
        commentary = [
            {
                "id": f"{canvas_id}/commentary/{lang}",
                "type": "Annotation",
                "motivation": "commenting",
                "body": {
                    "type": "TextualBody",
                    "language": IIIF_LANG[lang],
                    "format": "text/plain",
                    "value": item[f"commentary_{lang}"],
                },
                "target": canvas_id,
            }
            for lang in ("zh", "en")
            if item[f"commentary_{lang}"]
        ]
        canvas = {
            "id": canvas_id,
            "type": "Canvas",
            "label": _lang_map(item["label_zh"], item["label_en"]),
            "height": item["height"],
            "width": item["width"],
            "thumbnail": [image],
            "items": [
                {
                    "id": f"{canvas_id}/page",
                    "type": "AnnotationPage",
                    "items": [
                        {
                            "id": f"{canvas_id}/painting",
                            "type": "Annotation",
                            "motivation": "painting",
                            "body": image,
                            "target": canvas_id,
                        }
                    ],
                }
            ],
            "annotations": [{"id": f"{canvas_id}/commentary", "type": "AnnotationPage", "items": commentary}],
        }
        if item["date_zh"] or item["date_en"]:
            canvas["metadata"] = [
                {"label": _lang_map("年代", "Date"), "value": _lang_map(item["date_zh"], item["date_en"])}
            ]
        canvases.append(canvas)
    sections = msgspec.json.decode(row["sections"])
    structures = []
    for section in sections:
        members = [c for c, i in zip(canvases, items, strict=True) if i["section"] == section["key"]]
        if members:
            structures.append(
                {
                    "id": f"{base}/range/{section['key']}",
                    "type": "Range",
                    "label": _lang_map(section["label"]["zh"], section["label"]["en"]),
                    "items": [{"id": c["id"], "type": "Canvas"} for c in members],
                }
            )
    manifest = {
        "@context": IIIF_CONTEXT,
        "id": base_url + manifest_path(slug),
        "type": "Manifest",
        "label": _lang_map(row["title_zh"], row["title_en"]),
        "summary": _lang_map(row["summary_zh"], row["summary_en"]),
        "requiredStatement": {
            "label": _lang_map("出处", "Attribution"),
            "value": _lang_map(row["attribution_zh"], row["attribution_en"]),
        },
        "rights": row["rights"],
        "viewingDirection": "left-to-right",
        "homepage": [
            {
                "id": f"{base_url}/exhibitions/{slug}",
                "type": "Text",
                "label": _lang_map(row["title_zh"], row["title_en"]),
                "format": "text/html",
            }
        ],
        "provider": [
            {
                "id": f"{base_url}/",
                "type": "Agent",
                "label": _lang_map("常享 · 常州文旅", "Changxiang, Changzhou culture and tourism"),
            }
        ],
        "items": canvases,
    }
    if canvases:
        manifest["thumbnail"] = canvases[0]["thumbnail"]
    if structures:
        manifest["structures"] = structures
    return manifest


# ---- the publishing admin's view (for the /admin/exhibitions registry) ----

LOCALISED_FIELDS = ("title", "summary", "attribution")  # <field>_zh / <field>_en; items: label, date, commentary


def exhibition_admin_shape(row: dict, items: list[dict]) -> ExhibitionAdmin:
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


def exhibition_public(row: dict, items: list[dict], lang: Lang, base_url: str = "") -> ExhibitionOut:
    """An exhibitions row (+ its item rows) in the public detail shape."""
    return exhibitions._out(row, items, lang, True, base_url)


# ---- content loading ----


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def parse_exhibition_content(raw: list[dict], content_dir: Path) -> list[ExhibitionContent]:
    items: list[ExhibitionContent] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, ExhibitionContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"exhibition {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"exhibition {label}: duplicate slug")
        seen.add(item.slug)
        keys = [i.key for i in item.item]
        if len(set(keys)) != len(keys):
            raise ValueError(f"exhibition {label}: duplicate item key")
        section_keys = {s.key for s in item.sections}
        for it in item.item:
            if it.section is not None and it.section not in section_keys:
                raise ValueError(f"exhibition {label}: item {it.key} names unknown section {it.section}")
            if not (content_dir / IMAGE_DIR / item.slug / f"{it.key}.png").is_file():
                raise ValueError(f"exhibition {label}: image for {it.key} is missing (render_images.py)")
        items.append(item)
    return items


async def load_exhibitions(items: list[ExhibitionContent], content_dir: Path) -> LoadReport:
    """Upsert by slug; unchanged content is not written; new exhibitions load as `published`."""
    now = datetime.now(UTC)
    existing = {r["slug"]: r for r in await Exhibition.select(Exhibition.id, Exhibition.slug, Exhibition.content_hash)}
    created = updated = unchanged = 0
    for order, ex in enumerate(items):
        columns = {
            "slug": ex.slug,
            "venue_slug": ex.venue_slug,
            "title_zh": ex.title.zh,
            "title_en": ex.title.en,
            "summary_zh": ex.summary.zh.strip(),
            "summary_en": ex.summary.en.strip(),
            "attribution_zh": ex.attribution.zh.strip(),
            "attribution_en": ex.attribution.en.strip(),
            "rights": ex.rights,
            "sections": msgspec.json.encode(ex.sections).decode(),
            "sort_order": order,
        }
        rows = []
        for position, it in enumerate(ex.item, 1):
            image = content_dir / IMAGE_DIR / ex.slug / f"{it.key}.png"
            width, height = png_size(image)
            audio = {
                lang: f"/{AUDIO_DIR}/{ex.slug}.{it.key}.{lang}.opus"
                for lang in ("zh", "en")
                if (content_dir / AUDIO_DIR / f"{ex.slug}.{it.key}.{lang}.opus").is_file()
            }
            rows.append(
                {
                    "position": position,
                    "key": it.key,
                    "section": it.section,
                    "label_zh": it.label.zh,
                    "label_en": it.label.en,
                    "date_zh": it.date.zh if it.date else "",
                    "date_en": it.date.en if it.date else "",
                    "commentary_zh": it.commentary.zh.strip(),
                    "commentary_en": it.commentary.en.strip(),
                    "image": f"/{IMAGE_DIR}/{ex.slug}/{it.key}.png",
                    "width": width,
                    "height": height,
                    "audio_zh": audio.get("zh"),
                    "audio_en": audio.get("en"),
                }
            )
        digest = hashlib.sha256(msgspec.json.encode({"e": columns, "i": rows}, order="sorted")).hexdigest()
        current = existing.get(ex.slug)
        if current is not None and current["content_hash"] == digest:
            unchanged += 1
            continue
        if current is None:
            ex_id = (
                await Exhibition.insert(
                    Exhibition(**columns, content_hash=digest, status="published", published_at=now, updated_at=now)
                ).returning(Exhibition.id)
            )[0]["id"]
            created += 1
        else:
            ex_id = current["id"]
            values = {getattr(Exhibition, k): v for k, v in columns.items()}
            await Exhibition.update({**values, Exhibition.content_hash: digest, Exhibition.updated_at: now}).where(
                Exhibition.id == ex_id
            )
            await ExhibitionItem.delete().where(ExhibitionItem.exhibition == ex_id)
            updated += 1
        await ExhibitionItem.insert(*[ExhibitionItem(exhibition=ex_id, **r) for r in rows])
    return LoadReport(created=created, updated=updated, unchanged=unchanged)
