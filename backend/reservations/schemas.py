from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.id_documents import IdType
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


class BookingRequest(msgspec.Struct, forbid_unknown_fields=True):
    slot_id: Annotated[int, msgspec.Meta(ge=1)]
    visitors: Annotated[list[VisitorIn], msgspec.Meta(min_length=1, max_length=20)]
    waitlist: bool = False


class VisitorOut(msgspec.Struct):
    name: str  # masked: 张*明
    id_type: str
    id_number_masked: str


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
