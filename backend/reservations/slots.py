"""Timed-entry slots: planned from a venue's OSM opening hours and slot rules, listed with the seats
left, changed by the venue's staff (capacity never below what is booked) and closed (the bookings end,
their holders are told and paid ones refunded)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

from opening_hours import OpeningHours, State

from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import fetch
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.reservations import seats, waitlist
from backend.reservations.disruptions import Disruption, end_for_closure
from backend.reservations.ports import Payments
from backend.reservations.schemas import SlotList, SlotOut, SlotPatch, SlotStatus
from backend.reservations.tables import Reservation, Slot
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.reservations")


def plan_slots(venue: dict[str, Any], day: date) -> list[dict[str, Any]]:
    """The slots of `day` from the venue's OSM opening hours and its slot rules."""
    length = timedelta(minutes=venue["slot_minutes"])
    step = timedelta(minutes=venue["slot_interval_minutes"] or venue["slot_minutes"])
    start = datetime(day.year, day.month, day.day)
    hours = OpeningHours(venue["opening_hours"])
    windows = [(a, b) for a, b, state, _ in hours.intervals(start, start + timedelta(days=1)) if state == State.OPEN]
    starts: list[tuple[datetime, datetime]] = []
    for opens, closes in windows:
        t = opens
        while t + length <= closes:
            starts.append((t, t + length))
            t += step
    if not starts:
        return []
    per_slot = max(1, min(venue["capacity"], venue["daily_capacity"] // len(starts)))
    plans = []
    for a, b in starts:
        starts_at = a.replace(tzinfo=CITY_TZ).astimezone(UTC)
        plans.append(
            {
                "key": f"{venue['slug']}|{starts_at.isoformat()}",
                "venue_slug": venue["slug"],
                "local_date": day,
                "starts_at": starts_at,
                "ends_at": b.replace(tzinfo=CITY_TZ).astimezone(UTC),
                "capacity": per_slot,
                "booked": 0,
                "status": "open",
                "price_fen": venue["price_fen"],
            }
        )
    return plans


def slot_out(row: dict[str, Any], now: datetime | None = None) -> SlotOut:
    remaining = max(0, row["capacity"] - row["booked"])
    status: SlotStatus
    if row["status"] == "closed" or row["ends_at"] <= (now or clock.now()):
        status = "closed"
    elif remaining == 0:
        status = "full"
    else:
        status = "open"
    return SlotOut(
        id=row["id"],
        starts_at=row["starts_at"].astimezone(CITY_TZ),
        ends_at=row["ends_at"].astimezone(CITY_TZ),
        capacity=row["capacity"],
        remaining=remaining,
        price_fen=row["price_fen"],
        currency="CNY",
        status=status,
    )


SLOT_COLUMNS = (
    Slot.id,
    Slot.venue_slug,
    Slot.starts_at,
    Slot.ends_at,
    Slot.capacity,
    Slot.booked,
    Slot.status,
    Slot.price_fen,
    Slot.kind,  # entry | performance (a performance's places: booked by performance_id, never moved)
)


async def venue_by_slug(slug: str) -> dict[str, Any]:
    row = await Venue.select().where(Venue.slug == slug).first()
    if row is None:
        raise NotFound("venue_not_found", f"no venue {slug!r}")
    return row


# written once (every booking reads its slot): Piccolo's query builder costs more than the query here
_SLOT_BY_ID = "SELECT " + ", ".join(c._meta.db_column_name for c in SLOT_COLUMNS) + " FROM slots WHERE id = {}"


async def slot_by_id(slot_id: int) -> dict[str, Any] | None:
    rows = await fetch(_SLOT_BY_ID, slot_id)
    return rows[0] if rows else None


async def ensure_slots(venue: dict[str, Any], day: date) -> None:
    if await Slot.exists().where(
        (Slot.venue_slug == venue["slug"]) & (Slot.local_date == day) & (Slot.kind == "entry")
    ):
        return
    plans = plan_slots(venue, day)
    if plans:
        await Slot.insert(*[Slot(**p) for p in plans]).on_conflict(target=Slot.key, action="DO NOTHING")


async def list_slots(slug: str, day: date) -> SlotList:
    venue = await venue_by_slug(slug)
    today = clock.city_today()
    if not venue["reservation_required"]:
        return SlotList(venue_slug=slug, date=day, reservation_required=False, items=[])
    if day < today or day > today + timedelta(days=venue["advance_days"]):
        raise InvalidInput(
            "date_out_of_range",
            f"slots open {venue['advance_days']} days ahead: {today} to "
            f"{today + timedelta(days=venue['advance_days'])}",
            field="date",
        )
    await ensure_slots(venue, day)
    rows = (
        await Slot.select(*SLOT_COLUMNS)
        .where((Slot.venue_slug == slug) & (Slot.local_date == day) & (Slot.kind == "entry"))
        .order_by(Slot.starts_at)
    )
    now = clock.now()
    return SlotList(venue_slug=slug, date=day, reservation_required=True, items=[slot_out(r, now) for r in rows])


async def update_slot(user: AuthUser, slug: str, slot_id: int, patch: SlotPatch, payments: Payments) -> SlotOut:
    require_venue_staff(user, slug)
    slot = await slot_by_id(slot_id)
    if slot is None or slot["venue_slug"] != slug:
        raise NotFound("slot_not_found", "no such slot at this venue")
    if patch.capacity is None and patch.status is None:
        raise InvalidInput("empty_patch", "send capacity and/or status", field="capacity")
    if patch.capacity is not None:
        rows = await Slot.raw(
            "UPDATE slots SET capacity = {} WHERE id = {} AND booked <= {} RETURNING id",
            patch.capacity,
            slot_id,
            patch.capacity,
        )
        if not rows:
            raise Conflict("capacity_below_booked", f"{slot['booked']} seats are booked; capacity cannot go below that")
    if patch.status == "closed" and slot["status"] != "closed":
        await close_slot(slot_id, payments)
    elif patch.status == "open":
        await seats.reopen(slot_id)
    await waitlist.promote(slot_id)
    log.info(
        "slot changed by staff",
        extra={
            "slot_id": slot_id,
            "venue": slug,
            "by": user.id,
            "capacity": patch.capacity,
            "status": patch.status,
        },
    )
    changed = await slot_by_id(slot_id)
    if changed is None:  # slots are never deleted
        raise NotFound("slot_not_found", "no such slot at this venue")
    return slot_out(changed)


async def close_slot(slot_id: int, payments: Payments, disruption: Disruption | None = None) -> None:
    """Stop selling the slot; its bookings are cancelled and their holders told. A confirmed booking is
    offered to `disruptions.booking_disrupted`'s receivers first (a rebooking offer, which then owes its
    refund); the others' payments are refunded now. `disruption` says why (default: staff closed the slot)."""
    await Slot.update({Slot.status: "closed"}).where(Slot.id == slot_id)
    if disruption is None:
        slot = await slot_by_id(slot_id)
        window = (slot["starts_at"], slot["ends_at"]) if slot else None
        disruption = Disruption("slot_closed", venues=(slot["venue_slug"],) if slot else (), window=window)
    holders = await Reservation.select(Reservation.id).where(
        (Reservation.slot == slot_id) & Reservation.status.is_in(list(waitlist.ACTIVE))
    )
    refund_now = [h["id"] for h in holders if await end_for_closure(h["id"], payments, disruption)]
    await payments.refund_reservations(refund_now, "slot_closed")
