"""Timed-entry reservations: slots from opening hours, real-name booking that never oversells,
holds that expire by themselves, a first-come waitlist, cancellation, and staff capacity control.

`ReservationService` is the room's public face; its rules live beside it: `slots` (planning, listing,
staff changes, closing), `booking` (the steps of `book`), `waitlist` (ending a booking, expiring holds,
promoting the waitlist) and `seats` (the conditional UPDATEs that move seats). One person per venue per
day is a unique key in the database.
"""

from __future__ import annotations

import logging
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.custom_types import Combinable

from backend.lib.auth import AuthUser
from backend.lib.booking_numbers import booking_number
from backend.lib.clock import CITY_TZ, clock
from backend.lib.problems import Conflict, NotFound
from backend.payments.ports import PayableBooking
from backend.payments.schemas import PaymentOut
from backend.reservations import booking, seats, slots, waitlist
from backend.reservations.disruptions import Disruption
from backend.reservations.idempotency import Replay
from backend.reservations.ports import Payments, Ticketing
from backend.reservations.schemas import (
    BookingRequest,
    CancelResult,
    NotificationOut,
    ReservationOut,
    SlotList,
    SlotOut,
    SlotPatch,
    VisitorOut,
)
from backend.reservations.slots import SLOT_COLUMNS, slot_out, venue_by_slug
from backend.reservations.tables import Notification, Reservation, Slot, Visitor
from backend.reservations.waitlist import ACTIVE, HOLDING_SEATS
from backend.settings import get_settings
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.reservations")

# A booking as read: its row, its slot's columns and its visitors (masked).
Found = tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]


