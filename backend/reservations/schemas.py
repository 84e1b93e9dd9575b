from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.bounds import DbId
from backend.lib.id_documents import IdType
from backend.lib.ticket_types import TicketType
from backend.payments.schemas import PaymentOut, RefundOut

SlotStatus = Literal["open", "full", "closed"]
ReservationStatus = Literal["confirmed", "pending_payment", "waitlisted", "cancelled", "expired"]


class SlotOut(msgspec.Struct):
    id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int
    price_fen: int
    currency: str
    status: SlotStatus


class SlotList(msgspec.Struct):
    venue_slug: str
    date: date
    reservation_required: bool
    items: list[SlotOut]


class SlotPatch(msgspec.Struct, forbid_unknown_fields=True):
    capacity: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None
    status: Literal["open", "closed"] | None = None


class VisitorIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    id_type: IdType
    id_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    # absent: chosen from the resident ID's birth date (60+: senior, under 18: child), else adult
    ticket_type: TicketType | None = None


ContactPhone = Annotated[
    str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 -]{5,19}$", description="the number the venue may call about the visit")
]


class BookingRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A timed-entry slot (`slot_id`), or a performance (`performance_id`, with the `hold_id` of the seats
    held for it, or the `zone` of a performance without a seat map): exactly one of the two."""

    visitors: Annotated[list[VisitorIn], msgspec.Meta(min_length=1, max_length=20)]
    slot_id: DbId | None = None
    waitlist: bool = False
    performance_id: DbId | None = None
    hold_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    zone: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] | None = None
    # absent: the account's own phone (phone sign-in or PUT /me/phone), if it has one
    contact_phone: ContactPhone | None = None


class VisitorOut(msgspec.Struct, omit_defaults=True):
    name: str  # masked: 张*明
    id_type: str
    id_number_masked: str
    ticket_type: str
    price_fen: int
    check_at_gate: str | None = None  # the card staff must see (student_card, disability_certificate, ...)
    seat: str | None = None  # e.g. "一楼池座 5排12座"
    seat_id: int | None = None


class ReservationOut(msgspec.Struct, omit_defaults=True):
    id: str
    status: ReservationStatus
    venue_slug: str
    slot: SlotOut
    visitors: list[VisitorOut]
    party_size: int
    amount_fen: int
    currency: str
    created_at: datetime
    hold_expires_at: datetime | None = None
    cancel_deadline: datetime | None = None
    waitlist_position: int | None = None
    cancel_reason: str | None = None
    payment: PaymentOut | None = None
    number: str | None = None  # 7KQ2M-9PAXD: short and readable, from the id (lib/booking_numbers.py)
    contact_phone_masked: str | None = None  # 139****5678: the number the venue may call


class CancelResult(msgspec.Struct, omit_defaults=True):
    id: str
    status: ReservationStatus
    refund: RefundOut | None = None


class NotificationOut(msgspec.Struct, omit_defaults=True):
    id: int
    kind: str
    created_at: datetime
    reservation_id: str | None = None
    venue_slug: str | None = None
    read: bool = False
    detail: str | None = None  # e.g. a warning's headline
