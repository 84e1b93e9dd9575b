"""Performances: dated occurrences of an event that sell tickets, with price zones and what is left.

A performance's seats are counted by a reservations slot of kind `performance` (made with it), so booking
one goes through `ReservationService.book` like a timed-entry slot, and payment, refunds, the pass and
the gate follow. Seated performances (a hall with a seat map) add seat claims (`seating`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import msgspec

from backend.lib.clock import CITY_TZ, clock
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.reservations.ports import PerformanceTarget, Place
from backend.reservations.services import reservations
from backend.reservations.slots import slot_by_id
from backend.tickets.schemas import PerformanceOut, PriceZone
from backend.tickets.tables import Performance, Seat, SeatClaim

log = logging.getLogger("changxiang.tickets")

# a claim that holds its seat: a hold still running, or a booking that still holds seats
LIVE_CLAIM = (
    "((c.reservation_id IS NULL AND c.expires_at > {}) OR c.reservation_id IN "
    "(SELECT r.id FROM reservations r WHERE r.status IN ('confirmed', 'pending_payment')))"
)


class ZoneSpec(msgspec.Struct, frozen=True):
    zone: str
    price_fen: int


def zones_of(row: dict[str, Any]) -> list[ZoneSpec]:
    return msgspec.json.decode(row["zones"], type=list[ZoneSpec])


async def create_performance(
    event_slug: str,
    venue_slug: str,
    starts_at: datetime,
    ends_at: datetime,
    zones: dict[str, int],
    hall_slug: str | None = None,
    capacity: int | None = None,
) -> int:
    """Make a performance (once per event and start) and the slot that counts its seats: a hall's sellable
    seats, or `capacity` places without a seat map. Answers its id."""
    if not zones:
        raise InvalidInput("zones_required", "a performance has at least one price zone", field="zones")
    key = f"{event_slug}|{starts_at.astimezone(CITY_TZ).isoformat()}"
    existing = await Performance.select(Performance.id).where(Performance.key == key).first()
    if existing is not None:  # made before: loading content again changes nothing
        found: int = existing["id"]
        return found
    if hall_slug is not None:
        seats = {
            r["zone"]: r["n"]
            for r in await Seat.raw(
                "SELECT zone, count(*) AS n FROM hall_seats WHERE hall_slug = {} AND NOT blocked GROUP BY zone",
                hall_slug,
            )
        }
        if not seats:
            raise NotFound("hall_not_found", f"no seats in hall {hall_slug!r}")
        if set(seats) - set(zones):
            raise InvalidInput("zone_unknown", f"zones {sorted(set(seats) - set(zones))} have no price", field="zones")
        capacity = sum(seats.values())
    if capacity is None or capacity <= 0:
        raise InvalidInput("capacity_required", "a performance without a seat map needs a capacity", field="capacity")
    slot_id = await reservations.add_performance_slot(
        f"performance|{key}", venue_slug, starts_at, ends_at, capacity, min(zones.values())
    )
    specs = [ZoneSpec(z, p) for z, p in sorted(zones.items(), key=lambda kv: -kv[1])]
    await Performance.insert(
        Performance(
            key=key,
            event_slug=event_slug,
            venue_slug=venue_slug,
            hall_slug=hall_slug,
            starts_at=starts_at,
            ends_at=ends_at,
            slot_id=slot_id,
            zones=msgspec.json.encode(specs).decode(),
        )
    ).on_conflict(target=Performance.key, action="DO NOTHING")
    row = await Performance.select(Performance.id).where(Performance.key == key).first()
    if row is None:  # written just above (or by a twin)
        raise LookupError(key)
    made: int = row["id"]
    return made


async def performance_row(performance_id: int) -> dict[str, Any]:
    row = await Performance.select().where(Performance.id == performance_id).first()
    if row is None:
        raise NotFound("performance_not_found", "no such performance")
    return row


async def zone_remaining(row: dict[str, Any], slot: dict[str, Any]) -> list[PriceZone]:
    """Each zone's price and places left: a hall's free seats per zone, or the slot's places left."""
    specs = zones_of(row)
    if row["hall_slug"] is None:
        left = max(0, slot["capacity"] - slot["booked"])
        return [PriceZone(zone=z.zone, price_fen=z.price_fen, remaining=left) for z in specs]
    totals = {
        r["zone"]: r["n"]
        for r in await Seat.raw(
            "SELECT zone, count(*) AS n FROM hall_seats WHERE hall_slug = {} AND NOT blocked GROUP BY zone",
            row["hall_slug"],
        )
    }
    taken = {
        r["zone"]: r["n"]
        for r in await Seat.raw(
            "SELECT s.zone AS zone, count(*) AS n FROM seat_claims c JOIN hall_seats s ON s.id = c.seat_id "
            "WHERE c.performance_id = {} AND " + LIVE_CLAIM + " GROUP BY s.zone",
            row["id"],
            clock.now(),
        )
    }
    return [
        PriceZone(zone=z.zone, price_fen=z.price_fen, remaining=max(0, totals.get(z.zone, 0) - taken.get(z.zone, 0)))
        for z in specs
    ]


