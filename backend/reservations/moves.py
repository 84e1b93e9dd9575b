"""Moving a booking to another slot (of its venue, or of another venue): the rebooking offers' choice, inside
the caller's write transaction. Seats are taken in the new slot (one conditional UPDATE, never oversold)
before they are given back in the old one; the visitors' one-booking-per-venue-per-day claims move with
it; the booking keeps its id, its payment and its visitors.

A booking that a closure ended (`cancelled`, `slot_closed`) can be revived into the new slot the same way:
its old seats were already given back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation
from backend.lib.problems import Conflict, NotFound
from backend.reservations import seats
from backend.reservations.slots import slot_by_id
from backend.reservations.tables import Reservation, Slot, Visitor, VisitorClaim


@dataclass(frozen=True)
class MovedBooking:
    reservation_id: int
    from_slot: int
    to_slot: int
    venue_slug: str
    visit_date: date


async def move_booking(reservation_id: int, target_slot_id: int, *, revive: bool = False) -> MovedBooking:
    """Move the booking into `target_slot_id` (inside the caller's write transaction). A `confirmed` booking
    swaps seats; with `revive`, a booking its slot's closure ended comes back `confirmed` in the new slot.
    Refuses with 409 `slot_full`, `venue_closed`, `slot_past`, `duplicate_visitor` or `reservation_changed`."""
    row = (
        await Reservation.select(
            Reservation.status, Reservation.cancel_reason, Reservation.slot, Reservation.party_size
        )
        .where(Reservation.id == reservation_id)
        .first()
    )
    if row is None:
        raise NotFound("reservation_not_found", "no such reservation")
    expected = ("cancelled", "slot_closed") if revive else ("confirmed", None)
    if row["status"] != expected[0] or (revive and row["cancel_reason"] != expected[1]):
        raise Conflict("reservation_changed", f"the booking is {row['status']}; reload it")
    target = await slot_by_id(target_slot_id)
    if target is None or target["kind"] == "performance":  # a performance's seats are taken with a hold
        raise NotFound("slot_not_found", "no such slot")
    source = await slot_by_id(row["slot"])
    if source is not None and source["kind"] == "performance":
        raise Conflict("not_movable", "tickets for a performance are not moved: cancel them for a refund")
    if target["ends_at"] <= clock.now():
        raise Conflict("slot_past", "this slot has ended")
    if target["status"] == "closed":
        raise Conflict("venue_closed", "the venue is closed at this time")
    party = row["party_size"]
    if not await seats.take(target_slot_id, party):
        raise Conflict("slot_full", "no seats left in this slot")
    visit_date = target["starts_at"].astimezone(CITY_TZ).date()
    venue = target["venue_slug"]
    await VisitorClaim.delete().where(VisitorClaim.reservation == reservation_id)
    prints = await Visitor.select(Visitor.id_fingerprint).where(Visitor.reservation == reservation_id)
    if prints:
        try:
            await Slot.raw(
                "INSERT INTO visitor_claims (claim_key, reservation) VALUES " + ", ".join(["({}, {})"] * len(prints)),
                *[x for p in prints for x in (f"{venue}|{visit_date}|{p['id_fingerprint']}", reservation_id)],
            )
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict(
                    "duplicate_visitor", "a visitor already holds a booking at this venue on this day"
                ) from None
            raise
    changed = (
        await Reservation.update(
            {
                Reservation.slot: target_slot_id,
                Reservation.venue_slug: venue,
                Reservation.visit_date: visit_date,
                Reservation.status: "confirmed",
                Reservation.cancelled_at: None,
                Reservation.cancel_reason: None,
            }
        )
        .where((Reservation.id == reservation_id) & (Reservation.status == expected[0]))
        .returning(Reservation.id)
    )
    if not changed:
        raise Conflict("reservation_changed", "the booking changed meanwhile; reload it")
    if not revive:
        await seats.release(row["slot"], party)
    return MovedBooking(reservation_id, row["slot"], target_slot_id, venue, visit_date)
