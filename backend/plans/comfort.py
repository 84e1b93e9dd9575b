"""How calm a place is expected to be at a time of the plan's day: the one question the planner asks about
crowds, answered in one place (`comfort_outlook`).

Today it answers from the live comfort levels (LB/T 034-2014, `occupancy`), held for the next
`LIVE_HORIZON_MIN` minutes, and tells which places a supervision directive has closed. A timed-entry
slot's own fill (booked / capacity) is read where the slots are (`candidates`). Other days have no level
yet: when the forecast room (backend/forecast) exists, its expected levels are returned from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from backend.lib.clock import CITY_TZ
from backend.occupancy.services import comfort_level, occupancy

LIVE_HORIZON_MIN = 120  # how long a live level is taken to hold


@dataclass(frozen=True, slots=True)
class ComfortOutlook:
    levels: dict[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)  # slug -> (from, to, level)
    closed: frozenset[str] = frozenset()  # closed today by a directive in force

    def of(self, slug: str) -> tuple[tuple[int, int, str], ...]:
        return self.levels.get(slug, ())


def slot_comfort(booked: int, capacity: int) -> str:
    """The comfort level a slot's fill stands for (the same thresholds as a venue's live level)."""
    return comfort_level(booked / capacity if capacity > 0 else 1.0)


async def comfort_outlook(day: date, now: datetime) -> ComfortOutlook:
    """Expected comfort levels by place and minute of `day`, and the places closed that day."""
    local = now.astimezone(CITY_TZ)
    if day != local.date():
        return ComfortOutlook()
    minute = local.hour * 60 + local.minute
    until = minute + LIVE_HORIZON_MIN
    figures = await occupancy.all()
    return ComfortOutlook(
        levels={f.venue_slug: ((minute, until, f.comfort_level),) for f in figures},
        closed=frozenset(f.venue_slug for f in figures if f.status == "closed"),
    )