class ReservationService:
    def __init__(self) -> None:
        self._payments: Payments | None = None
        self._ticketing: Ticketing | None = None

    def use_ticketing(self, ticketing: Ticketing | None) -> None:
        """Bind the tickets room (`reservations.ports.Ticketing`): price rules and performances."""
        self._ticketing = ticketing

    def use_payments(self, payments: Payments | None) -> None:
        """Bind the payment service (`reservations.ports.Payments`)."""
        self._payments = payments

    def payments(self) -> Payments:
        if self._payments is None:
            raise RuntimeError("reservations has no payments bound: create_app binds them (reservations.use_payments)")
        return self._payments

    # ---- slots (backend.reservations.slots)

    async def ensure_slots(self, venue: dict[str, Any], day: date) -> None:
        await slots.ensure_slots(venue, day)

    async def list_slots(self, slug: str, day: date) -> SlotList:
        return await slots.list_slots(slug, day)

    async def update_slot(self, user: AuthUser, slug: str, slot_id: int, patch: SlotPatch) -> SlotOut:
        return await slots.update_slot(user, slug, slot_id, patch, self.payments())

    async def close_slot(self, slot_id: int, slug: str, disruption: Disruption | None = None) -> None:
        """Stop selling the slot; its bookings are cancelled and their holders told; paid ones refunded, or
        offered another time or place first (`disruptions.booking_disrupted`)."""
        await slots.close_slot(slot_id, self.payments(), disruption)

    async def book_group(
        self, user_id: int, slot: dict[str, Any], visit_date: date, party: int
    ) -> tuple[int, uuid.UUID] | None:
        """Take `party` seats of `slot` as one reservation of `user_id` (a travel agency's tour group),
        inside the caller's write transaction: (id, public id), or None when the seats aren't there.
        A paid slot's seats are only held (`pending_payment`, expiring like a visitor's unpaid hold) until
        the agency pays through checkout or governance/venue staff approve them (`approve_hold`); a free
        slot's are confirmed at once (the agency's quota bounds them, see governance)."""
        if not await seats.take(slot["id"], party):
            return None
        paid = slot["price_fen"] > 0
        public = uuid.uuid4()
        rows = await Reservation.insert(
            Reservation(
                public_id=public,
                user_id=user_id,
                slot=slot["id"],
                venue_slug=slot["venue_slug"],
                visit_date=visit_date,
                status="pending_payment" if paid else "confirmed",
                party_size=party,
                amount_fen=slot["price_fen"] * party,
                hold_expires_at=clock.now() + timedelta(seconds=get_settings().payment_hold_s) if paid else None,
                created_at=clock.now(),
            )
        ).returning(Reservation.id)
        return rows[0]["id"], public

    async def approve_hold(self, reservation_id: int) -> bool:
        """Confirm a held booking without payment (a group settled on the agency's invoice): one
        conditional UPDATE, only while the hold still runs. False when it no longer awaits payment."""
        confirmed = (
            await Reservation.update({Reservation.status: "confirmed", Reservation.hold_expires_at: None})
            .where(
                (Reservation.id == reservation_id)
                & (Reservation.status == "pending_payment")
                & (Reservation.hold_expires_at > clock.now())
            )
            .returning(Reservation.id)
        )
        return bool(confirmed)

    # ---- booking (backend.reservations.booking)

    async def book(
        self, user: AuthUser, data: BookingRequest, idempotency_key: str | None = None
    ) -> ReservationOut | Replay[ReservationOut]:
        """Book the visitors of `data` into a slot, or onto its waitlist; a repeated `Idempotency-Key`
        gets the first answer (`Replay`)."""
        return await booking.book(user, data, idempotency_key, self._ticketing)

    async def add_performance_slot(
        self, key: str, venue_slug: str, starts_at: datetime, ends_at: datetime, capacity: int, price_fen: int
    ) -> int:
        """The slot that counts a performance's seats (kind `performance`, never listed with the venue's
        timed entry): made once per `key`, its id answered."""
        await Slot.insert(
            Slot(
                key=key,
                venue_slug=venue_slug,
                local_date=starts_at.astimezone(CITY_TZ).date(),
                starts_at=starts_at,
                ends_at=ends_at,
                capacity=capacity,
                booked=0,
                status="open",
                price_fen=price_fen,
                kind="performance",
            )
        ).on_conflict(target=Slot.key, action="DO NOTHING")
        row = await Slot.select(Slot.id).where(Slot.key == key).first()
        if row is None:  # written just above (or by a twin): slots are never deleted
            raise LookupError(f"no slot {key}")
        slot_id: int = row["id"]
        return slot_id

    # ---- reading

    async def _rows(self, where: Combinable) -> list[Found]:
        rows = (
            await Reservation.select(
                *Reservation.all_columns(), *[getattr(Reservation.slot, c._meta.name) for c in SLOT_COLUMNS]
            )
            .where(where)
            .order_by(Reservation.created_at, ascending=False)
            .order_by(Reservation.id, ascending=False)
        )
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        people = (
            await Visitor.select(
                Visitor.reservation,
                Visitor.name_masked,
                Visitor.id_type,
                Visitor.id_number_masked,
                Visitor.ticket_type,
                Visitor.price_fen,
                Visitor.check_at_gate,
                Visitor.seat_label,
                Visitor.seat_id,
            )
            .where(Visitor.reservation.is_in(ids))
            .order_by(Visitor.position)
        )
        by_res: dict[int, list[dict[str, Any]]] = {}
        for p in people:
            by_res.setdefault(p["reservation"], []).append(p)
        out: list[Found] = []
        for r in rows:
            slot = {c._meta.name: r[f"slot.{c._meta.name}"] for c in SLOT_COLUMNS}
            out.append((r, slot, by_res.get(r["id"], [])))
        return out

    async def _to_out(
        self,
        r: dict[str, Any],
        slot: dict[str, Any],
        people: list[dict[str, Any]],
        cutoff_min: int | None = None,
        payment: PaymentOut | None = None,
    ) -> ReservationOut:
        if cutoff_min is None:
            cutoff_min = (
                await Venue.select(Venue.cancel_cutoff_minutes).where(Venue.slug == r["venue_slug"]).first()
                or {"cancel_cutoff_minutes": 30}
            )["cancel_cutoff_minutes"]
        return ReservationOut(
            id=str(r["public_id"]),
            number=booking_number(r["public_id"]),
            status=r["status"],
            venue_slug=r["venue_slug"],
            slot=slot_out(slot),
            visitors=[
                VisitorOut(
                    name=p["name_masked"],
                    id_type=p["id_type"],
                    id_number_masked=p["id_number_masked"],
                    ticket_type=p["ticket_type"],
                    price_fen=p["price_fen"],
                    check_at_gate=p["check_at_gate"],
                    seat=p["seat_label"],
                    seat_id=p["seat_id"],
                )
                for p in people
            ],
            party_size=r["party_size"],
            amount_fen=r["amount_fen"],
            currency="CNY",
            created_at=r["created_at"].astimezone(CITY_TZ),
            hold_expires_at=r["hold_expires_at"].astimezone(CITY_TZ) if r["hold_expires_at"] else None,
            cancel_deadline=(slot["starts_at"] - timedelta(minutes=cutoff_min)).astimezone(CITY_TZ)
            if r["status"] in HOLDING_SEATS
            else None,
            waitlist_position=await waitlist.position(r) if r["status"] == "waitlisted" else None,
            cancel_reason=r["cancel_reason"],
            payment=payment,
            contact_phone_masked=r.get("contact_phone_masked"),
        )

    async def list_mine(self, user: AuthUser, limit: int, offset: int) -> tuple[list[ReservationOut], int]:
        total = await Reservation.count().where(Reservation.user_id == user.id)
        rows = await self._rows(Reservation.user_id == user.id)
        page = rows[offset : offset + limit]
        paid = await self.payments().views([r["id"] for r, _, _ in page])
        return [await self._to_out(r, s, p, payment=paid.get(r["id"])) for r, s, p in page], total

    async def _mine(self, user: AuthUser, public_id: str) -> Found:
        try:
            key = uuid.UUID(public_id)
        except ValueError:
            raise NotFound("reservation_not_found", "no such reservation") from None
        rows = await self._rows((Reservation.public_id == key) & (Reservation.user_id == user.id))
        if not rows:  # someone else's booking is indistinguishable from none
            raise NotFound("reservation_not_found", "no such reservation")
        return rows[0]

    async def get(self, user: AuthUser, public_id: str) -> ReservationOut:
        r, slot, people = await self._mine(user, public_id)
        paid = await self.payments().views([r["id"]])
        return await self._to_out(r, slot, people, payment=paid.get(r["id"]))

    # ---- ending a booking (backend.reservations.waitlist)

    async def cancel(self, user: AuthUser, public_id: str) -> CancelResult:
        r, slot, _ = await self._mine(user, public_id)
        if r["status"] not in ACTIVE:
            raise Conflict("not_cancellable", f"the booking is {r['status']}")
        if r["status"] in HOLDING_SEATS:
            cutoff = (await venue_by_slug(r["venue_slug"]))["cancel_cutoff_minutes"]
            if clock.now() > slot["starts_at"] - timedelta(minutes=cutoff):
                raise Conflict("cancel_too_late", f"bookings can be cancelled until {cutoff} minutes before the slot")
        refund_owed = (self.payments(), "holder_cancelled") if r["amount_fen"] else None
        if not await waitlist.end_booking(r["id"], "cancelled", "holder", refund=refund_owed):
            raise Conflict("reservation_changed", "the booking changed meanwhile; reload it")
        # owed with the cancellation; asked of the provider now, or by the sweeper (then `pending`)
        refund = await self.payments().refund_reservation(r["id"], "holder_cancelled") if r["amount_fen"] else None
        await waitlist.promote(slot["id"])
        log.info("reservation cancelled", extra={"reservation": public_id, "refunded": refund is not None})
        return CancelResult(id=public_id, status="cancelled", refund=refund)

    async def expire_holds(self) -> int:
        return await waitlist.expire_holds()

    async def promote_waitlist(self, slot_id: int) -> int:
        """Give freed seats to waitlisted bookings, strictly first come first served."""
        return await waitlist.promote(slot_id)

    async def sweep(self) -> None:
        """The periodic pass every replica runs: expire holds, fill seats left free, and make the refunds
        owed for bookings that ended (each claimed by one replica)."""
        try:
            await waitlist.sweep()
        finally:
            await self.payments().settle_due_refunds()

    # ---- notifications

    async def notifications(self, user: AuthUser, limit: int = 50) -> list[NotificationOut]:
        rows = (
            await Notification.select()
            .where(Notification.user_id == user.id)
            .order_by(Notification.id, ascending=False)
            .limit(limit)
        )
        return [
            NotificationOut(
                id=r["id"],
                kind=r["kind"],
                created_at=r["created_at"].astimezone(CITY_TZ),
                reservation_id=str(r["reservation_public_id"]) if r["reservation_public_id"] else None,
                venue_slug=r["venue_slug"],
                read=r["read_at"] is not None,
                detail=r["detail"],
            )
            for r in rows
        ]

    async def mark_read(self, user: AuthUser, notification_id: int) -> None:
        found = (
            await Notification.update({Notification.read_at: clock.now()})
            .where((Notification.id == notification_id) & (Notification.user_id == user.id))
            .returning(Notification.id)
        )
        if not found:
            raise NotFound("notification_not_found", "no such message")


