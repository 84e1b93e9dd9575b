"""The marketers' photo library (issue 21): photos with alt text in both languages and a credit, their
responsive variants, and the galleries of venues, events, articles, tours and exhibitions.

- An upload goes through the same inspection as every upload (inspection.py: sniffed by content, JPEG,
  PNG or WebP only here, ≤ 5 MB, re-encoded without EXIF/GPS), off the event loop; a 16 px wide blurred
  WebP is kept as its `placeholder` (a data: URI, a few hundred bytes).
- Variants: `/media/p/{id}/{width}.{webp|avif|jpg}` at the picture widths (320, 640, 960, 1280) below the
  photo's own width, plus its own width when narrower than 1280 (never upscaled); AVIF only when this
  Pillow build encodes it. Made off the event loop on first request, once however many ask, kept on disk
  under `CHANGXIANG_MEDIA_CACHE_DIR/photos/`. A photo's bytes never change, so its URLs are immutable and
  served with a year's cache lifetime.
- Library photos are public by their (unguessable) URL: they are made to be published. Listing,
  uploading, editing and deleting are for marketers and admins (controllers.py).
- A gallery is an ordered list of photo ids per item (`kind`, slug); a photo in a gallery cannot be
  deleted (409 `photo_in_use`).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from piccolo.columns import Varchar
from piccolo.custom_types import Combinable

from backend.lib import offload
from backend.lib.clock import clock
from backend.lib.db import is_sqlite, write_transaction
from backend.lib.galleries import GalleryPhoto
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.lib.web_shell import PICTURE_WIDTHS
from backend.media.inspection import IMAGE_FORMATS, UnsupportedType, clean
from backend.media.schemas import AltText, GalleryOut, GalleryRef, PhotoOut
from backend.media.services import media
from backend.media.tables import GalleryEntry, Photo

log = logging.getLogger("changxiang.media")

MAX_ALT = 300
MAX_CREDIT = 200
MAX_GALLERY = 30
GALLERY_KINDS = ("venues", "events", "articles", "tours", "exhibitions")
PHOTO_URL = "/media/p/{id}/{width}.{ext}"
IMMUTABLE = "public, max-age=31536000, immutable"
FORMATS = {"webp": "image/webp", "avif": "image/avif", "jpg": "image/jpeg"}
PLACEHOLDER_WIDTH = 16


def avif_supported() -> bool:
    from PIL import features

    return bool(features.check("avif"))


def formats() -> tuple[str, ...]:
    return ("webp", "avif", "jpg") if avif_supported() else ("webp", "jpg")


def widths_for(width: int) -> list[int]:
    """The variant widths of a photo `width` px wide: never wider than itself."""
    below = [w for w in PICTURE_WIDTHS if w < width]
    return [*below, min(width, PICTURE_WIDTHS[-1])]


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return None


def _text(value: Any, field: str, limit: int, missing: str, too_long: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(missing, f"{field} is required", field=field)
    if len(text) > limit:
        raise InvalidInput(too_long, f"{field} is at most {limit} characters", field=field)
    return text


def check_alt(zh: Any, en: Any) -> tuple[str, str]:
    return (
        _text(zh, "alt.zh", MAX_ALT, "alt_required", "alt_too_long"),
        _text(en, "alt.en", MAX_ALT, "alt_required", "alt_too_long"),
    )


def check_credit(value: Any) -> str:
    return _text(value, "credit", MAX_CREDIT, "credit_required", "credit_too_long")


def placeholder(data: bytes) -> str:
    """A 16 px wide, blurred WebP of the image, as a data: URI."""
    from PIL import Image, ImageFilter

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        small = image.convert("RGB")
    height = max(1, round(small.height * PLACEHOLDER_WIDTH / small.width))
    small = small.resize((PLACEHOLDER_WIDTH, height), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))
    out = io.BytesIO()
    small.save(out, "WEBP", quality=40)
    return "data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _clean_photo(data: bytes) -> tuple[Any, str]:
    cleaned = clean(data)
    if cleaned.kind != "image" or cleaned.content_type not in IMAGE_FORMATS:
        raise UnsupportedType("unsupported_file_type", "photos must be JPEG, PNG or WebP")
    return cleaned, placeholder(cleaned.data)


def make_photo_variant(data: bytes, dst: Path, width: int, ext: str) -> None:
    """`data` scaled to `width` px wide (never up) in format `ext`, written atomically to `dst`."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        image.load()
        alpha = image.mode in ("RGBA", "LA", "P") and ext != "jpg"
        picture = image.convert("RGBA" if alpha else "RGB")
    if picture.width > width:
        picture = picture.resize((width, round(picture.height * width / picture.width)), Image.Resampling.LANCZOS)
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    if ext == "webp":
        picture.save(tmp, "WEBP", quality=78, method=4)
    elif ext == "avif":
        picture.save(tmp, "AVIF", quality=55, speed=8)
    else:
        picture.save(tmp, "JPEG", quality=82, optimize=True, progressive=True)
    os.replace(tmp, dst)


