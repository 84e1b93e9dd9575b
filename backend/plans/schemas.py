"""Shapes of the day planner's API (API.md, "Day plans and the guide")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.events.schemas import EVENT_CATEGORIES, EventCategory
from backend.lib.geo import Point
from backend.reservations.schemas import ReservationOut, VisitorIn
from backend.venues.schemas import CATEGORIES, Category

Interest = Category | EventCategory
INTERESTS: tuple[str, ...] = tuple(dict.fromkeys((*CATEGORIES, *EVENT_CATEGORIES)))
ClockTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"])]
Headcount = Annotated[int, msgspec.Meta(ge=0, le=20)]
ItemKind = Literal["venue", "event", "tour", "break"]
TravelMode = Literal["walk", "taxi"]
ItemKey = Annotated[
    str, msgspec.Meta(pattern=r"^(venue|event|tour):[a-z0-9@._-]{1,120}$", examples=["venue:tianning-temple"])
]


class StartPoint(msgspec.Struct, forbid_unknown_fields=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Party(msgspec.Struct, forbid_unknown_fields=True):
    adults: Headcount = 1
    children: Headcount = 0
    seniors: Headcount = 0

    @property
    def size(self) -> int:
        return self.adults + self.children + self.seniors


class PlanRequest(msgspec.Struct, forbid_unknown_fields=True):
    date: date
    start: StartPoint
    start_time: ClockTime
    end_time: ClockTime
    interests: Annotated[list[Interest], msgspec.Meta(max_length=len(INTERESTS))] = []
    party: Party | None = None
    step_free: bool = False
    lang: Literal["zh", "en"] | None = None
    # items to leave out, as `kind:slug` (a plan's "swap": the same request without that item)
    exclude: Annotated[list[ItemKey], msgspec.Meta(max_length=30)] = []


class Travel(msgspec.Struct):
    mode: TravelMode
    minutes: int
    distance_m: int  # estimated route length (geodesic × detour factor, docs/plans.md)


class PlanItem(msgspec.Struct, omit_defaults=True):
    kind: ItemKind
    title: str
    starts_at: datetime
    ends_at: datetime
    travel: Travel  # getting here from the previous item (or the start point)
    why: str
    slug: str | None = None
    location: Point | None = None
    venue_slug: str | None = None  # the place an event or tour is held in
    slot_id: int | None = None  # the timed-entry slot to book (booking required here)
    booking_required: bool = False
    comfort_level: str | None = None
    price_fen: int = 0


class PlanWarning(msgspec.Struct):
    code: str
    message: str


class PlanOut(msgspec.Struct, omit_defaults=True):
    id: str  # unguessable: whoever holds it may read the plan (docs/plans.md, "Storage")
    date: date
    start: Point
    start_time: str
    end_time: str
    party: Party
    step_free: bool
    lang: str
    interests: list[str]
    items: list[PlanItem]
    warnings: list[PlanWarning]
    created_at: datetime
    booked: bool  # booked together (POST /plans/{id}/book)
    exclude: list[str] = []  # what the request left out (`kind:slug`): a swap adds to it


class PlanDropRequest(msgspec.Struct, forbid_unknown_fields=True):
    index: Annotated[int, msgspec.Meta(ge=0, le=200)]  # the visit's place in `items`


class PlanBookRequest(msgspec.Struct, forbid_unknown_fields=True):
    visitors: Annotated[list[VisitorIn], msgspec.Meta(min_length=1, max_length=20)]


class PlanBookingOut(msgspec.Struct):
    plan_id: str
    reservations: list[ReservationOut]