reservations = ReservationService()


class PaidBookings:
    """The reservations side of a payment (`payments.ports.Bookings`), bound into payments by create_app."""

    async def payable(self, user_id: int, public_id: uuid.UUID) -> PayableBooking | None:
        r = (
            await Reservation.select(
                Reservation.id,
                Reservation.public_id,
                Reservation.status,
                Reservation.hold_expires_at,
                Reservation.amount_fen,
                Reservation.party_size,
                Reservation.venue_slug,
                Reservation.slot.starts_at,
            )
            .where((Reservation.public_id == public_id) & (Reservation.user_id == user_id))
            .first()
        )
        if r is None:
            return None
        return PayableBooking(
            id=r["id"],
            public_id=r["public_id"],
            status=r["status"],
            hold_expires_at=r["hold_expires_at"],
            amount_fen=r["amount_fen"],
            party_size=r["party_size"],
            venue_slug=r["venue_slug"],
            starts_at=r["slot.starts_at"],
        )

    async def hold_until(self, booking_id: int, until: datetime) -> bool:
        held = (
            await Reservation.update({Reservation.hold_expires_at: until})
            .where((Reservation.id == booking_id) & (Reservation.status == "pending_payment"))
            .returning(Reservation.id)
        )
        return bool(held)

    async def paid(self, booking_id: int) -> bool:
        confirmed = (
            await Reservation.update({Reservation.status: "confirmed", Reservation.hold_expires_at: None})
            .where((Reservation.id == booking_id) & (Reservation.status == "pending_payment"))
            .returning(Reservation.id)
        )
        return bool(confirmed)

    async def seats_gone(self, booking_id: int) -> None:
        await waitlist.promote(await self._slot_of(booking_id))

    async def payment_expired(self, booking_id: int) -> None:
        if await waitlist.end_booking(
            booking_id, "expired", "payment_expired", notify="hold_expired", only_from=("pending_payment",)
        ):
            await waitlist.promote(await self._slot_of(booking_id))

    async def _slot_of(self, booking_id: int) -> int:
        row = await Reservation.select(Reservation.slot).where(Reservation.id == booking_id).first()
        if row is None:  # a booking's row is never deleted
            raise LookupError(f"no booking {booking_id}")
        slot_id: int = row["slot"]
        return slot_id


paid_bookings = PaidBookings()
