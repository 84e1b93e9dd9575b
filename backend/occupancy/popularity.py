"""How popular each venue is: the people its gates (and manual window) let in over the last weeks, from
the gate counts every replica shares. Read by `GET /venues?sort=popular` (create_app binds it to the
venue catalogue), kept per process for a minute."""

from __future__ import annotations

import time
from datetime import timedelta

from backend.lib.clock import clock
from backend.occupancy.tables import GateCount

WINDOW_DAYS = 28
KEEP_S = 60.0

_cached: tuple[float, str, dict[str, int]] | None = None


async def recent_visitors() -> dict[str, int]:
    """venue slug -> entries over the last WINDOW_DAYS days (today included)."""
    global _cached
    today = clock.city_today()
    since = (today - timedelta(days=WINDOW_DAYS - 1)).isoformat()
    mono = time.monotonic()
    if _cached is not None and mono - _cached[0] < KEEP_S and _cached[1] == since:  # the same days, fresh
        return _cached[2]
    rows = await GateCount.select(GateCount.venue_slug, GateCount.entries).where(
        (GateCount.local_date >= since) & (GateCount.local_date <= today.isoformat())
    )
    out: dict[str, int] = {}
    for row in rows:
        out[row["venue_slug"]] = out.get(row["venue_slug"], 0) + int(row["entries"])
    _cached = (mono, since, out)
    return out


def forget() -> None:
    global _cached
    _cached = None
