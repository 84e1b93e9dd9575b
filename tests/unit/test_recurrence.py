"""backend/lib/recurrence.py: the same occurrences as python-dateutil for every rule of the subset that
matches, bounded work for every rule that doesn't, and a reason for every rule outside the subset."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr

from backend.lib.recurrence import MAX_DAYS_WALKED, RuleError, expand, parse_rule

TZ = ZoneInfo("Asia/Shanghai")
STARTS = (datetime(2026, 1, 31, 10, 0, tzinfo=TZ), datetime(2025, 11, 5, 19, 30, tzinfo=TZ), datetime(2024, 2, 29, 9))

MATCHING = (
    "FREQ=WEEKLY;BYDAY=SA;COUNT=13",
    "FREQ=WEEKLY;BYDAY=TU,TH,SU",
    "FREQ=MONTHLY;BYDAY=2SU;COUNT=3",
    "FREQ=DAILY;COUNT=8",
    "FREQ=WEEKLY;BYDAY=SA,SU;BYHOUR=10,14",
    "FREQ=WEEKLY",
    "FREQ=MONTHLY",
    "FREQ=YEARLY",
    "FREQ=YEARLY;BYMONTH=3,9",
    "FREQ=MONTHLY;BYMONTHDAY=-1",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
    "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=YEARLY;BYDAY=20MO",
    "FREQ=YEARLY;BYMONTH=5;BYDAY=2SU",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,FR",
    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE;WKST=SU",
    "FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1,15",
    "FREQ=DAILY;BYMONTH=7,8;BYHOUR=9,13;BYMINUTE=0,30",
    "FREQ=MONTHLY;BYMONTHDAY=13;BYDAY=FR",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=WEEKLY;BYMONTH=6,7;BYDAY=SA",
    "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10",
    "FREQ=DAILY;UNTIL=20270301T000000Z",
    "FREQ=MONTHLY;BYDAY=SA,SU;BYSETPOS=1,-1",
    "FREQ=WEEKLY;BYDAY=MO,TU;BYSETPOS=2",
)


@pytest.mark.parametrize("rule", MATCHING)
def test_occurrences_are_python_dateutils(rule):
    for start in STARTS:
        start = start.replace(tzinfo=TZ)
        until = start + timedelta(days=1500)
        theirs = []
        for at in rrulestr(rule, dtstart=start):
            if at > until or len(theirs) >= 1500:
                break
            theirs.append(at)
        assert expand(parse_rule(rule, TZ), start, until, frozenset(), 1500) == theirs, (rule, start)


# dateutil searches these to year 9999 (0.3 s … 20 s); here each costs at most MAX_DAYS_WALKED days
NEVER_MATCHING = (
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6",
    "FREQ=YEARLY;BYDAY=MO;BYSETPOS=60",
    "FREQ=DAILY;INTERVAL=7;BYDAY=TU",
    "FREQ=MONTHLY;INTERVAL=12;BYMONTH=4",
    "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=1500",
)


@pytest.mark.parametrize("rule", NEVER_MATCHING)
def test_a_rule_that_never_matches_costs_milliseconds(rule):
    start = datetime(2026, 3, 2, 10, tzinfo=TZ)
    t0 = time.perf_counter()
    assert expand(parse_rule(rule, TZ), start, start + timedelta(days=800), frozenset(), 1500) == []
    assert time.perf_counter() - t0 < 0.2


def test_a_first_start_too_far_back_is_refused_not_walked():
    rule = parse_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", TZ)
    start = datetime(1900, 3, 1, tzinfo=TZ)
    t0 = time.perf_counter()
    with pytest.raises(RuleError, match=str(MAX_DAYS_WALKED)):
        expand(rule, start, datetime(2028, 1, 1, tzinfo=TZ), frozenset(), 1500)
    counted = parse_rule("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30;COUNT=5", TZ)
    with pytest.raises(RuleError):  # with COUNT, the walk itself stops at the budget
        expand(counted, start, datetime(2028, 1, 1, tzinfo=TZ), frozenset(), 9)
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize(
    "rule",
    (
        "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=SECONDLY;INTERVAL=1",
        "FREQ=HOURLY",
        "FREQ=FORTNIGHTLY",
        "FREQ=DAILY;COUNT=1000000",
        "FREQ=DAILY;INTERVAL=0",
        "FREQ=DAILY;INTERVAL=100000",
        "FREQ=WEEKLY;BYDAY=2SU",
        "FREQ=MONTHLY;BYDAY=MO,2TU",
        "FREQ=DAILY;BYSECOND=1",
        "FREQ=YEARLY;BYWEEKNO=53",
        "FREQ=YEARLY;BYYEARDAY=366",
        "FREQ=YEARLY;BYEASTER=0",
        "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12;BYMINUTE=0,30",
        "FREQ=DAILY;COUNT=3;COUNT=4",
        "FREQ=DAILY;COUNT=3;UNTIL=20270101",
        "FREQ=DAILY;UNTIL=tomorrow",
        "FREQ=MONTHLY;BYMONTHDAY=0",
        "FREQ=MONTHLY;BYMONTHDAY=32",
        "FREQ=MONTHLY;BYSETPOS=0",
        "RRULE:FREQ=DAILY",
        "FREQ=DAILY;X-NAME=1",
        "FREQ=DAILY;" + "BYMONTH=1;" * 40,
    ),
)
def test_rules_outside_the_subset_are_refused_with_a_reason(rule):
    with pytest.raises(RuleError) as err:
        parse_rule(rule, TZ)
    assert str(err.value)