def srcset(public_id: str, widths: Sequence[int], ext: str) -> str:
    return ", ".join(f"{PHOTO_URL.format(id=public_id, width=w, ext=ext)} {w}w" for w in widths)


def _sources(row: dict[str, Any]) -> dict[str, Any]:
    public_id = str(row["public_id"])
    widths = widths_for(row["width"])
    main = max((w for w in widths if w <= 640), default=widths[0])
    return {
        "url": PHOTO_URL.format(id=public_id, width=main, ext="webp"),
        "srcset": srcset(public_id, widths, "webp"),
        "srcset_jpeg": srcset(public_id, widths, "jpg"),
        "srcset_avif": srcset(public_id, widths, "avif") if avif_supported() else None,
        "widths": widths,
    }


def photo_out(row: dict[str, Any], used_by: list[GalleryRef]) -> PhotoOut:
    return PhotoOut(
        id=str(row["public_id"]),
        alt=AltText(zh=row["alt_zh"], en=row["alt_en"]),
        credit=row["credit"],
        width=row["width"],
        height=row["height"],
        bytes=row["bytes"],
        content_type=row["content_type"],
        placeholder=row["placeholder"],
        used_by=used_by,
        created_at=row["created_at"],
        **_sources(row),
    )


def gallery_photo(row: dict[str, Any], lang: Lang) -> GalleryPhoto:
    return GalleryPhoto(
        id=str(row["public_id"]),
        alt=pick(row["alt_zh"], row["alt_en"], lang),
        credit=row["credit"],
        placeholder=row["placeholder"],
        width=row["width"],
        height=row["height"],
        **_sources(row),
    )


ItemCheck = Callable[[str, str], Awaitable[bool]]


