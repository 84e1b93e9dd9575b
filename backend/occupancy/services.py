"""Live occupancy and comfort levels (LB/T 034-2014): gate counts, walk-ins at the manual window, entry
refusal at capacity and the same-day sales stop.

Occupancy is read from the gate counts (`GateCount`), which every replica shares: people moved by
accepted scans (party sizes, counted by `passes` in the scan's own write) and walk-ins, per venue and
counting window (from the venue's last closing time when it has closed today: the daily reset). All
venues are one indexed query, kept for `GOV_OCCUPANCY_CACHE_S` per process for readers (venue pages,
the dashboard, the same-day sales stop); decisions at the gate and the window read the one venue fresh.

A directive of the supervision platform (`limit`, `close`) sets a venue's capacity in force; occupancy
reads the ones in force itself (the `Directive` rows governance writes when it applies one). This room
imports nothing above it: who must hear of a movement (the supervision bridge) connects to
`occupancy_changed`.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from typing import Any

from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import HotRowQueue, atomic_write, write_transaction
from backend.lib.problems import Conflict, NotFound
from backend.lib.signals import Signal, live_figures
from backend.occupancy.counts import (  # re-exported: the gate and the cards count through this room
    MOVED_IN_CTE,
    MOVED_JUST_BEFORE,
    GateMovement,
    add_to_gate_count,
    gate_count_sql,
    gate_count_values,
    gate_counts,
    window_start,
)
from backend.occupancy.schemas import OccupancyOut, VenueOccupancy, WalkInIn
from backend.occupancy.tables import Directive, WalkIn
from backend.settings import get_settings
from backend.venues.schemas import ComfortLevel, LiveStatus
from backend.venues.services import VenueRecord, catalog

log = logging.getLogger("changxiang.occupancy")

LEVELS: tuple[tuple[float, ComfortLevel], ...] = (
    (0.5, "comfortable"),
    (0.7, "fairly_comfortable"),
    (0.8, "normal"),
    (0.9, "fairly_crowded"),
    (1.0, "crowded"),
)
REPORT_RATIO = 0.8  # reported to the platform, shown as crowded
FULL_RATIO = 1.0  # entry and same-day sales stop
STATUS_OF: dict[str, LiveStatus] = {"limit": "limited", "close": "closed"}  # directive type -> venue status
RANK = {name: i for i, (_, name) in enumerate(LEVELS)} | {"full": len(LEVELS)}

# Sent after people entered or left a venue (a scan, a walk-in), with the venue's fresh figure.
occupancy_changed: Signal[VenueOccupancy] = Signal("occupancy.changed")


def comfort_level(ratio: float) -> ComfortLevel:
    for bound, name in LEVELS:
        if ratio < bound:
            return name
    return "full"


# ---------------------------------------------------------------- directives in force

_directive_cache: tuple[float, datetime, list[dict[str, Any]]] | None = None


def forget_directives() -> None:
    global _directive_cache
    _directive_cache = None


async def _directives_now(now: datetime) -> dict[str, dict[str, Any]]:
    """The directive in force per venue now (the latest received wins; a reopen ends the others).
    The rows are kept `GOV_OCCUPANCY_CACHE_S` per process (directives are rare; the gate asks often)."""
    global _directive_cache
    mono = time.monotonic()
    if _directive_cache is not None and mono - _directive_cache[0] < get_settings().gov_occupancy_cache_s:
        rows = _directive_cache[2]
    else:
        rows = await _directive_rows(now)
        _directive_cache = (mono, now, rows)
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        if not (r["valid_from"] <= now < r["valid_until"]):
            continue
        for slug in r["venue_slugs"] or []:
            if r["type"] == "reopen":
                out.pop(slug, None)
            else:
                out[slug] = r
    return out


async def _directive_rows(now: datetime) -> list[dict[str, Any]]:
    return (
        await Directive.select(
            Directive.type, Directive.limit_ratio, Directive.venue_slugs, Directive.valid_from, Directive.valid_until
        )
        .where(Directive.valid_until > now)
        .order_by(Directive.id)
    )


def _effective_capacity(capacity: int, directive: dict[str, Any] | None) -> int:
    if directive and directive["type"] == "limit" and directive["limit_ratio"] is not None:
        ratio: float = directive["limit_ratio"]
        return max(0, math.floor(capacity * ratio))
    if directive and directive["type"] == "close":
        return 0
    return capacity


def _entry_cap(venue: VenueRecord, directive: dict[str, Any] | None) -> int | None:
    """The most people inside the venue at which entry still goes on: none are let in once this many are
    inside (at 1.0 of the capacity in force; 0 when closed). None: no limit (a venue without a capacity
    and no directive, whose ratio stays 0)."""
    capacity = _effective_capacity(venue.row["capacity"], directive)
    if capacity <= 0 and not directive:
        return None
    return capacity


# SQL, true when entering is refused: the movement's counting window holds `cap` people or more (its
# `{}`s: the window's count key, the cap)
_FULL = "COALESCE((SELECT entries - exits FROM gate_counts WHERE count_key = {}), 0) >= {}"
# PostgreSQL's one statement: the window's count row locked first (`{}`: its key), and the same test on it
_LOCKED_COUNT = "gate AS (SELECT entries - exits AS inside FROM gate_counts WHERE count_key = {} FOR UPDATE), "
_FULL_AS_LOCKED = "COALESCE((SELECT inside FROM gate), 0) >= {}"
# what the count statement returns: its window after the movement
_WINDOW_AFTER = "RETURNING entries AS window_entries, exits AS window_exits"
# the day's other counting windows (`{}`s: venue, day, the movement's window key)
_OTHER_WINDOWS = (
    "SELECT COALESCE(SUM(entries), 0) AS other_entries, COALESCE(SUM(exits), 0) AS other_exits "
    "FROM gate_counts WHERE venue_slug = {} AND local_date = {} AND count_key <> {}"
)

# A venue's gate count is one row every scan there updates: its writers queue per row (lib/db.HotRowQueue)
_count_writers = HotRowQueue()


def _load(inside: int, capacity: int, at_zero: float) -> dict[str, Any]:
    """The ratio, comfort level and crowding of `inside` people where `capacity` fit (`at_zero`: the
    ratio when the capacity in force is 0, which no number of people changes)."""
    ratio = inside / capacity if capacity > 0 else at_zero
    return {"ratio": round(ratio, 4), "comfort_level": comfort_level(ratio), "crowded": ratio >= REPORT_RATIO}


def _figure(
    rec: VenueRecord, entries: int, exits: int, inside: int, directives: dict[str, dict[str, Any]]
) -> VenueOccupancy:
    """A venue's figure from its counts of today, under the directive in force (`directives`)."""
    slug = rec.row["slug"]
    directive = directives.get(slug)
    capacity = _effective_capacity(rec.row["capacity"], directive)
    status: LiveStatus = STATUS_OF.get(directive["type"], "open") if directive else "open"
    inside = max(0, inside)
    return VenueOccupancy(
        venue_slug=slug,
        occupancy=inside,
        capacity=capacity,
        entries_today=entries,
        exits_today=exits,
        status=status,
        **_load(inside, capacity, 1.0 if directive else 0.0),
        name=rec.row["name_zh"],
        district=rec.row["district"],
        location=rec.point,
    )


