"""When events happen: times read in city time (Asia/Shanghai), recurrence expanded and checked, and the
id of one occurrence. The expansion is backend/lib/recurrence.py's subset, bounded in work whatever the
rule says; what the catalogue can't expand is refused where it is written (`check_event_times`)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from backend.lib.clock import CITY_TZ
from backend.lib.problems import InvalidInput
from backend.lib.recurrence import MAX_COUNT, RuleError, parse_rule
from backend.lib.recurrence import expand as expand_rule

HORIZON = timedelta(days=800)  # occurrences are expanded this far past now (and capped in number)
MAX_OCCURRENCES = MAX_COUNT


def local(dt: datetime) -> datetime:
    """An aware datetime in city time; a naive one is read as city time."""
    return dt.replace(tzinfo=CITY_TZ) if dt.tzinfo is None else dt.astimezone(CITY_TZ)


def parse_when(raw: str, field_name: str, *, end: bool = False) -> datetime:
    """`YYYY-MM-DD` (city midnight; for `to`, the end of that day) or ISO 8601 date-time (naive = city
    time). Anything else is a 400 `invalid_date` naming the field."""
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=CITY_TZ)
            return start + timedelta(days=1) if end else start
        return local(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise InvalidInput(
            "invalid_date", f"{field_name} must be YYYY-MM-DD or an ISO 8601 date-time", field=field_name
        ) from None


def occurrence_id(slug: str, start: datetime) -> str:
    return f"{slug}@{local(start):%Y%m%dT%H%M}"


def expand(starts_at: datetime, rrule: str | None, exdates: list[datetime], until: datetime) -> list[datetime]:
    """Local start times of every occurrence up to `until` (wall-clock recurrence in Asia/Shanghai), at
    most MAX_OCCURRENCES. The rule is the subset of backend/lib/recurrence.py, whose expansion is
    bounded in work whatever the rule says; anything else is a 400 `invalid_rrule`."""
    first = local(starts_at)
    if not rrule:
        return [first]
    try:
        rule = parse_rule(rrule, CITY_TZ)
        return expand_rule(rule, first, until, frozenset(local(x) for x in exdates), MAX_OCCURRENCES)
    except (RuleError, OverflowError) as exc:
        raise InvalidInput("invalid_rrule", f"rrule: {exc}", field="rrule") from None


def check_event_times(starts_at: datetime, ends_at: datetime, rrule: str | None, exdates: list[datetime]) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("invalid_range", "ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > timedelta(days=366):
        raise InvalidInput("invalid_range", "one occurrence may last at most a year", field="ends_at")
    if rrule is not None and rrule.strip().upper().startswith(("RRULE:", "DTSTART")):
        raise InvalidInput("invalid_rrule", "give the RRULE value only, e.g. FREQ=WEEKLY;BYDAY=SA", field="rrule")
    if rrule and not expand(starts_at, rrule, exdates, local(starts_at) + HORIZON):
        raise InvalidInput("invalid_rrule", "the rule and its exceptions leave no occurrence", field="rrule")


def exdates_of(row: dict[str, Any]) -> list[datetime]:
    return [local(datetime.fromisoformat(x)) for x in row["exdates"] or []]
