"""Seat maps and seat holds. A seat of a performance is claimed at most once: `(performance_id, seat_id)`
is unique in `seat_claims`, so of two holds (or a hold and a booking) racing for a seat the database lets
one through and the other gets 409 `seat_taken`. A hold lapses by itself (`expires_at`); claims of lapsed
holds and of bookings that ended are deleted by the next hold of those seats, in its own transaction.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from piccolo.custom_types import Combinable

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_deadlock, is_unique_violation, write_transaction
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.reservations.slots import slot_by_id
from backend.settings import get_settings
from backend.tickets.performances import LIVE_CLAIM, performance_row, seat_label, zone_remaining, zones_of
from backend.tickets.schemas import HeldSeat, HoldIn, HoldOut, SeatMapOut, SeatOut, SeatRow, SeatSection, SeatStatus
from backend.tickets.tables import Hall, Seat, SeatClaim

HOLD_S = 600  # a hold lasts ten minutes: time to choose ticket types and book
_RETRIES = 5  # best-N: other windows tried when a racing hold took the best one first
_DEADLOCK_RETRIES = 3  # a hold PostgreSQL failed to break a lock cycle is run again, then refused as taken


async def _seats(hall_slug: str, zone: str | None = None) -> list[dict[str, Any]]:
    where: Combinable = Seat.hall_slug == hall_slug
    if zone is not None:
        where = where & (Seat.zone == zone)
    rows: list[dict[str, Any]] = (
        await Seat.select().where(where).order_by(Seat.section_order).order_by(Seat.row).order_by(Seat.number)
    )
    return rows


async def _claims(performance_id: int) -> dict[int, str]:
    """Each claimed seat's status: `sold` (a confirmed booking) or `held` (a hold, or a booking awaiting
    payment)."""
    rows = await SeatClaim.raw(
        "SELECT c.seat_id AS seat_id, r.status AS status FROM seat_claims c "
        "LEFT JOIN reservations r ON r.id = c.reservation_id WHERE c.performance_id = {} AND " + LIVE_CLAIM,
        performance_id,
        clock.now(),
    )
    return {r["seat_id"]: "sold" if r["status"] == "confirmed" else "held" for r in rows}


async def seat_map(performance_id: int, lang: Lang) -> SeatMapOut:
    row = await performance_row(performance_id)
    if row["hall_slug"] is None:
        raise NotFound("seat_map_not_found", "this performance has no seat map: book by zone")
    hall = await Hall.select().where(Hall.slug == row["hall_slug"]).first()
    slot = await slot_by_id(row["slot_id"])
    if hall is None or slot is None:
        raise NotFound("seat_map_not_found", "no seat map")
    claimed = await _claims(performance_id)
    sections = []
    for _, section_seats in groupby(await _seats(row["hall_slug"]), key=lambda s: s["section"]):
        seats = list(section_seats)
        rows = []
        for number, row_seats in groupby(seats, key=lambda s: s["row"]):
            out = []
            for s in row_seats:
                status: SeatStatus = "blocked" if s["blocked"] else claimed.get(s["id"], "free")  # type: ignore[assignment]  # "sold" | "held"
                out.append(SeatOut(s["id"], s["number"], s["x"], s["y"], s["zone"], status, s["accessible"]))
            rows.append(SeatRow(row=number, seats=out))
        first = seats[0]
        sections.append(
            SeatSection(id=first["section"], name=pick(first["section_zh"], first["section_en"], lang), rows=rows)
        )
    return SeatMapOut(
        performance_id=performance_id,
        hall=pick(hall["name_zh"], hall["name_en"], lang),
        stage="top",
        price_zones=await zone_remaining(row, slot),
        sections=sections,
    )


async def hold(user: AuthUser, performance_id: int, data: HoldIn) -> HoldOut:
    """Hold the seats picked (`seat_ids`), or the best `count` adjacent seats of `zone`, for HOLD_S.
    A new hold of the same performance gives back the caller's earlier unbooked one."""
    row = await performance_row(performance_id)
    if row["hall_slug"] is None:
        raise NotFound("seat_map_not_found", "this performance has no seat map: book by zone")
    if row["starts_at"] <= clock.now():
        raise Conflict("performance_past", "this performance has begun")
    slot = await slot_by_id(row["slot_id"])
    if slot is None or slot["status"] == "closed":
        raise Conflict("venue_closed", "this performance is not on sale")
    limit = get_settings().max_party_size
    prices = {z.zone: z.price_fen for z in zones_of(row)}
    if data.seat_ids is not None:
        if data.count is not None or data.zone is not None:
            raise InvalidInput("hold_ambiguous", "give seat_ids, or count and zone", field="seat_ids")
        ids = list(dict.fromkeys(data.seat_ids))
        if len(ids) > limit:
            raise InvalidInput("party_too_large", f"at most {limit} seats per booking", field="seat_ids")
        seats = await Seat.select().where((Seat.hall_slug == row["hall_slug"]) & Seat.id.is_in(ids))
        if len(seats) != len(ids):
            raise InvalidInput("seat_unknown", "a seat is not in this hall", field="seat_ids")
        if any(s["blocked"] for s in seats):
            raise Conflict("seat_taken", "a seat is not for sale")
        return await _take(user, row, seats, prices)
    if data.count is None or data.zone is None:
        raise InvalidInput("hold_ambiguous", "give seat_ids, or count and zone", field="count")
    if data.zone not in prices:
        raise InvalidInput("zone_unknown", f"zones: {sorted(prices)}", field="zone")
    if data.count > limit:
        raise InvalidInput("party_too_large", f"at most {limit} seats per booking", field="count")
    tried: set[int] = set()
    for _ in range(_RETRIES):
        window = await _best_window(user, row, data.zone, data.count, data.accessible, tried)
        if window is None:
            break
        try:
            return await _take(user, row, window, prices)
        except Conflict:
            tried.update(s["id"] for s in window)  # a racing hold won these: try the next best
    raise Conflict("no_adjacent_seats", f"no {data.count} adjacent seats left in zone {data.zone}")


