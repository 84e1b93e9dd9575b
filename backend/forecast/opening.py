"""Which hours of a day a venue counts people in: its OSM opening hours, hour by hour.

An hour counts when the venue is open for at least half of it. A venue open round the clock (parks,
squares, old streets) counts from 06:00 to 22:00: the night's few walkers are not a crowd to forecast.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from opening_hours import OpeningHours, State

ROUND_THE_CLOCK = tuple(range(6, 22))


def open_hours(hours: OpeningHours, day: date) -> tuple[int, ...]:
    """The local hours (0..23) of `day` the venue is open for at least 30 minutes of."""
    start = datetime(day.year, day.month, day.day)
    minutes = [0] * 24
    for a, b, state, _ in hours.intervals(start, start + timedelta(days=1)):
        if state != State.OPEN:
            continue
        t = max(a, start)
        end = min(b, start + timedelta(days=1))
        while t < end:
            hour_end = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            step = min(hour_end, end)
            minutes[t.hour] += int((step - t).total_seconds() // 60)
            t = step
    if all(m >= 60 for m in minutes):
        return ROUND_THE_CLOCK
    return tuple(h for h, m in enumerate(minutes) if m >= 30)
