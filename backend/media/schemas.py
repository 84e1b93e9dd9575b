from __future__ import annotations

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
