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

import msgspec
from piccolo.querystring import QueryString

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


# A venue's gate count is one row every scan there updates: its writers queue per row (lib/db.HotRowQueue)
_count_writers = HotRowQueue()


def _load(inside: int, capacity: int, at_zero: float) -> dict[str, Any]:
    """The ratio, comfort level and crowding of `inside` people where `capacity` fit (`at_zero`: the
    ratio when the capacity in force is 0, which no number of people changes)."""
    ratio = inside / capacity if capacity > 0 else at_zero
    return {"ratio": round(ratio, 4), "comfort_level": comfort_level(ratio), "crowded": ratio >= REPORT_RATIO}


def _plus(v: VenueOccupancy, direction: str, people: int) -> VenueOccupancy:
    """`v` after `people` passed its gates in `direction`."""
    entries, exits = (people, 0) if direction == "in" else (0, people)
    inside = max(0, v.occupancy + entries - exits)
    return msgspec.structs.replace(
        v,
        occupancy=inside,
        entries_today=v.entries_today + entries,
        exits_today=v.exits_today + exits,
        **_load(inside, v.capacity, v.ratio),
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
        now = clock.now()
        now_local = now.astimezone(CITY_TZ)
        day = now_local.date().isoformat()
        wanted = None if every else [r.row["slug"] for r in records]
        counts = await gate_counts(wanted, day)
        directives = await _directives_now(now)
        out = []
        for rec in records:
            slug = rec.row["slug"]
            windows = counts.get(slug, [])
            entries, exits = sum(w["entries"] for w in windows), sum(w["exits"] for w in windows)
            start = window_start(rec, now_local)
            current = [w for w in windows if w["window_start"] == start]
            inside = (current[0]["entries"] - current[0]["exits"]) if current else 0
            inside = max(0, inside)
            directive = directives.get(slug)
            capacity = _effective_capacity(rec.row["capacity"], directive)
            status: LiveStatus = STATUS_OF.get(directive["type"], "open") if directive else "open"
            out.append(
                VenueOccupancy(
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
            )
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
    ) -> list[dict[str, Any]] | None:
        """People pass a gate: the one call a gate makes to this room. Entering at capacity is refused
        (None: nothing is written). Otherwise the movement's act, its gate count (only when the act
        changed a row) and its log line are one atomic write; the log line's rows are returned, and
        when people moved, listeners hear of it (`after_movement`)."""
        before = (await self._figures([venue]))[0]  # read once: the gate's refusal, and the figure after
        if enforce_capacity and direction == "in" and _refused(before):
            return None
        counted = gate_count_values(venue, at, direction, people)
        act = movement.act
        async with _count_writers.turn(counted[0]):  # every movement at a venue updates its one count row
            rows = await atomic_write(
                single=QueryString(
                    f"WITH acted AS ({act.template} RETURNING 1), "
                    f"counted AS ({gate_count_sql(MOVED_IN_CTE)} RETURNING 1) "
                    + movement.record.replace("{moved}", MOVED_IN_CTE),
                    *act.args,
                    *counted,
                    *movement.record_args,
                ),
                steps=(
                    act,
                    QueryString(gate_count_sql(MOVED_JUST_BEFORE), *counted),
                    QueryString(movement.record.replace("{moved}", MOVED_JUST_BEFORE), *movement.record_args),
                ),
                answer=2,
            )
        if rows and rows[0]["moved"]:
            now_local = clock.now().astimezone(CITY_TZ)
            same_window = counted[3] == window_start(venue, now_local) and counted[2] == now_local.date().isoformat()
            # the figure after: the one read before plus this movement (a movement dated in another counting
            # window, an offline scan's, is read afresh); what moved meanwhile elsewhere shows on the next one
            after = _plus(before, direction, people) if same_window else (await self._figures([venue]))[0]
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
