from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec

from backend.lib.content_urls import SafeUrl
from backend.lib.galleries import GalleryIds, GalleryPhoto
from backend.lib.geo import Point
from backend.venues.schemas import District, Localised, LocationIn, Slug

EventCategory = Literal[
    "performance",
    "exhibition",
    "festival",
    "lecture",
    "workshop",
    "family",
    "night_tour",
    "rural_tourism",
    "sports",
    "intangible_heritage",
]
EVENT_CATEGORIES: tuple[str, ...] = get_args(EventCategory)
EventSort = Literal["soonest", "nearest"]
ArticleKind = Literal["guide", "news"]
PublicationState = Literal["draft", "in_review", "scheduled", "published", "archived"]

Fen = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
RRule = Annotated[str, msgspec.Meta(max_length=300)]
ImageRef = SafeUrl  # an https: URL or a /media/ path (backend/lib/content_urls.py)


class Occurrence(msgspec.Struct):
    occurrence_id: str
    starts_at: datetime
    ends_at: datetime


class TicketZone(msgspec.Struct):
    zone: str
    price_fen: int
    remaining: int


class TicketedPerformance(msgspec.Struct):
    """A performance on sale (the tickets room's): book it with `POST /reservations {performance_id, ...}`."""

    id: int
    starts_at: datetime
    ends_at: datetime
    seat_map: bool
    price_zones: list[TicketZone]
    remaining: int
    status: str  # open | sold_out | closed


class EventTicketing(msgspec.Struct):
    performances: list[TicketedPerformance]


class EventItem(msgspec.Struct, omit_defaults=True):
    """One occurrence in a list (API.md, Events)."""

    slug: str
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    venue_slug: str | None
    location: Point
    price_fen: int
    summary: str
    image: str | None
    occurrence_id: str
    currency: str = "CNY"
    place: str = ""
    district: str = ""
    recurring: bool = False
    distance_m: float | None = None


class EventOut(msgspec.Struct, omit_defaults=True):
    """One event (or series): the chosen (or next) occurrence and the upcoming ones."""

    slug: str
    title: str
    category: str
    starts_at: datetime
    ends_at: datetime
    venue_slug: str | None
    location: Point
    price_fen: int
    summary: str
    image: str | None
    occurrence_id: str
    description: str
    place: str
    address: str
    district: str
    occurrences: list[Occurrence]
    bookable: bool
    event_status: Literal["scheduled", "cancelled"]
    updated_at: datetime
    currency: str = "CNY"
    rrule: str | None = None
    exdates: list[datetime] = []
    gallery: list[GalleryPhoto] = []  # library photos (issue 21), on the event page only
    ticketing: EventTicketing | None = None  # an event that sells tickets (issue 18)


# ---- content files and the marketers' bodies (localised fields as {zh, en}) ----


class EventContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One event as written in content/events.toml (times are Asia/Shanghai local unless offset)."""

    slug: Slug
    category: EventCategory
    title: Localised
    summary: Localised
    starts_at: datetime
    ends_at: datetime
    venue_slug: Slug | None = None
    district: District | None = None
    place: Localised | None = None
    address: Localised | None = None
    location: LocationIn | None = None
    description: Localised = Localised(zh="", en="")
    rrule: RRule | None = None
    exdates: list[datetime] = []
    price_fen: Fen = 0
    image: ImageRef | None = None


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /admin/events (API.md, Publishing). Without `venue_slug`, give place, district, location."""

    slug: Slug
    title: Localised
    category: EventCategory
    starts_at: datetime
    ends_at: datetime
    summary: Localised = Localised(zh="", en="")
    description: Localised = Localised(zh="", en="")
    venue_slug: Slug | None = None
    district: District | None = None
    place: Localised | None = None
    address: Localised | None = None
    location: LocationIn | None = None
    rrule: RRule | None = None
    exdates: list[datetime] = []
    price_fen: Fen = 0
    image: ImageRef | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class EventPatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    title: Localised | None = None
    category: EventCategory | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    summary: Localised | None = None
    description: Localised | None = None
    venue_slug: Slug | None = None
    district: District | None = None
    place: Localised | None = None
    address: Localised | None = None
    location: LocationIn | None = None
    rrule: RRule | None = None
    exdates: list[datetime] | None = None
    price_fen: Fen | None = None
    image: ImageRef | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class EventAdminOut(msgspec.Struct):
    id: int
    slug: str
    title: Localised
    summary: Localised
    description: Localised
    category: str
    venue_slug: str | None
    district: str
    place: Localised
    address: Localised
    location: Point
    starts_at: datetime
    ends_at: datetime
    rrule: str | None
    exdates: list[str]
    price_fen: int
    image: str | None
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    created_by: int | None
    updated_at: datetime


class ArticleContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    kind: ArticleKind
    title: Localised
    summary: Localised
    body: Localised
    image: ImageRef | None = None
    venue_slugs: list[Slug] = []
    published_at: datetime | None = None


class ArticleIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    kind: ArticleKind
    title: Localised
    summary: Localised = Localised(zh="", en="")
    body: Localised = Localised(zh="", en="")
    image: ImageRef | None = None
    venue_slugs: list[Slug] = []
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class ArticlePatch(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    kind: ArticleKind | None = None
    title: Localised | None = None
    summary: Localised | None = None
    body: Localised | None = None
    image: ImageRef | None = None
    venue_slugs: list[Slug] | None = None
    gallery: GalleryIds | None = None
    publish_at: datetime | None = None


class ArticleAdminOut(msgspec.Struct):
    id: int
    slug: str
    kind: str
    title: Localised
    summary: Localised
    body: Localised
    image: str | None
    venue_slugs: list[str]
    status: str
    publish_at: datetime | None
    published_at: datetime | None
    created_by: int | None
    updated_at: datetime


class ArticleOut(msgspec.Struct, omit_defaults=True):
    slug: str
    kind: str
    title: str
    summary: str
    body: str
    image: str | None
    venue_slugs: list[str]
    published_at: datetime | None
    gallery: list[GalleryPhoto] = []


class CalendarTokenStatus(msgspec.Struct, omit_defaults=True):
    """`token` and `url` are shown once, when made; only a hash is kept."""

    active: bool
    created_at: datetime | None = None
    token: str | None = None
    url: str | None = None
