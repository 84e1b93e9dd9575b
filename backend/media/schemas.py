from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

UploadKind = Literal["image", "audio"]


class UploadOut(msgspec.Struct, omit_defaults=True):
    """POST /uploads → 201 (API.md, Help, complaints and SOS)."""

    id: str
    url: str
    content_type: str
    bytes: int
    kind: UploadKind
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


class StoredFile(msgspec.Struct, frozen=True):
    """An upload's bytes and how to serve them."""

    data: bytes
    content_type: str


# ---- the marketers' photo library (library.py)


class AltText(msgspec.Struct):
    zh: str
    en: str


class GalleryRef(msgspec.Struct):
    """An item whose gallery shows the photo."""

    kind: str
    slug: str


class PhotoOut(msgspec.Struct, omit_defaults=True):
    """A library photo (POST /photos → 201, GET /photos/{id}): `url` and the `srcset`s of its variants
    (WebP, JPEG, and AVIF where the server can encode it) over `widths`, its tiny `placeholder` (a data:
    URI), and the galleries it is in (`used_by`)."""

    id: str
    url: str
    srcset: str
    srcset_jpeg: str
    widths: list[int]
    alt: AltText
    credit: str
    width: int
    height: int
    bytes: int
    content_type: str
    placeholder: str
    used_by: list[GalleryRef]
    created_at: datetime
    srcset_avif: str | None = None


class AltPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    zh: str | None = None
    en: str | None = None


class PhotoPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    alt: AltPatch | None = None
    credit: str | None = None


class GalleryIn(msgspec.Struct, forbid_unknown_fields=True):
    """PUT /galleries/{kind}/{slug}: the photo ids in the order shown."""

    photo_ids: list[str]


class GalleryOut(msgspec.Struct):
    kind: str
    slug: str
    photo_ids: list[str]
