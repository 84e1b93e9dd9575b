from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.bounds import DbId
from backend.payments.schemas import RefundOut
from backend.venues.schemas import ComfortLevel


class ForecastHour(msgspec.Struct):
    starts_at: datetime  # the hour's start, in the city's time
    expected: int  # people inside, expected
    low: int  # the band: 80% of hours fall between low and high (docs/forecast.md)
    high: int
    capacity: int  # the instantaneous capacity in force then (a directive's limit included)
    comfort_level: ComfortLevel  # LB/T 034 of expected / capacity
    booked: int = 0  # seats already booked for slots covering the hour (a floor on expected)


class ForecastOut(msgspec.Struct):
    venue_slug: str
    generated_at: datetime
    model: str
    hours: list[ForecastHour]


class BestTime(msgspec.Struct, omit_defaults=True):
    starts_at: datetime
    ends_at: datetime
    expected: int
    capacity: int
    comfort_level: ComfortLevel
    slot_id: int | None = None
    remaining: int | None = None


class BestTimesOut(msgspec.Struct, omit_defaults=True):
    venue_slug: str
    date: date
    model: str
    items: list[BestTime]  # the calmest first
    peak_level: ComfortLevel | None = None  # the day's busiest expected level
    calm_from: str | None = None  # "15:00": from then on the day is expected at most fairly comfortable


class HourPrediction(msgspec.Struct, array_like=True):
    """One hour of the model's forecast as cached (before seats booked and directives are laid over)."""

    day: date
    hour: int
    expected: float
    low: float
    high: float


class VenuePrediction(msgspec.Struct):
    slug: str
    as_of: date
    model: str
    hours: list[HourPrediction]


# ---------------------------------------------------------------- rebooking offers

ChoiceKind = Literal["move", "alternative", "refund"]
OfferReason = Literal["slot_closed", "directive_close", "directive_limit", "warning"]
OfferStatus = Literal["open", "accepted", "expired"]


class Choice(msgspec.Struct, omit_defaults=True):
    kind: ChoiceKind
    slot_id: int | None = None
    venue_slug: str | None = None
    # what the holder reads (the accept body needs only kind, slot_id and venue_slug)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    venue_name: str | None = None
    distance_m: float | None = None
    comfort_level: ComfortLevel | None = None


class ChoiceIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: ChoiceKind
    slot_id: DbId | None = None
    venue_slug: Annotated[str, msgspec.Meta(max_length=80)] | None = None


class AcceptIn(msgspec.Struct, forbid_unknown_fields=True):
    choice: ChoiceIn


class OfferOut(msgspec.Struct, omit_defaults=True):
    id: str
    reservation_id: str
    reason: OfferReason
    choices: list[Choice]
    expires_at: datetime
    status: OfferStatus
    venue_slug: str
    created_at: datetime
    detail: str = ""
    chosen: Choice | None = None


class AcceptOut(msgspec.Struct, omit_defaults=True):
    offer: OfferOut
    reservation_id: str
    reservation_status: str
    slot_id: int | None = None
    venue_slug: str | None = None
    refund: RefundOut | None = None
