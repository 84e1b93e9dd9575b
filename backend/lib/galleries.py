"""Galleries: the ordered library photos a venue, event, article, tour or exhibition shows.

The photos live in the media room (backend/media/library.py), which is on the same floor as venues and
below the other rooms; so the public side asks through this hook, which `create_app` connects to the
media library (`configure`). Until it is connected (a script, a test of one room) every gallery is empty.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import msgspec

from backend.lib.i18n import Lang

# `gallery` in the publishing bodies: library photo ids in the order shown (unknown ids: 400 `unknown_photo`)
GalleryIds = Annotated[list[Annotated[str, msgspec.Meta(max_length=64)]], msgspec.Meta(max_length=30)]


class GalleryPhoto(msgspec.Struct, omit_defaults=True):
    """One photo of a public gallery: `url` (WebP, 640 px or narrower), `srcset`s by format over `widths`
    (never wider than the upload), `alt` in the request's language, the photographer's `credit`, a tiny
    blurred `placeholder` (a data: URI) to show until it loads, and its `width` × `height`."""

    id: str
    url: str
    srcset: str
    srcset_jpeg: str
    widths: list[int]
    alt: str
    credit: str
    placeholder: str
    width: int
    height: int
    srcset_avif: str | None = None


Source = Callable[[str, str, Lang], Awaitable[list[GalleryPhoto]]]

_source: Source | None = None


def configure(source: Source | None) -> None:
    global _source
    _source = source


async def gallery(kind: str, slug: str, lang: Lang) -> list[GalleryPhoto]:
    """The gallery of the item `slug` of `kind` (venues, events, articles, tours, exhibitions)."""
    if _source is None:
        return []
    return await _source(kind, slug, lang)


S = TypeVar("S", bound=msgspec.Struct)


def with_gallery(out: S, photos: list[GalleryPhoto]) -> S:
    """A copy of the public shape `out` with its `gallery` (the shape itself may be a cached object)."""
    if not photos:
        return out
    return msgspec.structs.replace(out, gallery=photos)
