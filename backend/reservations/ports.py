"""What reservations needs from payments (refunds and the payment shown with a booking) and from tickets
(price rules per ticket type, the seats of a performance: `Ticketing`). `create_app`
binds the payment service (`backend.payments.services.payments`) with `reservations.use_payments`, so
the booking rules name no payment provider and a test can bind its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from backend.lib.ticket_types import PriceRule, TicketType
from backend.payments.schemas import PaymentOut, RefundOut


class Payments(Protocol):
    async def owe_refund(self, reservation_id: int, reason: str) -> int | None:
        """Inside the write transaction that ends the booking: record what was paid for it as owed back
        (`pending`, once per reason), so it is refunded whatever happens next. None when nothing was paid."""
        ...

    async def refund_reservation(self, reservation_id: int, reason: str) -> RefundOut | None:
        """Give back what was paid for the booking (once per reason); None when nothing was paid. A refund
        the provider can't make now is answered `pending` and made by the sweeper, never an error."""
        ...

    async def refund_reservations(self, reservation_ids: list[int], reason: str) -> dict[int, RefundOut]:
        """`refund_reservation` for many bookings; once the provider fails, the rest are left to the sweeper."""
        ...

    async def settle_due_refunds(self) -> int:
        """The sweeper's pass: make the owed refunds that are due (claimed once across replicas)."""
        ...

    async def views(self, reservation_ids: list[int]) -> dict[int, PaymentOut]:
        """The latest payment of each booking that has one, with its refunds."""
        ...


@dataclass(frozen=True)
class Place:
    """Where one visitor of a performance sits (or stands), and the full price of that place."""

    zone: str
    full_fen: int
    seat_id: int | None = None
    seat_label: str | None = None


@dataclass(frozen=True)
class PerformanceTarget:
    """A performance as booking needs it: the slot that counts its seats, one place per visitor, and the
    hold to turn into the booking (seated performances)."""

    performance_id: int
    slot_id: int
    places: list[Place]
    hold_id: str | None = None


class Ticketing(Protocol):
    """What booking needs from the tickets room (bound by create_app with `reservations.use_ticketing`):
    a venue's price rules per ticket type, and the seats of a performance."""

    async def rules(self, venue_slug: str) -> Mapping[TicketType, PriceRule]:
        """The venue's price rule of each ticket type (defaults where it states none)."""
        ...

    async def performance_target(
        self, user_id: int, performance_id: int, hold_id: str | None, zone: str | None, party: int
    ) -> PerformanceTarget:
        """The places `party` visitors would take: the seats of the caller's live hold, or `party` places in
        `zone` of a performance without a seat map. 404 `performance_not_found`, 409 `hold_expired`, 400
        `hold_size_mismatch` / `zone_unknown`."""
        ...

    async def sell_hold(self, target: PerformanceTarget, user_id: int, reservation_id: int) -> bool:
        """Inside the booking's write transaction: turn the hold's seats into the reservation's, in one
        conditional UPDATE; False when the hold lapsed meanwhile (nothing changed)."""
        ...
