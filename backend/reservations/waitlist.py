"""How a booking ends and who gets its seats: ending a booking (cancel, expiry, slot closure) gives its
seats and visitor claims back; holds that run out expire; freed seats go to the waitlist strictly first
come first served; `sweep` is the periodic pass every replica runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from backend.lib import live_events
from backend.lib.clock import clock
from backend.lib.db import write_transaction
from backend.reservations import seats
from backend.reservations.ports import Payments
from backend.reservations.tables import Notification, Reservation, VisitorClaim
from backend.settings import get_settings

log = logging.getLogger("changxiang.reservations")

ACTIVE = ("confirmed", "pending_payment", "waitlisted")
HOLDING_SEATS = ("confirmed", "pending_payment")


class _Superseded(Exception):
    pass


async def end_booking(
    reservation_id: int,
    status: str,
    reason: str,
    notify: str | None = None,
    only_from: tuple[str, ...] = ACTIVE,
    refund: tuple[Payments, str] | None = None,
) -> bool:
    """Move one booking out of the active states; give its seats and visitor claims back; with `refund`
    (the payments port and a reason), record what was paid for it as owed back. Atomic."""
    async with write_transaction():
        current = (
            await Reservation.select(
                Reservation.status,
                Reservation.slot,
                Reservation.party_size,
                Reservation.user_id,
                Reservation.public_id,
                Reservation.venue_slug,
            )
            .where(Reservation.id == reservation_id)
            .first()
        )
        if current is None or current["status"] not in only_from:
            return False
        changed = (
            await Reservation.update(
                {Reservation.status: status, Reservation.cancelled_at: clock.now(), Reservation.cancel_reason: reason}
            )
            .where((Reservation.id == reservation_id) & (Reservation.status == current["status"]))
            .returning(Reservation.id)
        )
        if not changed:
            return False
        if current["status"] in HOLDING_SEATS:
            await seats.release(current["slot"], current["party_size"])
        await VisitorClaim.delete().where(VisitorClaim.reservation == reservation_id)
        if refund is not None:
            payments, refund_reason = refund
            await payments.owe_refund(reservation_id, refund_reason)
        if notify:
            await Notification.insert(
                Notification(
                    user_id=current["user_id"],
                    kind=notify,
                    reservation_public_id=current["public_id"],
                    venue_slug=current["venue_slug"],
                )
            )
    if notify:
        live_events.publish(
            "notifications",
            {"user_id": current["user_id"], "kind": notify, "venue_slug": current["venue_slug"]},
        )
    return True


async def position(r: dict[str, Any]) -> int:
    """A waitlisted booking's place in its slot's queue (1 is next)."""
    ahead: int = await Reservation.count().where(
        (Reservation.slot == r["slot"])
        & (Reservation.status == "waitlisted")
        & (
            (Reservation.created_at < r["created_at"])
            | ((Reservation.created_at == r["created_at"]) & (Reservation.id < r["id"]))
        )
    )
    return ahead + 1


async def expire_holds() -> int:
    due = (
        await Reservation.select(Reservation.id, Reservation.slot)
        .where((Reservation.status == "pending_payment") & (Reservation.hold_expires_at < clock.now()))
        .limit(200)
    )
    expired = 0
    for row in due:
        if await end_booking(
            row["id"], "expired", "hold_expired", notify="hold_expired", only_from=("pending_payment",)
        ):
            expired += 1
            await promote(row["slot"])
    return expired


async def promote(slot_id: int) -> int:
    """Give freed seats to waitlisted bookings, strictly first come first served."""
    settings = get_settings()
    promoted = 0
    while True:
        nxt = (
            await Reservation.select(
                Reservation.id,
                Reservation.party_size,
                Reservation.user_id,
                Reservation.public_id,
                Reservation.venue_slug,
                Reservation.amount_fen,
            )
            .where((Reservation.slot == slot_id) & (Reservation.status == "waitlisted"))
            .order_by(Reservation.created_at)
            .order_by(Reservation.id)
            .first()
        )
        if nxt is None:
            return promoted
        try:
            async with write_transaction():
                if not await seats.take(slot_id, nxt["party_size"]):
                    return promoted
                paid = nxt["amount_fen"] > 0
                changed = (
                    await Reservation.update(
                        {
                            Reservation.status: "pending_payment" if paid else "confirmed",
                            Reservation.hold_expires_at: clock.now() + timedelta(seconds=settings.payment_hold_s)
                            if paid
                            else None,
                        }
                    )
                    .where((Reservation.id == nxt["id"]) & (Reservation.status == "waitlisted"))
                    .returning(Reservation.id)
                )
                if not changed:
                    raise _Superseded
                await Notification.insert(
                    Notification(
                        user_id=nxt["user_id"],
                        kind="waitlist_promoted",
                        reservation_public_id=nxt["public_id"],
                        venue_slug=nxt["venue_slug"],
                    )
                )
        except _Superseded:
            continue  # someone else moved it (cancelled, or another replica promoted it): look again
        live_events.publish(
            "notifications",
            {"user_id": nxt["user_id"], "kind": "waitlist_promoted", "venue_slug": nxt["venue_slug"]},
        )
        promoted += 1
        log.info("waitlist promoted", extra={"reservation": str(nxt["public_id"]), "slot_id": slot_id})


async def sweep() -> None:
    """The periodic pass every replica runs: expire holds, then fill seats left free."""
    await expire_holds()
    waiting = await Reservation.select(Reservation.slot).where(Reservation.status == "waitlisted").distinct()
    for row in waiting:
        await promote(row["slot"])
