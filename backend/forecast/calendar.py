"""The city's calendar as crowds feel it: public holidays and their days off in lieu, the weekends that
become working days (调休), the Golden Weeks, and school holidays.

Public holidays come from the maintained `holidays` package (its `CN` calendar: the State Council's
yearly schedule where published, the lunar rules beyond). A *holiday stretch* is a run of days off (a
holiday, or a weekend that is not a working day) holding at least one public holiday: the Golden Weeks
are the stretches around National Day and the Spring Festival. School holidays are the Jiangsu pattern,
approximated: summer from 1 July to 31 August, winter from three weeks before the Spring Festival's eve
to two and a half weeks after (docs/forecast.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import holidays

DayType = Literal["workday", "weekend", "holiday", "golden", "makeup"]

_SUBSTITUTED = re.compile(r"substituted from (\d{2})/(\d{2})/(\d{4})")
_GOLDEN_NAMES = ("National Day", "Chinese New Year", "Spring Festival")
_EVE = "Chinese New Year's Eve"


@dataclass(frozen=True, slots=True)
class DayKind:
    """What kind of day `day` is for visitors."""

    day: date
    type: DayType
    stretch_pos: int = -1  # position in its holiday stretch (0 = first day off), -1 when none
    stretch_len: int = 0
    spring_eve: bool = False  # the Spring Festival's eve (除夕): families at home
    school_holiday: bool = False

    @property
    def day_off(self) -> bool:
        return self.type in ("weekend", "holiday", "golden")

    @property
    def holiday_bucket(self) -> str | None:
        """The group a holiday day learns its crowd factor in: the eve, a Golden Week's first day, its
        peak days, its tail and last day; a short holiday's days and its last day."""
        if self.type not in ("holiday", "golden"):
            return None
        if self.spring_eve:
            return "eve"
        last = self.stretch_pos == self.stretch_len - 1
        if self.type == "golden":
            if last:
                return "golden_last"
            if self.stretch_pos == 0:
                return "golden_first"
            return "golden_peak" if self.stretch_pos <= 3 else "golden_tail"
        return "holiday_last" if last else "holiday"


@lru_cache(maxsize=64)
def _year(year: int) -> tuple[dict[date, str], frozenset[date]]:
    """(public holidays and days off in lieu → name, weekend days that are working days) of `year`."""
    cn = holidays.country_holidays("CN", years=[year - 1, year, year + 1])
    off: dict[date, str] = {}
    makeup: set[date] = set()
    for day, name in cn.items():
        off[day] = name
        for match in _SUBSTITUTED.finditer(name):
            month, dom, yr = (int(x) for x in match.groups())
            makeup.add(date(yr, month, dom))
    return off, frozenset(makeup)


def _named(day: date) -> str | None:
    return _year(day.year)[0].get(day)


def is_makeup_workday(day: date) -> bool:
    return day in _year(day.year)[1]


def _is_off(day: date) -> bool:
    if _named(day) is not None:
        return True
    return day.weekday() >= 5 and not is_makeup_workday(day)


def _stretch(day: date) -> list[date]:
    """The run of days off `day` belongs to (empty when it is a working day)."""
    if not _is_off(day):
        return []
    start = day
    while _is_off(start - timedelta(days=1)):
        start -= timedelta(days=1)
    end = day
    while _is_off(end + timedelta(days=1)):
        end += timedelta(days=1)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@lru_cache(maxsize=8192)
def spring_festival_eve(year: int) -> date:
    cn, _ = _year(year)
    for day, name in cn.items():
        if day.year == year and _EVE in name:
            return day
    # a year the package names no eve for: the day before the first Spring Festival day
    firsts = sorted(d for d, n in cn.items() if d.year == year and "Spring Festival" in n)
    return firsts[0] - timedelta(days=1) if firsts else date(year, 2, 1)


def is_school_holiday(day: date) -> bool:
    if date(day.year, 7, 1) <= day <= date(day.year, 8, 31):
        return True
    for year in (day.year, day.year + 1):
        eve = spring_festival_eve(year)
        if eve - timedelta(days=21) <= day <= eve + timedelta(days=17):
            return True
    return False


@lru_cache(maxsize=8192)
def day_kind(day: date) -> DayKind:
    school = is_school_holiday(day)
    if is_makeup_workday(day):
        return DayKind(day, "makeup", school_holiday=school)
    stretch = _stretch(day)
    names = [n for d in stretch if (n := _named(d)) is not None]
    if not stretch:
        return DayKind(day, "workday", school_holiday=school)
    if not names:
        return DayKind(day, "weekend", school_holiday=school)
    golden = any(g in n for n in names for g in _GOLDEN_NAMES)
    return DayKind(
        day,
        "golden" if golden and len(stretch) >= 5 else "holiday",
        stretch_pos=stretch.index(day),
        stretch_len=len(stretch),
        spring_eve=_EVE in (_named(day) or ""),
        school_holiday=school,
    )
