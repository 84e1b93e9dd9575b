"""What the service can store and compute: the ranges every input must fall in.

The database's columns hold 32-bit integers (ids, counts) and text without NUL characters (PostgreSQL);
date arithmetic (`day + timedelta(days=1)`, a time-zone conversion) fails at the calendar's ends (years 1
and 9999). Inputs outside these ranges are refused at the edge (`lib/input_guard.py`), in schemas (the
annotated types here) and, for what comes in another way (a CAP warning's XML), with `within_calendar`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

import msgspec

from backend.lib.problems import InvalidInput

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
FIRST_YEAR, LAST_YEAR = 1900, 2200  # the years a date of ours may name: far from both ends of the calendar
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)

DbId = Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)]
"""The id of a row: what a serial column holds."""

DbInt = Annotated[int, msgspec.Meta(ge=INT32_MIN, le=INT32_MAX)]
"""Any integer stored in an integer column."""

D = TypeVar("D", date, datetime)


def within_calendar(value: D, field: str) -> D:
    """`value`, if its year is FIRST_YEAR..LAST_YEAR (so arithmetic and time-zone conversions on it can't
    overflow); else `InvalidInput("date_out_of_range")` naming `field`."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise InvalidInput(
            "date_out_of_range", f"{field} must fall in the years {FIRST_YEAR}..{LAST_YEAR}", field=field
        )
    return value