async def _best_window(
    user: AuthUser, row: dict[str, Any], zone: str, count: int, accessible: bool, tried: set[int]
) -> list[dict[str, Any]] | None:
    """The best `count` seats side by side in one row of `zone`: the row nearest the stage, then the
    window nearest the row's centre line."""
    claimed = await _claims(row["id"])
    mine = {
        r["seat_id"]
        for r in await SeatClaim.select(SeatClaim.seat_id).where(
            (SeatClaim.performance_id == row["id"])
            & (SeatClaim.user_id == user.id)
            & SeatClaim.reservation_id.is_null()
        )
    }
    best: tuple[tuple[int, int, float], list[dict[str, Any]]] | None = None
    for (section_order, number), row_seats in groupby(
        await _seats(row["hall_slug"], zone), key=lambda s: (s["section_order"], s["row"])
    ):
        seats = list(row_seats)
        for i in range(len(seats) - count + 1):
            window = seats[i : i + count]
            if any(s["blocked"] or s["id"] in tried or (s["id"] in claimed and s["id"] not in mine) for s in window):
                continue
            if any(b["number"] - a["number"] != 1 for a, b in zip(window, window[1:], strict=False)):
                continue
            if accessible and not any(s["accessible"] for s in window):
                continue
            centre = sum(s["x"] for s in window) / count
            score = (section_order, number, abs(centre))
            if best is None or score < best[0]:
                best = (score, window)
    return best[1] if best else None


async def _take(user: AuthUser, row: dict[str, Any], seats: list[dict[str, Any]], prices: dict[str, int]) -> HoldOut:
    """Claim the seats (`_claim`), run again if PostgreSQL broke a lock cycle by failing it."""
    now = clock.now()
    expires = now + timedelta(seconds=HOLD_S)
    hold_id = "h_" + secrets.token_urlsafe(12)
    ids = sorted(s["id"] for s in seats)  # rows inserted in one order (stale claims deleted first can still cross)
    marks = ", ".join(["{}"] * len(ids))
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            await _claim(user, row, ids, marks, hold_id, expires, now)
            break
        except Exception as exc:
            if is_unique_violation(exc):
                raise Conflict("seat_taken", "a seat was taken a moment ago: pick another") from None
            # two holds clearing a stale claim of one seat and inserting another's can wait on each other;
            # PostgreSQL fails one of them, which wrote nothing
            if is_deadlock(exc) and attempt + 1 < _DEADLOCK_RETRIES:
                continue
            if is_deadlock(exc):
                raise Conflict("seat_taken", "the seats are being taken right now: try again") from None
            raise
    held = [
        HeldSeat(
            id=s["id"],
            label=seat_label({"section": s["section_zh"], "row": s["row"], "number": s["number"]}),
            section=s["section"],
            row=s["row"],
            number=s["number"],
            zone=s["zone"],
            price_fen=prices[s["zone"]],
            accessible=s["accessible"],
        )
        for s in sorted(seats, key=lambda s: (s["section_order"], s["row"], s["number"]))
    ]
    return HoldOut(
        hold_id=hold_id,
        performance_id=row["id"],
        seats=held,
        expires_at=expires.astimezone(CITY_TZ),
        full_price_fen=sum(h.price_fen for h in held),
    )


async def _claim(
    user: AuthUser, row: dict[str, Any], ids: list[int], marks: str, hold_id: str, expires: datetime, now: datetime
) -> None:
    """The hold's one write transaction: stale claims of the seats go, the caller's earlier unbooked hold
    goes, then one INSERT that the unique key lets through whole or not at all."""
    async with write_transaction():
        await SeatClaim.raw(
            f"DELETE FROM seat_claims WHERE performance_id = {{}} AND seat_id IN ({marks}) AND NOT EXISTS "
            "(SELECT 1 FROM seat_claims c WHERE c.id = seat_claims.id AND " + LIVE_CLAIM + ")",
            row["id"],
            *ids,
            now,
        )
        await SeatClaim.raw(
            "DELETE FROM seat_claims WHERE performance_id = {} AND user_id = {} AND reservation_id IS NULL",
            row["id"],
            user.id,
        )
        await SeatClaim.raw(
            "INSERT INTO seat_claims (performance_id, seat_id, hold_id, user_id, reservation_id, expires_at, "
            "created_at) VALUES " + ", ".join(["({}, {}, {}, {}, NULL, {}, {})"] * len(ids)),
            *[x for seat_id in ids for x in (row["id"], seat_id, hold_id, user.id, expires, now)],
        )


async def release(user: AuthUser, performance_id: int, hold_id: str) -> None:
    """Give a hold back before it lapses."""
    gone = await SeatClaim.raw(
        "DELETE FROM seat_claims WHERE performance_id = {} AND hold_id = {} AND user_id = {} "
        "AND reservation_id IS NULL RETURNING id",
        performance_id,
        hold_id,
        user.id,
    )
    if not gone:
        raise NotFound("hold_not_found", "no such hold")
