"""The calendar crowds feel, the simulated history and people inside from counts (backend/forecast)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from statistics import mean

from opening_hours import OpeningHours

from backend.forecast.calendar import day_kind, is_school_holiday
from backend.forecast.history import inside_from_counts
from backend.forecast.opening import ROUND_THE_CLOCK, open_hours
from backend.forecast.simulation import VenueFacts, simulate, weather_for

MUSEUM = VenueFacts("test-museum", "museum", 800, OpeningHours("Tu-Su 09:00-17:00; Mo off"))
PARK = VenueFacts("test-park", "park", 5000, OpeningHours("24/7"))
SCENIC = VenueFacts("test-scenic", "scenic_area", 3000, OpeningHours("08:00-17:00"))


def test_the_calendar_knows_golden_weeks_working_weekends_and_the_spring_festival_eve():
    national = [day_kind(date(2026, 10, d)) for d in range(1, 8)]
    assert all(k.type == "golden" and k.stretch_len == 7 for k in national)
    assert [k.holiday_bucket for k in national] == [
        "golden_first",
        "golden_peak",
        "golden_peak",
        "golden_peak",
        "golden_tail",
        "golden_tail",
        "golden_last",
    ]
    assert day_kind(date(2026, 10, 10)).type == "makeup"  # a Saturday worked for the week off
    assert day_kind(date(2026, 9, 20)).type == "makeup"
    assert day_kind(date(2026, 10, 11)).type == "weekend"
    assert day_kind(date(2026, 10, 13)).type == "workday"
    mid_autumn = day_kind(date(2026, 9, 25))
    assert mid_autumn.type == "holiday" and mid_autumn.stretch_len == 3
    eve = day_kind(date(2026, 2, 16))
    assert eve.type == "golden" and eve.spring_eve and eve.holiday_bucket == "eve"
    assert is_school_holiday(date(2026, 7, 20)) and is_school_holiday(date(2026, 2, 5))
    assert not is_school_holiday(date(2026, 11, 10))


def test_open_hours_follow_the_venues_opening_hours():
    assert open_hours(MUSEUM.hours, date(2026, 12, 7)) == ()  # Monday
    assert open_hours(MUSEUM.hours, date(2026, 12, 8)) == tuple(range(9, 17))
    assert open_hours(PARK.hours, date(2026, 12, 8)) == ROUND_THE_CLOCK
    assert open_hours(OpeningHours("08:30-17:00"), date(2026, 12, 8)) == tuple(range(8, 17))


def _history(venue: VenueFacts, first: date, last: date, seed: int = 7):
    out: dict[date, dict[int, int]] = defaultdict(dict)
    for row in simulate([venue], first, last, seed):
        out[row.day][row.hour] = row.inside
    return out


def test_the_same_seed_writes_the_same_history_and_another_seed_another():
    first, last = date(2026, 3, 1), date(2026, 3, 31)
    a = list(simulate([MUSEUM, PARK], first, last, 11))
    b = list(simulate([MUSEUM, PARK], first, last, 11))
    c = list(simulate([MUSEUM, PARK], first, last, 12))
    assert a == b and a != c
    # a day's figures don't depend on the range asked for
    again = [r for r in simulate([PARK], date(2026, 3, 20), date(2026, 3, 20), 11)]
    assert again == [r for r in a if r.venue_slug == PARK.slug and r.day == date(2026, 3, 20)]


def test_the_simulated_history_has_the_weekly_daily_and_holiday_shapes_and_respects_capacity():
    history = _history(SCENIC, date(2025, 9, 1), date(2026, 11, 30))
    totals = {d: sum(h.values()) for d, h in history.items()}
    workdays = [t for d, t in totals.items() if day_kind(d).type == "workday" and not day_kind(d).school_holiday]
    weekends = [t for d, t in totals.items() if day_kind(d).type == "weekend" and not day_kind(d).school_holiday]
    golden_peak = [t for d, t in totals.items() if day_kind(d).holiday_bucket == "golden_peak"]
    assert mean(weekends) > 1.5 * mean(workdays)
    assert mean(golden_peak) > 2.5 * mean(workdays)
    assert all(v <= SCENIC.capacity for h in history.values() for v in h.values())
    # midday is busier than the first hour
    assert mean(h[14] for h in history.values()) > 2 * mean(h[8] for h in history.values())
    museum = _history(MUSEUM, date(2026, 11, 1), date(2026, 11, 30))
    assert all(d.weekday() != 0 for d in museum), "closed on Mondays: no hours"


def test_rain_empties_parks_and_fills_museums_a_little():
    first, last = date(2025, 12, 1), date(2026, 11, 30)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weather = weather_for(days, 5)
    park = _history(PARK, first, last, 5)
    museum = _history(MUSEUM, first, last, 5)

    def ratio(history, wet: str) -> float:
        def ordinary(d: date) -> bool:
            return day_kind(d).type == "workday" and d in history

        rainy = [sum(history[d].values()) for d in days if ordinary(d) and weather[d] == wet]
        dry = [sum(history[d].values()) for d in days if ordinary(d) and weather[d] in ("clear", "cloudy")]
        return mean(rainy) / mean(dry)

    assert ratio(park, "rain") < 0.7
    assert ratio(museum, "rain") > 1.0
    assert sum(1 for w in weather.values() if w == "storm") >= 3


def test_people_inside_from_counts_with_exits_and_without():
    at = datetime(2026, 12, 8, 9, 10)
    moves = [(at, 10, 0), (at.replace(hour=10), 20, 5), (at.replace(hour=11), 0, 25)]
    inside = inside_from_counts(moves, "museum", range(9, 13))
    assert inside == {9: 5.0, 10: 17.5, 11: 12.5, 12: 0.0}
    # entries only: each stays the category's usual time (a museum: two hours)
    inside = inside_from_counts([(at, 10, 0), (at.replace(hour=10), 20, 0)], "museum", range(9, 13))
    assert inside == {9: 10.0, 10: 30.0, 11: 20.0, 12: 0.0}