class PhotoLibrary:
    def __init__(self) -> None:
        # does the item (kind, slug) exist? create_app connects the venues and the publishing kinds
        self._item_exists: ItemCheck | None = None

    def configure(self, item_exists: ItemCheck) -> None:
        self._item_exists = item_exists

    # ---- photos

    def check_texts(self, alt_zh: Any, alt_en: Any, credit: Any) -> None:
        """The alt text and credit, checked before the file is read."""
        check_alt(alt_zh, alt_en)
        check_credit(credit)

    async def upload(self, owner_id: int, data: bytes, alt_zh: Any, alt_en: Any, credit: Any) -> PhotoOut:
        zh, en = check_alt(alt_zh, alt_en)
        who = check_credit(credit)
        cleaned, tiny = await offload.cpu(_clean_photo, data)
        public_id = uuid.uuid4()
        key = f"photos/{clock.now().strftime('%Y/%m')}/{public_id.hex}"
        await media.storage.put(key, cleaned.data)
        row: dict[str, Any] = {
            "public_id": public_id,
            "owner_id": owner_id,
            "alt_zh": zh,
            "alt_en": en,
            "credit": who,
            "content_type": cleaned.content_type,
            "bytes": len(cleaned.data),
            "width": cleaned.width,
            "height": cleaned.height,
            "sha256": hashlib.sha256(cleaned.data).hexdigest(),
            "storage_key": key,
            "placeholder": tiny,
            "created_at": clock.now(),
        }
        await Photo.insert(Photo(**row))
        log.info("library photo stored", extra={"photo": str(public_id), "bytes": row["bytes"]})
        return photo_out(row, [])

    async def _photo_row(self, photo_id: str) -> dict[str, Any]:
        key = _uuid(photo_id)
        row = await Photo.select().where(Photo.public_id == key).first() if key else None
        if row is None:
            raise NotFound("photo_not_found", "no such photo")
        return row

    async def _uses(self, keys: Sequence[uuid.UUID]) -> dict[str, list[GalleryRef]]:
        if not keys:
            return {}
        rows = await GalleryEntry.select().where(GalleryEntry.photo_id.is_in(list(keys))).order_by(GalleryEntry.id)
        out: dict[str, list[GalleryRef]] = {}
        for r in rows:
            out.setdefault(str(r["photo_id"]), []).append(GalleryRef(kind=r["kind"], slug=r["item"]))
        return out

    async def get(self, photo_id: str) -> PhotoOut:
        row = await self._photo_row(photo_id)
        uses = await self._uses([row["public_id"]])
        return photo_out(row, uses.get(str(row["public_id"]), []))

    async def search(self, q: str | None, limit: int, offset: int) -> tuple[list[PhotoOut], int]:
        """Newest first; `q` matches the alt text (either language) or the credit."""
        query = Photo.select()
        count = Photo.count()
        if q and q.strip():
            term = "%" + q.strip().replace("%", "").replace("_", "") + "%"
            where: Combinable = _like(Photo.alt_zh, term) | _like(Photo.alt_en, term) | _like(Photo.credit, term)
            query = query.where(where)
            count = count.where(where)
        rows = await query.order_by(Photo.id, ascending=False).limit(limit).offset(offset)
        uses = await self._uses([r["public_id"] for r in rows])
        return [photo_out(r, uses.get(str(r["public_id"]), [])) for r in rows], await count

    async def edit(self, photo_id: str, alt_zh: Any, alt_en: Any, credit: Any) -> PhotoOut:
        row = await self._photo_row(photo_id)
        values: dict[Any, Any] = {}
        if alt_zh is not None or alt_en is not None:
            zh, en = check_alt(row["alt_zh"] if alt_zh is None else alt_zh, row["alt_en"] if alt_en is None else alt_en)
            values.update({Photo.alt_zh: zh, Photo.alt_en: en})
        if credit is not None:
            values[Photo.credit] = check_credit(credit)
        if not values:
            raise InvalidInput("empty_patch", "nothing to change")
        await Photo.update(values).where(Photo.id == row["id"])
        return await self.get(photo_id)

    async def delete(self, photo_id: str, cache_dir: Path) -> None:
        """A photo in a gallery stays (409 `photo_in_use`): take it out of the galleries first."""
        row = await self._photo_row(photo_id)
        uses = (await self._uses([row["public_id"]])).get(str(row["public_id"]), [])
        if uses:
            where = ", ".join(f"{u.kind}/{u.slug}" for u in uses)
            raise Conflict("photo_in_use", f"the photo is in the gallery of {where}", used_by=[u.slug for u in uses])
        await Photo.delete().where(Photo.id == row["id"])
        await media.storage.delete(row["storage_key"])
        await offload.cpu(_remove_variants, cache_dir / "photos" / row["public_id"].hex)

    # ---- variants

    async def variant(self, photo_id: str, name: str, cache_dir: Path) -> tuple[Path, str] | None:
        """The file of `name` (`{width}.{ext}`) of the photo and its media type, made if missing; None
        when there is no such photo, width or format."""
        key = _uuid(photo_id)
        stem, _, ext = name.partition(".")
        if key is None or ext not in formats() or not stem.isdigit() or len(stem) > 5:
            return None
        width = int(stem)
        dst = cache_dir / "photos" / key.hex / f"{width}.{ext}"
        if dst.is_file():
            return dst, FORMATS[ext]
        row = await Photo.select(Photo.width, Photo.storage_key).where(Photo.public_id == key).first()
        if row is None or width not in widths_for(row["width"]):
            return None
        lost = False

        async def make() -> None:
            nonlocal lost
            data = await media.storage.get(row["storage_key"])
            if data is None:  # the original is gone from storage
                lost = True
                return
            await offload.cpu(make_photo_variant, data, dst, width, ext)

        await offload.make_once(str(dst), dst.is_file, make)
        return None if lost else (dst, FORMATS[ext])

    # ---- galleries

    async def check_ids(self, ids: Sequence[str], field: str = "gallery") -> list[str]:
        """`ids` (in order, without repeats) if each names a library photo; else 400 `unknown_photo`."""
        keys = list(dict.fromkeys(_uuid(i) for i in ids))
        if None in keys:
            raise InvalidInput("unknown_photo", "a gallery id is not a library photo", field=field)
        if len(keys) > MAX_GALLERY:
            raise InvalidInput("gallery_too_long", f"a gallery holds at most {MAX_GALLERY} photos", field=field)
        if keys:
            found = await Photo.select(Photo.public_id).where(Photo.public_id.is_in(keys))
            if len(found) != len(keys):
                raise InvalidInput("unknown_photo", "a gallery id is not a library photo", field=field)
        return [str(k) for k in keys]

    async def ids(self, kind: str, slug: str) -> list[str]:
        rows = (
            await GalleryEntry.select(GalleryEntry.photo_id)
            .where((GalleryEntry.kind == kind) & (GalleryEntry.item == slug))
            .order_by(GalleryEntry.position)
        )
        return [str(r["photo_id"]) for r in rows]

    async def set_gallery(self, kind: str, slug: str, ids: Sequence[str]) -> list[str]:
        """Replace the item's gallery by the photos `ids` (checked), in that order."""
        checked = await self.check_ids(ids)
        async with write_transaction():
            await GalleryEntry.delete().where((GalleryEntry.kind == kind) & (GalleryEntry.item == slug))
            if checked:
                await GalleryEntry.insert(
                    *(
                        GalleryEntry(kind=kind, item=slug, position=i, photo_id=uuid.UUID(pid))
                        for i, pid in enumerate(checked)
                    )
                )
        return checked

    async def put_gallery(self, kind: str, slug: str, ids: Sequence[str]) -> GalleryOut:
        """PUT /galleries/{kind}/{slug}: the item must exist (404 `item_not_found`)."""
        if kind not in GALLERY_KINDS:
            raise NotFound("unknown_kind", f"galleries are for {', '.join(GALLERY_KINDS)}")
        if self._item_exists is not None and not await self._item_exists(kind, slug):
            raise NotFound("item_not_found", f"no {kind} {slug!r}")
        return GalleryOut(kind=kind, slug=slug, photo_ids=await self.set_gallery(kind, slug, ids))

    async def get_gallery(self, kind: str, slug: str) -> GalleryOut:
        if kind not in GALLERY_KINDS:
            raise NotFound("unknown_kind", f"galleries are for {', '.join(GALLERY_KINDS)}")
        return GalleryOut(kind=kind, slug=slug, photo_ids=await self.ids(kind, slug))

    async def public_gallery(self, kind: str, slug: str, lang: Lang) -> list[GalleryPhoto]:
        """The gallery as the public sees it (lib/galleries.py's source)."""
        ids = await self.ids(kind, slug)
        if not ids:
            return []
        rows = await Photo.select().where(Photo.public_id.is_in([uuid.UUID(i) for i in ids]))
        by_id = {str(r["public_id"]): r for r in rows}
        return [gallery_photo(by_id[i], lang) for i in ids if i in by_id]


def _like(column: Varchar, term: str) -> Combinable:
    """Case-insensitive match: SQLite's LIKE ignores ASCII case already; PostgreSQL needs ILIKE."""
    return column.like(term) if is_sqlite() else column.ilike(term)


def _remove_variants(folder: Path) -> None:
    if folder.is_dir():
        for f in folder.iterdir():
            f.unlink(missing_ok=True)
        folder.rmdir()


library = PhotoLibrary()
