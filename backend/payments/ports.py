"""What payments needs from what it is paid for. Payments is a core room: it charges for a booking and
tells the booking's owner what became of the money, through this port, without importing it.
`create_app` binds the reservations side (`backend.reservations.services.paid_bookings`) with
`payments.use_bookings`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class PayableBooking:
    """A booking as checkout sees it."""

    id: int
    public_id: uuid.UUID
    status: str  # payable only while "pending_payment"
    hold_expires_at: datetime | None
    amount_fen: int
    party_size: int
    venue_slug: str
    starts_at: datetime


class Bookings(Protocol):
    async def payable(self, user_id: int, public_id: uuid.UUID) -> PayableBooking | None:
        """The holder's booking, or None (someone else's is indistinguishable from none)."""
        ...

    async def hold_until(self, booking_id: int, until: datetime) -> bool:
        """Hold the seats until `until` while the booking awaits payment; False when it no longer does."""
        ...

    async def paid(self, booking_id: int) -> bool:
        """The money came: confirm the booking if it still awaits payment (inside the caller's write
        transaction). False when its seats are gone (the money is then given back)."""
        ...

    async def seats_gone(self, booking_id: int) -> None:
        """A payment for seats that are gone was refunded: the slot's free seats may go to its waitlist."""
        ...

    async def payment_expired(self, booking_id: int) -> None:
        """The booking's last open checkout expired unpaid: end the booking and free its seats."""
        ...