async def performance_out(row: dict[str, Any], title: str | None = None) -> PerformanceOut:
    slot = await slot_by_id(row["slot_id"])
    if slot is None:  # made with the performance, never deleted
        raise LookupError(row["slot_id"])
    zones = await zone_remaining(row, slot)
    remaining = max(0, slot["capacity"] - slot["booked"])
    if row["hall_slug"] is not None:
        remaining = min(remaining, sum(z.remaining for z in zones))
    closed = slot["status"] == "closed" or row["starts_at"] <= clock.now()
    return PerformanceOut(
        id=row["id"],
        event_slug=row["event_slug"],
        venue_slug=row["venue_slug"],
        starts_at=row["starts_at"].astimezone(CITY_TZ),
        ends_at=row["ends_at"].astimezone(CITY_TZ),
        seat_map=row["hall_slug"] is not None,
        price_zones=zones,
        remaining=remaining,
        status="closed" if closed else ("sold_out" if remaining == 0 else "open"),
        hall=row["hall_slug"],
        title=title,
    )


async def upcoming(event_slug: str, limit: int = 60) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await Performance.select()
        .where((Performance.event_slug == event_slug) & (Performance.starts_at > clock.now()))
        .order_by(Performance.starts_at)
        .limit(limit)
    )
    return rows


# ---------------------------------------------------------------- booking (reservations.ports.Ticketing)


async def target(
    user_id: int, performance_id: int, hold_id: str | None, zone: str | None, party: int
) -> PerformanceTarget:
    row = await performance_row(performance_id)
    prices = {z.zone: z.price_fen for z in zones_of(row)}
    if row["hall_slug"] is None:
        chosen = zone if zone is not None else (next(iter(prices)) if len(prices) == 1 else None)
        if chosen is None or chosen not in prices:
            raise InvalidInput("zone_unknown", f"choose a zone: {sorted(prices)}", field="zone")
        return PerformanceTarget(row["id"], row["slot_id"], [Place(zone=chosen, full_fen=prices[chosen])] * party)
    if hold_id is None:
        raise InvalidInput("hold_required", "hold seats first (POST /performances/{id}/holds)", field="hold_id")
    held = await Seat.raw(
        "SELECT s.id AS id, s.zone AS zone, s.section_zh AS section, s.row AS row, s.number AS number "
        "FROM seat_claims c JOIN hall_seats s ON s.id = c.seat_id WHERE c.hold_id = {} AND c.user_id = {} "
        "AND c.performance_id = {} AND c.reservation_id IS NULL AND c.expires_at > {} "
        "ORDER BY s.section_order, s.row, s.number",
        hold_id,
        user_id,
        performance_id,
        clock.now(),
    )
    if not held:
        raise Conflict("hold_expired", "no live hold of yours with this id: hold the seats again")
    if len(held) != party:
        raise InvalidInput(
            "hold_size_mismatch", f"the hold has {len(held)} seats: one visitor per seat", field="visitors"
        )
    places = [
        Place(zone=s["zone"], full_fen=prices[s["zone"]], seat_id=s["id"], seat_label=seat_label(s)) for s in held
    ]
    return PerformanceTarget(row["id"], row["slot_id"], places, hold_id)


def seat_label(seat: dict[str, Any]) -> str:
    return f"{seat['section']} {seat['row']}排{seat['number']}座"


async def sell_hold(t: PerformanceTarget, user_id: int, reservation_id: int) -> bool:
    """One conditional UPDATE: the hold's seats become the reservation's while the hold still runs."""
    sold = await SeatClaim.raw(
        "UPDATE seat_claims SET reservation_id = {}, expires_at = NULL WHERE hold_id = {} AND user_id = {} "
        "AND performance_id = {} AND reservation_id IS NULL AND expires_at > {} RETURNING seat_id",
        reservation_id,
        t.hold_id,
        user_id,
        t.performance_id,
        clock.now(),
    )
    return {r["seat_id"] for r in sold} == {p.seat_id for p in t.places}
