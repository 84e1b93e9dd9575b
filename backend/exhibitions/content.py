"""Exhibitions as content: the YAML entries checked against their images, then loaded (upserted by slug,
unchanged content not written). Images are PNGs rendered beside the content; audio is optional."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path
from typing import Any

import msgspec

from backend.exhibitions.schemas import ExhibitionContent, LoadReport
from backend.exhibitions.tables import Exhibition, ExhibitionItem
from backend.lib.clock import clock

IMAGE_DIR = "media/exhibitions"  # under the content directory, served at /media/exhibitions
AUDIO_DIR = "media/audio/exhibitions"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(f"{path} is not a PNG")
    return struct.unpack(">II", head[16:24])


def parse_exhibition_content(raw: list[dict[str, Any]], content_dir: Path) -> list[ExhibitionContent]:
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
    now = clock.now()
    existing = {r["slug"]: r for r in await Exhibition.select(Exhibition.id, Exhibition.slug, Exhibition.content_hash)}
    created = updated = unchanged = 0
    for order, ex in enumerate(items):
        columns: dict[str, Any] = {
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
        rows: list[dict[str, Any]] = []
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
