"""The one clock every room asks for the time (ARCHITECTURE.md, convention 5).

Rooms never call `datetime.now()`: they call `clock.now()` (aware UTC), `clock.city_now()` (aware, in
the city's zone) or `clock.city_today()`. Tests set the time instead of editing rows:

    clock.set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))   # time runs on from there
    clock.freeze(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))  # time stands still there
    clock.advance(timedelta(minutes=20))
    clock.reset()                                          # back to the wall clock

The clock is per process and off (the wall clock) unless a test moves it. A server started for the
end-to-end tests may be given a starting offset with `CHANGXIANG_CLOCK_OFFSET_S` (seconds added to the
wall clock); production never sets it.

Infrastructure that counts real seconds against Redis expiry (abuse-limit windows, login lock-outs) keeps
the wall clock through `clock.wall()`: a key's TTL in Redis cannot be moved by a test.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CITY_TZ = ZoneInfo("Asia/Shanghai")


class Clock:
    """Wall clock plus an offset, or a frozen instant."""

    def __init__(self) -> None:
        self._offset = timedelta(seconds=float(os.environ.get("CHANGXIANG_CLOCK_OFFSET_S") or 0))
        self._frozen: datetime | None = None
        self._minute: tuple[float, datetime] = (-1.0, datetime.min)

    # ------------------------------------------------------------------ reading
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        if self._frozen is not None:
            return self._frozen
        return datetime.now(UTC) + self._offset

    def city_now(self) -> datetime:
        """The current instant in the city's zone (Asia/Shanghai)."""
        return self.now().astimezone(CITY_TZ)

    def city_minute(self) -> datetime:
        """The city's local time to the minute, naive (what opening hours are read against); its zone
        conversion done once a minute, not on every finder answer."""
        now = self.now()
        minute = now.timestamp() // 60
        if self._minute[0] != minute:
            self._minute = (minute, now.astimezone(CITY_TZ).replace(tzinfo=None, second=0, microsecond=0))
        return self._minute[1]

    def city_today(self) -> date:
        return self.city_now().date()

    def time(self) -> float:
        """Seconds since the epoch, on this clock."""
        return self.now().timestamp()

    @staticmethod
    def wall() -> float:
        """The real wall clock in epoch seconds, for windows that Redis expires in real time."""
        return time.time()

    @property
    def moved(self) -> bool:
        return self._frozen is not None or bool(self._offset)

    # ------------------------------------------------------------------ setting (tests, simulations)
    def set(self, at: datetime) -> None:
        """From now on the clock reads `at` and runs on from there."""
        _require_aware(at)
        self._frozen = None
        self._offset = at - datetime.now(UTC)

    def freeze(self, at: datetime | None = None) -> None:
        """Stop the clock at `at` (or at its current reading)."""
        if at is not None:
            _require_aware(at)
        self._frozen = at if at is not None else self.now()

    def advance(self, delta: timedelta) -> None:
        if self._frozen is not None:
            self._frozen += delta
        else:
            self._offset += delta

    def reset(self) -> None:
        self._frozen = None
        self._offset = timedelta(0)


def _require_aware(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("the clock takes timezone-aware datetimes")


clock = Clock()
