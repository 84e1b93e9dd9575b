from __future__ import annotations

from typing import Annotated

import msgspec

from backend.lib.content_urls import SafeUrl
from backend.lib.galleries import GalleryPhoto
from backend.lib.geo import Point

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]
Narration = Annotated[str, msgspec.Meta(min_length=80)]


class PoiRef(msgspec.Struct):
    id: str
    name: str
    location: Point


class StopOut(msgspec.Struct, omit_defaults=True):
    order: int
    poi: PoiRef
    text: str
    images: list[str]
    audio_url: str | None = None  # in the asked language, else the other one
    audio_lang: str | None = None


class TourOut(msgspec.Struct, omit_defaults=True):
    slug: str
    title: str
    summary: str
    duration_min: int
    distance_m: float
    languages: list[str]  # languages of the text
    audio_languages: list[str]
    line: list[Point]  # the walking line, through every stop in order
    stops: list[StopOut]
    images: list[str]
    venue_slug: str | None = None
    gallery: list[GalleryPhoto] = []  # library photos (issue 21), on the tour page only


class TourOnPoi(msgspec.Struct):
    slug: str
    title: str
    order: int


class PoiOut(msgspec.Struct, omit_defaults=True):
    id: str
    name: str
    location: Point
    text: str
    images: list[str]
    tours: list[TourOnPoi]  # published tours that stop here
    audio_url: str | None = None
    audio_lang: str | None = None


# ---- content files (content/tours.toml) ----


class Localised(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: Annotated[str, msgspec.Meta(min_length=1)]
    en: Annotated[str, msgspec.Meta(min_length=1)]


class NarrationText(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    zh: Narration
    en: Narration


class LocationIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class StopContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    poi: Slug
    name: Localised
    location: LocationIn
    text: NarrationText
    images: list[SafeUrl] = []
    via: list[tuple[float, float]] = []  # points walked after this stop, towards the next


class TourContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    title: Localised
    summary: Localised
    duration_min: Annotated[int, msgspec.Meta(ge=5, le=24 * 60)]
    stop: Annotated[list[StopContent], msgspec.Meta(min_length=2)]
    venue_slug: str | None = None
    images: list[SafeUrl] = []


class LoadReport(msgspec.Struct):
    created: int
    updated: int
    unchanged: int


# ---- what the publishing admin (/admin/tours) reads and writes: each localised field as {zh, en} ----


class TourAdminStop(msgspec.Struct):
    order: int
    poi_id: str
    text: dict[str, str]


class TourAdmin(msgspec.Struct):
    id: int
    slug: str
    title: dict[str, str]
    summary: dict[str, str]
    venue_slug: str | None
    duration_min: int
    distance_m: float
    stops: list[TourAdminStop]
    status: str
    publish_at: str | None
    published_at: str | None
    updated_at: str | None
