from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

import msgspec

from backend.lib.content_urls import SafeUrl
from backend.lib.galleries import GalleryPhoto
from backend.lib.geo import Point

Category = Literal[
    "museum",
    "library",
    "art_gallery",
    "cultural_center",
    "theatre",
    "scenic_area",
    "heritage_site",
    "park",
    "resort",
    "memorial_hall",
    "intangible_heritage",
]
CATEGORIES: tuple[str, ...] = get_args(Category)

District = Literal["tianning", "zhonglou", "xinbei", "wujin", "jintan", "liyang", "jingkai"]
DISTRICT_NAMES: dict[str, dict[str, str]] = {
    "tianning": {"zh": "天宁区", "en": "Tianning District"},
    "zhonglou": {"zh": "钟楼区", "en": "Zhonglou District"},
    "xinbei": {"zh": "新北区", "en": "Xinbei District"},
    "wujin": {"zh": "武进区", "en": "Wujin District"},
    "jintan": {"zh": "金坛区", "en": "Jintan District"},
    "liyang": {"zh": "溧阳市", "en": "Liyang City"},
    "jingkai": {"zh": "常州经开区", "en": "Changzhou Economic Development Zone"},
}
DISTRICTS: tuple[str, ...] = tuple(DISTRICT_NAMES)

LiveStatus = Literal["open", "limited", "closed"]
VenueSort = Literal["distance", "popular", "calm"]  # GET /venues?sort= (backend/venues/ordering.py)
ComfortLevel = Literal["comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"]


class Localised(msgspec.Struct, frozen=True):
    zh: str
    en: str = ""


class Live(msgspec.Struct):
    status: LiveStatus
    occupancy: int
    comfort_level: ComfortLevel
    alerts: list[str]  # headlines of the warnings in force here
    crowded: bool = False  # at 0.8 of the instantaneous capacity: shown as crowded


class VenueAlert(msgspec.Struct, omit_defaults=True):
    """A warning (CAP 1.2, from the city's platform) in force at the venue."""

    identifier: str
    event: str
    severity: str
    urgency: str
    headline: str
    instruction: str = ""
    expires: datetime | None = None


class LiveOverlay(msgspec.Struct):
    """What the supervision room knows about a venue right now (filled in by backend/governance)."""

    occupancy: int
    comfort_level: ComfortLevel
    crowded: bool
    directive_status: LiveStatus | None
    alerts: list[VenueAlert]


class VenueOut(msgspec.Struct, omit_defaults=True):
    slug: str
    name: str
    category: str
    district: str
    district_name: str
    address: str
    location: Point
    opening_hours: str
    capacity: int
    daily_capacity: int
    reservation_required: bool
    price_fen: int
    currency: str
    description: str
    images: list[str]
    accessibility: str
    tags: list[str]
    live: Live
    phone: str | None = None
    website: str | None = None
    distance_m: float | None = None
    alerts: list[VenueAlert] = []
    gallery: list[GalleryPhoto] = []  # library photos (issue 21), on the venue page only


# ---- content files (content/venues.toml) ----

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{1,79}$")]


class LocationIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class BookingRules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slot_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] = 60
    slot_interval_minutes: Annotated[int, msgspec.Meta(ge=15, le=720)] | None = None  # default: slot_minutes
    advance_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = 7
    cancel_cutoff_minutes: Annotated[int, msgspec.Meta(ge=0, le=2880)] = 30
    allow_reentry: bool = False
    entry_early_minutes: Annotated[int, msgspec.Meta(ge=0, le=240)] = 30


class VenueContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One venue as written in content/venues.toml."""

    slug: Slug
    category: Category
    district: District
    name: Localised
    address: Localised
    location: LocationIn
    opening_hours: Annotated[str, msgspec.Meta(min_length=1)]
    capacity: Annotated[int, msgspec.Meta(ge=1)]
    daily_capacity: Annotated[int, msgspec.Meta(ge=1)]
    description: Localised
    reservation_required: bool = False
    price_fen: Annotated[int, msgspec.Meta(ge=0)] = 0
    accessibility: Localised = Localised(zh="", en="")
    phone: str | None = None
    website: SafeUrl | None = None  # https: only (backend/lib/content_urls.py)
    tags: list[str] = []
    images: list[SafeUrl] = []
    booking: BookingRules = BookingRules()


class LoadReport(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
