from __future__ import annotations

from typing import Annotated

import msgspec

from backend.lib.galleries import GalleryPhoto

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]

# The rights URIs IIIF Presentation 3.0 allows: Creative Commons licences and RightsStatements.org, over
# https only (like every URL from content: backend/lib/content_urls.py).
RIGHTS_PATTERN = r"^(https://creativecommons\.org/(licenses|publicdomain)/[a-z0-9\-/.]+/|https://rightsstatements\.org/vocab/[A-Za-z\-]+/[0-9.]+/)\Z"
RightsUri = Annotated[str, msgspec.Meta(pattern=RIGHTS_PATTERN, max_length=200)]


class ItemOut(msgspec.Struct, omit_defaults=True):
    key: str
    label: str
    date: str
    commentary: str
    section: str | None
    image: str
    width: int
    height: int
    canvas_id: str
    image_service: str | None = None  # the picture's IIIF Image API 3.0 service (its info.json is at /info.json)
    audio_url: str | None = None
    audio_lang: str | None = None


class SectionOut(msgspec.Struct):
    key: str
    label: str


class ExhibitionOut(msgspec.Struct, omit_defaults=True):
    slug: str
    title: str
    summary: str
    attribution: str
    rights: str
    manifest_url: str
    cover: str
    item_count: int
    sections: list[SectionOut]
    items: list[ItemOut] | None = None  # the detail only
    venue_slug: str | None = None
    gallery: list[GalleryPhoto] = []  # library photos (issue 21), the detail only


# ---- content files (content/exhibitions/*.toml) ----


class Localised(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: Annotated[str, msgspec.Meta(min_length=1)]
    en: Annotated[str, msgspec.Meta(min_length=1)]


class SectionContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Slug
    label: Localised


class ItemContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    key: Slug
    label: Localised
    commentary: Localised
    date: Localised | None = None
    section: str | None = None


class ExhibitionContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    title: Localised
    summary: Localised
    attribution: Localised
    rights: RightsUri
    item: Annotated[list[ItemContent], msgspec.Meta(min_length=1)]
    sections: list[SectionContent] = []
    venue_slug: str | None = None


class LoadReport(msgspec.Struct):
    created: int
    updated: int
    unchanged: int


# ---- what the publishing admin (/admin/exhibitions) reads and writes: localised fields as {zh, en} ----


class ExhibitionAdminItem(msgspec.Struct):
    key: str
    section: str | None
    label: dict[str, str]
    date: dict[str, str]
    commentary: dict[str, str]
    image: str
    width: int
    height: int


class ExhibitionAdmin(msgspec.Struct):
    id: int
    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    attribution: dict[str, str]
    rights: str
    venue_slug: str | None
    sections: list[dict]
    items: list[ExhibitionAdminItem]
    status: str
    publish_at: str | None
    published_at: str | None
    updated_at: str | None
