"""Bookings disrupted by something outside the holder's hands: a closed slot (staff, or a platform directive
closing the venue), a directive limiting the venue below what is booked, a CAP warning over it.

Reservations tells the rooms above it through one signal, `booking_disrupted`, sent inside the write
transaction that records the disruption, once per booking; create_app connects the receivers (the
forecast room's rebooking offers). A receiver that takes a booking over calls `take_over()`: it then owes
the holder what the booking was worth (for an ended booking: the refund, should they choose it or let
the offer expire) and the closure does not refund it itself. A booking nobody takes over is refunded at
once, as before any receiver existed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from backend.lib.clock import clock
from backend.lib.db import write_transaction
from backend.lib.signals import Signal
from backend.reservations import waitlist
from backend.reservations.ports import Payments
from backend.reservations.tables import Reservation

log = logging.getLogger("changxiang.reservations")

DisruptionReason = Literal["slot_closed", "directive_close", "directive_limit", "warning"]
# how far ahead a warning disrupts bookings: a warning's visits in the next two days, not all its year
WARNING_HORIZON = timedelta(hours=48)


@dataclass(frozen=True)
class Disruption:
    """What happened, where and when (the window move choices avoid)."""

    reason: DisruptionReason
    venues: tuple[str, ...]
    window: tuple[datetime, datetime] | None = None
    detail: str = ""  # a warning's headline, a directive's reason
    weather: bool = False  # a weather warning: alternatives indoors


@dataclass
class DisruptedBooking:
    reservation_id: int
    public_id: uuid.UUID
    user_id: int
    venue_slug: str
    slot_id: int
    party_size: int
    amount_fen: int
    starts_at: datetime
    ended: bool  # the booking ended with the disruption (its slot closed): its refund is owed to the holder
    disruption: Disruption
    taken_over: bool = False

    def take_over(self) -> None:
        """A receiver owes the holder what this booking was worth (an offer with a refund among its choices)."""
        self.taken_over = True


booking_disrupted: Signal[DisruptedBooking] = Signal("reservations.booking_disrupted")

_BOOKING_COLUMNS = (
    Reservation.id,
    Reservation.public_id,
    Reservation.user_id,
    Reservation.venue_slug,
    Reservation.slot,
    Reservation.status,
    Reservation.party_size,
    Reservation.amount_fen,
    Reservation.slot.starts_at,
)


def _disrupted(row: dict[str, Any], disruption: Disruption, ended: bool) -> DisruptedBooking:
    return DisruptedBooking(
        reservation_id=row["id"],
        public_id=row["public_id"],
        user_id=row["user_id"],
        venue_slug=row["venue_slug"],
        slot_id=row["slot"],
        party_size=row["party_size"],
        amount_fen=row["amount_fen"],
        starts_at=row["slot.starts_at"],
        ended=ended,
        disruption=disruption,
    )


async def end_for_closure(reservation_id: int, payments: Payments, disruption: Disruption) -> bool | None:
    """End an active booking of a closed slot (one write transaction): its seats and claims given back, its
    holder told (`slot_closed`), a confirmed one offered to `booking_disrupted`'s receivers first. True:
    ended, and what was paid is owed back now (the caller asks the provider); False: ended and taken over
    by a receiver; None: it was no longer active."""
    async with write_transaction():
        row = await Reservation.select(*_BOOKING_COLUMNS).where(Reservation.id == reservation_id).first()
        if row is None or row["status"] not in waitlist.ACTIVE:
            return None
        if not await waitlist.end_booking(reservation_id, "cancelled", "slot_closed", notify="slot_closed"):
            return None
        if row["status"] == "confirmed" and booking_disrupted.receivers:
            booking = _disrupted(row, disruption, ended=True)
            await booking_disrupted.send(booking)
            if booking.taken_over:
                return False
        if row["amount_fen"]:
            await payments.owe_refund(reservation_id, "slot_closed")
        return True


async def disrupt_holders(disruption: Disruption, slot_ids: list[int] | None = None) -> int:
    """Bookings that stay valid but are disrupted (a warning over their venue, a limit below what is booked):
    each confirmed booking of `slot_ids`, or of the disruption's venues in its window (a warning's no further
    than `WARNING_HORIZON` ahead), still to start, is sent to `booking_disrupted`, each inside a write
    transaction (the caller's, when it has one). How many were sent."""
    if not booking_disrupted.receivers:
        return 0
    now = clock.now()
    where = (Reservation.status == "confirmed") & (Reservation.slot.starts_at > now)
    if slot_ids is not None:
        if not slot_ids:
            return 0
        where &= Reservation.slot.is_in(slot_ids)
    else:
        if not disruption.venues:
            return 0
        start, end = disruption.window or (now, now + WARNING_HORIZON)
        if disruption.reason == "warning":
            end = min(end, now + WARNING_HORIZON)
        where &= (
            Reservation.venue_slug.is_in(list(disruption.venues))
            & (Reservation.slot.starts_at < end)
            & (Reservation.slot.ends_at > start)
        )
    rows = await Reservation.select(*_BOOKING_COLUMNS).where(where).order_by(Reservation.id)
    for row in rows:
        async with write_transaction():
            await booking_disrupted.send(_disrupted(row, disruption, ended=False))
    if rows:
        log.info("bookings disrupted", extra={"reason": disruption.reason, "bookings": len(rows)})
    return len(rows)
