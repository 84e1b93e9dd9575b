"""The history the forecast learns from: people inside each venue per local hour.

The truth is what the gates and the manual window counted (the scan log and walk-ins): a day of a venue
with any accepted scan or walk-in is read from those. Other days come from the simulated history
(`HourlyCount` rows, all marked simulated) that `changxiang simulate-history` writes for a deployment
with no history of its own yet.

From counts to people inside: entries minus exits, summed through the day, when the venue counts people
out; when it counts only entries, each visitor is taken to stay the category's usual time
(`simulation.CategoryShape.dwell_h`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from piccolo.querystring import QueryString

from backend.forecast.opening import open_hours
from backend.forecast.simulation import HourCount, VenueFacts, shape_of, simulate
from backend.forecast.tables import HourlyCount
from backend.lib.clock import CITY_TZ
from backend.lib.db import engine, write_transaction
from backend.occupancy.tables import WalkIn
from backend.passes.tables import ScanRecord
from backend.venues.services import VenueRecord

log = logging.getLogger("changxiang.forecast")

# local date -> local hour -> people inside
DayHours = dict[int, float]
History = dict[date, DayHours]

BATCH = 400  # rows per INSERT (8 values each: within SQLite's 32,766 parameters)
_COLUMNS = "key, venue_slug, local_date, hour, hour_start, inside, entries, simulated"


def facts(record: VenueRecord) -> VenueFacts:
    """What the simulation and the model need of a catalogued venue."""
    r = record.row
    return VenueFacts(slug=r["slug"], category=r["category"], capacity=r["capacity"], hours=record.hours)


def hour_start(day: date, hour: int) -> datetime:
    """The UTC instant local hour `hour` of `day` starts."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=CITY_TZ).astimezone(UTC)


def _values(row: HourCount) -> tuple[Any, ...]:
    key = f"{row.venue_slug}|{row.day.isoformat()}|{row.hour:02d}"
    return (key, row.venue_slug, row.day, row.hour, hour_start(row.day, row.hour), row.inside, row.entries, True)


async def write_simulated(venues: list[VenueFacts], first: date, last: date, seed: int) -> int:
    """Replace the simulated rows of `venues` from `first` to `last` with a fresh simulation. Rows written."""
    slugs = [v.slug for v in venues]
    written = 0
    for venue in venues:
        rows = list(simulate([venue], first, last, seed))
        async with write_transaction():
            await HourlyCount.delete().where(
                (HourlyCount.venue_slug == venue.slug)
                & (HourlyCount.local_date >= first)
                & (HourlyCount.local_date <= last)
                & (HourlyCount.simulated == True)  # noqa: E712 - a Piccolo expression, not a comparison
            )
            for start in range(0, len(rows), BATCH):
                chunk = rows[start : start + BATCH]
                placeholders = ", ".join(["({}, {}, {}, {}, {}, {}, {}, {})"] * len(chunk))
                args = [x for row in chunk for x in _values(row)]
                await engine().run_querystring(
                    QueryString(
                        f"INSERT INTO forecast_history ({_COLUMNS}) VALUES {placeholders} ON CONFLICT (key) DO NOTHING",
                        *args,
                    )
                )
        written += len(rows)
    log.info("simulated history written", extra={"venues": len(slugs), "rows": written, "first": str(first)})
    return written


async def simulated_history(slug: str, first: date, last: date) -> History:
    rows = await HourlyCount.select(HourlyCount.local_date, HourlyCount.hour, HourlyCount.inside).where(
        (HourlyCount.venue_slug == slug) & (HourlyCount.local_date >= first) & (HourlyCount.local_date <= last)
    )
    out: History = {}
    for r in rows:
        out.setdefault(_as_date(r["local_date"]), {})[r["hour"]] = float(r["inside"])
    return out


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def inside_from_counts(
    moves: Iterable[tuple[datetime, int, int]], category: str, open_hours: Iterable[int]
) -> DayHours:
    """People inside per local hour of one day from its movements (local time, entries, exits). With exits
    counted: the running balance at the middle of each hour. Without: entries of the last `dwell` hours."""
    entries = [0.0] * 24
    exits = [0.0] * 24
    for at, n_in, n_out in moves:
        entries[at.hour] += n_in
        exits[at.hour] += n_out
    hours = list(open_hours)
    out: DayHours = {}
    if sum(exits) > 0:
        balance = 0.0
        for h in range(24):
            before = balance
            balance = max(0.0, balance + entries[h] - exits[h])
            if h in hours:
                out[h] = (before + balance) / 2
        return out
    dwell = shape_of(category).dwell_h
    whole = int(math.floor(dwell))
    part = dwell - whole
    for h in hours:
        inside = sum(entries[k] for k in range(max(0, h - whole + 1), h + 1))
        if part and h - whole >= 0:
            inside += part * entries[h - whole]
        out[h] = inside
    return out


async def real_movements(slug: str, first: date, last: date) -> dict[date, list[tuple[datetime, int, int]]]:
    """Accepted scans and walk-ins of the venue per local day: (local time, in, out)."""
    lo, hi = first.isoformat(), last.isoformat()
    out: dict[date, list[tuple[datetime, int, int]]] = {}
    scans = await ScanRecord.select(
        ScanRecord.local_date, ScanRecord.scanned_at, ScanRecord.direction, ScanRecord.party_size
    ).where(
        (ScanRecord.venue_slug == slug)
        & (ScanRecord.local_date >= lo)
        & (ScanRecord.local_date <= hi)
        & (ScanRecord.result == "ok")
    )
    for s in scans:
        n = max(1, s["party_size"] or 1)
        move = (n, 0) if s["direction"] == "in" else (0, n)
        out.setdefault(date.fromisoformat(s["local_date"]), []).append((s["scanned_at"].astimezone(CITY_TZ), *move))
    walk_ins = await WalkIn.select(WalkIn.local_date, WalkIn.at, WalkIn.direction, WalkIn.count).where(
        (WalkIn.venue_slug == slug) & (WalkIn.local_date >= lo) & (WalkIn.local_date <= hi)
    )
    for w in walk_ins:
        move = (w["count"], 0) if w["direction"] == "in" else (0, w["count"])
        out.setdefault(date.fromisoformat(w["local_date"]), []).append((w["at"].astimezone(CITY_TZ), *move))
    return out


async def venue_history(venue: VenueFacts, first: date, last: date) -> History:
    """People inside per local day and hour from `first` to `last`: real days where counted, else simulated."""
    history = await simulated_history(venue.slug, first, last)
    for day, moves in (await real_movements(venue.slug, first, last)).items():
        history[day] = inside_from_counts(moves, venue.category, open_hours(venue.hours, day))
    return history
