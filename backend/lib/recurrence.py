"""Event recurrence: the RFC 5545 RRULE subset the product uses, parsed strictly, and an expander
whose work is bounded whatever the rule says.

Why not hand the rule to python-dateutil: its iterator looks for the next occurrence period by period
and only stops at an occurrence (past UNTIL or COUNT) or at year 9999, so a rule that never (or
rarely) matches — `FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30`, `FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31`, a
BYSETPOS past the end of the set, an INTERVAL that never meets its BYDAY — spins for seconds to
minutes. Here every expansion walks periods (a day, a week, a month or a year) from the first
start and stops at the first period past the horizon or after the occurrence cap, and gives up
(`RuleError`) once it has looked at `MAX_DAYS_WALKED` days: its cost has a ceiling set by us, not by
the rule.

The subset (what events need; anything else is refused with a reason):
`FREQ=DAILY|WEEKLY|MONTHLY|YEARLY` (nothing finer: an event does not recur every minute),
`INTERVAL` 1…366, `COUNT` 1…`MAX_COUNT`, `UNTIL` (`YYYYMMDD` = through that local day,
`YYYYMMDDTHHMMSS` local, or `…Z` UTC), `BYDAY` (weekdays; with an ordinal such as `2SU`/`-1FR`
only for MONTHLY and YEARLY, and not mixed with plain weekdays), `BYMONTHDAY` (±1…31), `BYMONTH`
(1…12), `BYSETPOS` (±1…366), `BYHOUR` (0…23), `BYMINUTE` (0…59) with at most `MAX_TIMES_PER_DAY`
times a day, `WKST`. Semantics follow RFC 5545 (and python-dateutil, which tests compare against):
occurrences are wall-clock local times; the first start counts only if the rule matches it.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_COUNT = 1500
MAX_INTERVAL = 366
MAX_TIMES_PER_DAY = 24
MAX_DAYS_WALKED = 10_000  # days looked at by one expansion (27 years), whatever the frequency
MAX_RULE_LENGTH = 300
_PARTS = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "BYHOUR", "BYMINUTE")


class RuleError(ValueError):
    """The rule is outside the subset, malformed, or would take more work than we allow."""


@dataclass(frozen=True, slots=True)
class Rule:
    freq: str
    interval: int = 1
    count: int | None = None
    until: datetime | None = None  # aware
    weekdays: frozenset[int] = frozenset()  # plain BYDAY (0 = Monday)
    nth_weekdays: tuple[tuple[int, int], ...] = ()  # (ordinal, weekday): 2SU = (2, 6)
    monthdays: frozenset[int] = frozenset()  # BYMONTHDAY, negative from the month's end
    months: frozenset[int] = frozenset()
    setpos: tuple[int, ...] = ()
    hours: tuple[int, ...] = ()
    minutes: tuple[int, ...] = ()
    wkst: int = 0


def _ints(name: str, value: str, lo: int, hi: int, *, signed: bool = False) -> tuple[int, ...]:
    out = []
    for part in value.split(","):
        try:
            n = int(part)
        except ValueError:
            raise RuleError(f"{name}: {part!r} is not a number") from None
        if not (lo <= abs(n) <= hi if signed else lo <= n <= hi) or (signed and n == 0) or (not signed and n < 0):
            span = f"±{lo}…{hi}" if signed else f"{lo}…{hi}"
            raise RuleError(f"{name}: {n} is outside {span}")
        out.append(n)
    if len(set(out)) != len(out):
        raise RuleError(f"{name}: a value is repeated")
    return tuple(sorted(out))


def _weekday(name: str, text: str) -> int:
    if text not in WEEKDAYS:
        raise RuleError(f"{name}: {text!r} is not one of {','.join(WEEKDAYS)}")
    return WEEKDAYS.index(text)


def _until(value: str, tz: tzinfo) -> datetime:
    try:
        if len(value) == 8:
            day = datetime.strptime(value, "%Y%m%d")
            return (day + timedelta(days=1) - timedelta(microseconds=1)).replace(tzinfo=tz)
        if len(value) == 16 and value.endswith("Z"):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if len(value) == 15:
            return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    except (ValueError, OverflowError):
        pass
    raise RuleError("UNTIL: YYYYMMDD, YYYYMMDDTHHMMSS (local) or YYYYMMDDTHHMMSSZ (UTC)")


def parse_rule(text: str, tz: tzinfo) -> Rule:
    """The RRULE value (`FREQ=WEEKLY;BYDAY=SA`) as a `Rule`, or `RuleError` saying what is wrong."""
    if len(text) > MAX_RULE_LENGTH:
        raise RuleError(f"at most {MAX_RULE_LENGTH} characters")
    parts: dict[str, str] = {}
    for item in text.strip().upper().split(";"):
        name, sep, value = item.partition("=")
        if not sep or not value:
            raise RuleError(f"{item!r} is not NAME=VALUE")
        if name == "WKST":
            parts[name] = value
            continue
        if name not in _PARTS:
            raise RuleError(f"{name} is not supported (use {', '.join(_PARTS)}, WKST)")
        if name in parts:
            raise RuleError(f"{name} is given twice")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq not in FREQS:
        raise RuleError(f"FREQ must be one of {', '.join(FREQS)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("give COUNT or UNTIL, not both")
    weekdays: set[int] = set()
    nth: list[tuple[int, int]] = []
    for day in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        ordinal, wd = day[:-2], day[-2:]
        if ordinal:
            if freq not in ("MONTHLY", "YEARLY"):
                raise RuleError("BYDAY: an ordinal (2SU) needs FREQ=MONTHLY or YEARLY")
            n = _ints("BYDAY", ordinal, 1, 5 if freq == "MONTHLY" else 53, signed=True)[0]
            nth.append((n, _weekday("BYDAY", wd)))
        else:
            weekdays.add(_weekday("BYDAY", wd))
    if weekdays and nth:
        raise RuleError("BYDAY: don't mix weekdays with and without an ordinal")
    hours = _ints("BYHOUR", parts["BYHOUR"], 0, 23) if "BYHOUR" in parts else ()
    minutes = _ints("BYMINUTE", parts["BYMINUTE"], 0, 59) if "BYMINUTE" in parts else ()
    if max(len(hours), 1) * max(len(minutes), 1) > MAX_TIMES_PER_DAY:
        raise RuleError(f"BYHOUR × BYMINUTE: at most {MAX_TIMES_PER_DAY} times a day")
    return Rule(
        freq=freq,
        interval=_ints("INTERVAL", parts["INTERVAL"], 1, MAX_INTERVAL)[0] if "INTERVAL" in parts else 1,
        count=_ints("COUNT", parts["COUNT"], 1, MAX_COUNT)[0] if "COUNT" in parts else None,
        until=_until(parts["UNTIL"], tz) if "UNTIL" in parts else None,
        weekdays=frozenset(weekdays),
        nth_weekdays=tuple(sorted(set(nth))),
        monthdays=frozenset(_ints("BYMONTHDAY", parts["BYMONTHDAY"], 1, 31, signed=True))
        if "BYMONTHDAY" in parts
        else frozenset(),
        months=frozenset(_ints("BYMONTH", parts["BYMONTH"], 1, 12)) if "BYMONTH" in parts else frozenset(),
        setpos=_ints("BYSETPOS", parts["BYSETPOS"], 1, 366, signed=True) if "BYSETPOS" in parts else (),
        hours=hours,
        minutes=minutes,
        wkst=_weekday("WKST", parts["WKST"]) if "WKST" in parts else 0,
    )


# ---------------------------------------------------------------- expansion


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    y, m = divmod(month - 1 + n, 12)
    return year + y, m + 1


def _periods(rule: Rule, first: date) -> Iterator[tuple[date, date]]:
    """[start, end) of each period of the rule, from the one holding `first`, forever (the caller stops)."""
    if rule.freq == "DAILY":
        day = first
        while True:
            yield day, day + timedelta(days=1)
            day += timedelta(days=rule.interval)
    elif rule.freq == "WEEKLY":
        week = first - timedelta(days=(first.weekday() - rule.wkst) % 7)
        while True:
            yield week, week + timedelta(days=7)
            week += timedelta(days=7 * rule.interval)
    elif rule.freq == "MONTHLY":
        year, month = first.year, first.month
        while True:
            ny, nm = _add_months(year, month, 1)
            yield _month_start(year, month), _month_start(ny, nm)
            year, month = _add_months(year, month, rule.interval)
    else:
        year = first.year
        while True:
            yield date(year, 1, 1), date(year + 1, 1, 1)
            year += rule.interval


def _nth_days(rule: Rule, start: date, end: date, months: frozenset[int]) -> set[date]:
    """The days `2SU`/`-1FR` name in the period: within each month (MONTHLY, or YEARLY with BYMONTH)
    or within the year."""
    scopes: list[tuple[date, date]]
    if rule.freq == "YEARLY" and not months:
        scopes = [(start, end)]
    elif rule.freq == "YEARLY":
        scopes = [(date(start.year, m, 1), _month_start(*_add_months(start.year, m, 1))) for m in sorted(months)]
    else:
        scopes = [(start, end)]
    out: set[date] = set()
    for lo, hi in scopes:
        last = hi - timedelta(days=1)
        for n, wd in rule.nth_weekdays:
            if n > 0:
                day = lo + timedelta(days=(wd - lo.weekday()) % 7 + 7 * (n - 1))
            else:
                day = last - timedelta(days=(last.weekday() - wd) % 7 + 7 * (-n - 1))
            if lo <= day <= last:
                out.add(day)
    return out


def _days(rule: Rule, start: date, end: date, dtstart: date) -> tuple[list[date], int]:
    """The days of one period the rule keeps, in order (RFC 5545's defaults from the first start), and
    how many days were looked at."""
    months, monthdays, weekdays = rule.months, rule.monthdays, rule.weekdays
    if not (weekdays or rule.nth_weekdays or monthdays):
        if rule.freq == "YEARLY":
            months = months or frozenset({dtstart.month})
            monthdays = frozenset({dtstart.day})
        elif rule.freq == "MONTHLY":
            monthdays = frozenset({dtstart.day})
        elif rule.freq == "WEEKLY":
            weekdays = frozenset({dtstart.weekday()})
    nth = _nth_days(rule, start, end, months) if rule.nth_weekdays else None
    out = []
    if rule.freq == "YEARLY" and months and nth is None:  # walk only the months asked for
        candidates = [
            date(start.year, m, d) for m in sorted(months) for d in range(1, calendar.monthrange(start.year, m)[1] + 1)
        ]
    else:
        candidates = [start + timedelta(days=i) for i in range((end - start).days)]
    for day in candidates:
        if months and day.month not in months:
            continue
        if weekdays and day.weekday() not in weekdays:
            continue
        if nth is not None and day not in nth:
            continue
        if monthdays:
            length = calendar.monthrange(day.year, day.month)[1]
            if day.day not in monthdays and day.day - length - 1 not in monthdays:
                continue
        out.append(day)
    return out, len(candidates)


def expand(rule: Rule, dtstart: datetime, until: datetime, exdates: frozenset[datetime], limit: int) -> list[datetime]:
    """Starts of the rule's occurrences from `dtstart` (aware; its zone is the wall clock) up to `until`,
    without `exdates`, at most `limit`. Raises `RuleError` when the walk would look at more than
    `MAX_DAYS_WALKED` days before reaching `until` (a first start too far in the past)."""
    tz = dtstart.tzinfo
    start = dtstart.replace(tzinfo=None)
    bound = until.astimezone(tz).replace(tzinfo=None)
    if rule.until is not None:
        bound = min(bound, rule.until.astimezone(tz).replace(tzinfo=None))
    excluded = {x.astimezone(tz).replace(tzinfo=None) for x in exdates}
    times = sorted(
        time(h, m, start.second) for h in (rule.hours or (start.hour,)) for m in (rule.minutes or (start.minute,))
    )
    out: list[datetime] = []
    if rule.count is None and (bound - start).days > MAX_DAYS_WALKED:
        raise RuleError(f"the rule would walk more than {MAX_DAYS_WALKED} days: start it later")
    counted = walked = 0
    for first_day, end_day in _periods(rule, start.date()):
        if first_day > bound.date() or first_day.year >= 9999:
            break
        days, looked_at = _days(rule, first_day, end_day, start.date())
        walked += looked_at
        if walked > MAX_DAYS_WALKED:
            raise RuleError(f"the rule would walk more than {MAX_DAYS_WALKED} days: start it later")
        instances = [datetime.combine(d, t) for d in days for t in times]
        if rule.setpos:
            n = len(instances)
            instances = sorted({instances[p - 1 if p > 0 else p] for p in rule.setpos if -n <= p <= n})
        for at in instances:
            if at > bound:
                return out
            if at < start:
                continue
            counted += 1
            if rule.count is not None and counted > rule.count:
                return out
            if at not in excluded:
                out.append(at.replace(tzinfo=tz))
                if len(out) >= limit:
                    return out
    return out