def _refused(v: VenueOccupancy, party: int = 0) -> bool:
    if v.status == "closed":
        return True
    return v.ratio >= FULL_RATIO or (party > 0 and v.occupancy + party > v.capacity)


class OccupancyService:
    def __init__(self) -> None:
        self._cached: tuple[float, list[VenueOccupancy]] | None = None

    def directives_changed(self) -> None:
        """A directive was applied in this process: read the ones in force afresh (other replicas do
        within `GOV_OCCUPANCY_CACHE_S`)."""
        self._cached = None
        forget_directives()

    async def compute(self, slugs: list[str] | None = None) -> list[VenueOccupancy]:
        """Fresh figures for `slugs` (every venue when None)."""
        snap = await catalog.snapshot()
        records = [r for r in snap.records if slugs is None or r.row["slug"] in slugs]
        return await self._figures(records, every=slugs is None)

    async def _figures(self, records: list[VenueRecord], *, every: bool = False) -> list[VenueOccupancy]:
        """Fresh figures for the venues of `records` (`every`: they are all the venues there are)."""
        if not records:
            return []
        now_local = clock.now().astimezone(CITY_TZ)
        day = now_local.date().isoformat()
        wanted = None if every else [r.row["slug"] for r in records]
        counts = await gate_counts(wanted, day)
        directives = await _directives_now(clock.now())
        out = []
        for rec in records:
            windows = counts.get(rec.row["slug"], [])
            start = window_start(rec, now_local)
            current = [w for w in windows if w["window_start"] == start]
            inside = (current[0]["entries"] - current[0]["exits"]) if current else 0
            entries, exits = sum(w["entries"] for w in windows), sum(w["exits"] for w in windows)
            out.append(_figure(rec, entries, exits, inside, directives))
        return out

    async def all(self) -> list[VenueOccupancy]:
        """Every venue, at most `GOV_OCCUPANCY_CACHE_S` old (per process)."""
        ttl = get_settings().gov_occupancy_cache_s
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] >= ttl:
            self._cached = (now, await self.compute())
        return self._cached[1]

    async def report(self) -> OccupancyOut:
        return OccupancyOut(generated_at=clock.now().astimezone(CITY_TZ), venues=await self.all())

    async def venue(self, slug: str) -> VenueOccupancy | None:
        found = await self.compute([slug])
        return found[0] if found else None

    async def entry_refused(self, slug: str, party: int = 0) -> bool:
        """At 1.0 entry stops (Tourism Law art. 45); with `party`, also when it would not fit."""
        v = await self.venue(slug)
        return v is not None and _refused(v, party)

    async def sales_stopped(self, slug: str) -> bool:
        """Same-day sales stop at 1.0. Read from the figures every reader shares (at most
        `GOV_OCCUPANCY_CACHE_S` old, forgotten at once on a movement in this process): a booking is not
        an entry, and the gate itself decides fresh."""
        v = next((f for f in await self.all() if f.venue_slug == slug), None)
        return v is not None and (v.ratio >= FULL_RATIO or v.status == "closed")

    async def move(
        self,
        venue: VenueRecord,
        at: datetime,
        direction: str,
        people: int,
        movement: GateMovement,
        *,
        enforce_capacity: bool,
    ) -> list[dict[str, Any]]:
        """People pass a gate: the one call a gate makes to this room, and one atomic write with nothing
        read before it. The movement's act happens unless entering at capacity is refused (with
        `enforce_capacity`: the venue's count, read in the same statement); its gate count (only when the
        act changed a row) and its log line are written with it. The log line's row is returned, with the
        count of the movement's counting window after it (`window_entries`, `window_exits`) and the day's
        other windows (`other_entries`, `other_exits`); when people moved, listeners hear of it with the
        venue's figure made from those (`after_movement`)."""
        counted = gate_count_values(venue, at, direction, people)
        key, slug, day = counted[0], counted[1], counted[2]
        directives = await _directives_now(clock.now())
        cap = _entry_cap(venue, directives.get(slug)) if enforce_capacity and direction == "in" else None
        # SQLite: a write's statements run alone (BEGIN IMMEDIATE), each reading the count as it stands
        full, full_args = ("FALSE", ()) if cap is None else (_FULL, (key, cap))
        act = (movement.act[0] + f" AND NOT ({full})", (*movement.act[1], *full_args))
        record = movement.record.replace("{full}", full)  # its `{}`s: the record's own, then the cap's
        record_args = (*movement.record_args, *full_args)
        # PostgreSQL: the count row is locked before it is read (`_LOCKED_COUNT`). Read unlocked, two writes
        # at the last place both read the count before either and both admitted; locked, the second waits
        # for the first and reads its count (READ COMMITTED re-reads a row it waited for).
        locked, locked_args, pg_full, cap_args = (
            ("", (), "FALSE", ()) if cap is None else (_LOCKED_COUNT, (key,), _FULL_AS_LOCKED, (cap,))
        )
        pg_record = movement.record.replace("{full}", pg_full).replace("{moved}", MOVED_IN_CTE)
        async with _count_writers.turn(key):  # every movement at a venue updates its one count row
            rows = await atomic_write(
                single=(
                    f"WITH {locked}acted AS ({movement.act[0]} AND NOT ({pg_full}) RETURNING 1), "
                    f"counted AS ({gate_count_sql(MOVED_IN_CTE)} {_WINDOW_AFTER}), "
                    f"logged AS ({pg_record}) "
                    f"SELECT logged.*, counted.*, others.* FROM logged LEFT JOIN counted ON TRUE "
                    f"CROSS JOIN ({_OTHER_WINDOWS}) AS others",  # an aggregate: one row
                    (*locked_args, *movement.act[1], *cap_args, *counted, *movement.record_args, *cap_args)
                    + (slug, day, key),
                ),
                steps=(
                    act,
                    (f"{gate_count_sql(MOVED_JUST_BEFORE)} {_WINDOW_AFTER}", counted),
                    (record.replace("{moved}", MOVED_JUST_BEFORE), record_args),
                    (_OTHER_WINDOWS, (slug, day, key)),
                ),
                answer=(2, 1, 3),
            )
        if rows and rows[0]["moved"]:
            now_local = clock.now().astimezone(CITY_TZ)
            same_window = counted[3] == window_start(venue, now_local) and day == now_local.date().isoformat()
            if same_window:  # the figure after, from the counts the write returned
                row = rows[0]
                entries, exits = row["window_entries"], row["window_exits"]
                day_entries, day_exits = entries + row["other_entries"], exits + row["other_exits"]
                after = _figure(venue, day_entries, day_exits, entries - exits, directives)
            else:  # a movement dated in another counting window (an offline scan's): read afresh
                after = (await self._figures([venue]))[0]
            await self._moved(after)
        return rows

    async def after_movement(self, slug: str) -> VenueOccupancy | None:
        """After people entered or left: forget the shared figures and venue pages, and tell whoever
        listens (`occupancy_changed`: the supervision bridge publishes the figure live and reports a
        change of comfort level) with the venue's fresh figure."""
        v = await self.venue(slug)
        if v is not None:
            await self._moved(v)
        return v

    async def _moved(self, v: VenueOccupancy) -> None:
        self._cached = None
        live_figures.move()  # venue pages showing live figures answer afresh
        await occupancy_changed.send(v)

    # ---- walk-ins at the manual window

    async def walk_in(self, staff: AuthUser, data: WalkInIn) -> VenueOccupancy:
        require_venue_staff(staff, data.venue_slug)
        record = await catalog.record(data.venue_slug)
        if record is None:
            raise NotFound("venue_not_found", f"no venue {data.venue_slug!r}")
        now = clock.now()
        async with write_transaction():
            if data.direction == "in" and await self.entry_refused(data.venue_slug, data.count):
                raise Conflict("venue_full", "the venue is at its capacity: no more walk-ins until people leave")
            await WalkIn.insert(
                WalkIn(
                    venue_slug=data.venue_slug,
                    local_date=now.astimezone(CITY_TZ).date().isoformat(),
                    direction=data.direction,
                    count=data.count,
                    staff_user_id=staff.id,
                    at=now,
                )
            )
            await add_to_gate_count(record, now, data.direction, data.count)
        log.info("walk-in", extra={"venue": data.venue_slug, "count": data.count, "direction": data.direction})
        moved = await self.after_movement(data.venue_slug)
        if moved is None:  # the venue was found above; catalogued venues are not deleted
            raise NotFound("venue_not_found", f"no venue {data.venue_slug!r}")
        return moved

    async def walk_ins(self, venue_slug: str, day: str) -> tuple[int, int]:
        """(in, out) counted at the venue's manual window on the local day `day` (YYYY-MM-DD)."""
        entries = exits = 0
        for w in await WalkIn.select(WalkIn.direction, WalkIn.count).where(
            (WalkIn.venue_slug == venue_slug) & (WalkIn.local_date == day)
        ):
            if w["direction"] == "in":
                entries += w["count"]
            else:
                exits += w["count"]
        return entries, exits


occupancy = OccupancyService()
