from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.bounds import DbId
from backend.venues.schemas import District

DirectiveType = Literal["limit", "close", "reopen"]
GroupStatus = Literal["held", "confirmed", "ended"]


class DirectiveIn(msgspec.Struct, forbid_unknown_fields=True):
    directive_id: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    type: DirectiveType
    valid_from: datetime
    valid_until: datetime
    venue_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=80)] | None = None
    district: District | None = None
    limit_ratio: Annotated[float, msgspec.Meta(ge=0, le=1)] | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class DirectiveOut(msgspec.Struct):
    directive_id: str
    type: DirectiveType
    venue_slugs: list[str]
    slots_affected: int
    reservations_cancelled: int
    received_at: datetime


class AlertOut(msgspec.Struct):
    identifier: str
    event: str
    severity: str
    msg_type: str
    venue_slugs: list[str]
    notified: int


class ItineraryStop(msgspec.Struct, forbid_unknown_fields=True):
    venue_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    arrives_at: datetime
    slot_id: DbId | None = None  # book this slot for the whole party


class TourGroupIn(msgspec.Struct, forbid_unknown_fields=True):
    guide_name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    guide_phone: Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9 -]{6,20}$")]
    size: Annotated[int, msgspec.Meta(ge=1, le=200)]
    coach_plate: Annotated[str, msgspec.Meta(min_length=5, max_length=12)]
    visit_date: date
    itinerary: Annotated[list[ItineraryStop], msgspec.Meta(min_length=1, max_length=12)]


class TourStopOut(msgspec.Struct, omit_defaults=True):
    venue_slug: str
    arrives_at: datetime
    reservation_id: str | None = None
    slot_id: int | None = None
    # the stop's booking: `pending_payment` (held until paid through its checkout or approved, expiring at
    # `hold_expires_at`), `confirmed`, `expired` or `cancelled`
    status: str | None = None
    hold_expires_at: datetime | None = None
    amount_fen: int | None = None


class TourGroupOut(msgspec.Struct):
    id: str
    visit_date: date
    size: int
    coach_plate: str
    guide_name_masked: str
    guide_phone_masked: str
    itinerary: list[TourStopOut]
    status: GroupStatus = "confirmed"  # held while any stop awaits payment or approval
