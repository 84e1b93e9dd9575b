from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.bounds import DbId
from backend.lib.id_documents import IdType
from backend.lib.ticket_types import TicketType

SeatStatus = Literal["free", "held", "sold", "blocked"]
Zone = Annotated[str, msgspec.Meta(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9_-]+$")]


class TicketTypeOut(msgspec.Struct, omit_defaults=True):
    """One ticket type at a venue: its rule, its price where the full price is `full_price_fen`, who
    qualifies, and what the gate must see."""

    ticket_type: TicketType
    rule: str  # full | half | free | none | fixed:<fen>
    price_fen: int
    offered: bool
    eligibility: str
    check_at_gate: str | None = None


class TicketTypeList(msgspec.Struct):
    venue_slug: str
    full_price_fen: int
    currency: str
    items: list[TicketTypeOut]


class QuoteVisitor(msgspec.Struct, forbid_unknown_fields=True):
    id_type: IdType
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    ticket_type: TicketType | None = None


class QuoteRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What `POST /reservations` would be sent (names aside): a slot, or a performance with its hold or zone."""

    visitors: Annotated[list[QuoteVisitor], msgspec.Meta(min_length=1, max_length=20)]
    slot_id: DbId | None = None
    performance_id: DbId | None = None
    hold_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    zone: Zone | None = None


class QuoteLine(msgspec.Struct, omit_defaults=True):
    position: int
    ticket_type: TicketType
    automatic: bool  # chosen from the birth date, not asked for
    full_price_fen: int
    price_fen: int
    rule: str
    check_at_gate: str | None = None
    seat: str | None = None
    zone: str | None = None


class QuoteOut(msgspec.Struct, omit_defaults=True):
    """The total and the rules, before booking and paying."""

    lines: list[QuoteLine]
    total_fen: int
    currency: str
    starts_at: datetime
    ends_at: datetime
    entry_from: datetime  # the gate admits from here (entry_early_minutes before the start)
    entry_note: str  # e.g. "可提前 30 分钟入场"
    cancel_deadline: datetime
    refund_rule: str
    rules: list[TicketTypeOut]


class PriceZone(msgspec.Struct):
    zone: str
    price_fen: int
    remaining: int


class PerformanceOut(msgspec.Struct, omit_defaults=True):
    id: int
    event_slug: str
    venue_slug: str
    starts_at: datetime
    ends_at: datetime
    seat_map: bool
    price_zones: list[PriceZone]
    remaining: int
    status: Literal["open", "sold_out", "closed"]
    currency: str = "CNY"
    hall: str | None = None
    title: str | None = None


class SeatOut(msgspec.Struct):
    id: int
    number: int
    x: float
    y: float
    zone: str
    status: SeatStatus
    accessible: bool


class SeatRow(msgspec.Struct):
    row: int
    seats: list[SeatOut]


class SeatSection(msgspec.Struct):
    id: str
    name: str
    rows: list[SeatRow]


class SeatMapOut(msgspec.Struct):
    performance_id: int
    hall: str
    stage: str  # where the stage is drawn: "top" (y grows away from it)
    price_zones: list[PriceZone]
    sections: list[SeatSection]


class HoldIn(msgspec.Struct, forbid_unknown_fields=True):
    """`{seat_ids}` (seats picked on the map) or `{count, zone}` (the best adjacent seats in a zone)."""

    seat_ids: Annotated[list[DbId], msgspec.Meta(min_length=1, max_length=20)] | None = None
    count: Annotated[int, msgspec.Meta(ge=1, le=20)] | None = None
    zone: Zone | None = None
    accessible: bool = False  # with count: include a wheelchair place


class HeldSeat(msgspec.Struct):
    id: int
    label: str
    section: str
    row: int
    number: int
    zone: str
    price_fen: int
    accessible: bool


class HoldOut(msgspec.Struct):
    hold_id: str
    performance_id: int
    seats: list[HeldSeat]
    expires_at: datetime
    full_price_fen: int  # the seats at full price; concessions: POST /tickets/quote


class ShowStream(msgspec.Struct):
    hls_url: str
    expires_at: datetime


class ShowOut(msgspec.Struct, omit_defaults=True):
    slug: str
    title: str
    summary: str
    price_fen: int
    currency: str
    duration_s: int
    free: bool
    event_slug: str | None = None
    venue_slug: str | None = None
    poster: str | None = None
    stream: ShowStream | None = None
    access: Literal["free", "holder", "ticket_required", "sign_in"] | None = None
