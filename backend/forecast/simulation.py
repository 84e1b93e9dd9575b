"""A simulated history of people inside each venue, hour by hour, for a deployment that has no history
of its own yet (`changxiang simulate-history`). Every row it writes is marked simulated; real counts (the
scan log, walk-ins) replace it day by day as they come (`backend.forecast.history`).

What shapes it (docs/forecast.md lists the numbers):
- the venue's category: how full it gets on an ordinary weekday, how much weekends add, its hours of the
  day (museums peak late morning and mid-afternoon, parks early and at dusk, theatres in the evening),
  whether it is indoors, how long people stay;
- the calendar (`backend.forecast.calendar`): public holidays and the Golden Weeks (peaking on their
  second to fourth days), the Spring Festival's eve (families at home), working weekends, school holidays;
- the season (spring blossom, hot summer afternoons, winter) and a slow growth year on year;
- the weather, one seeded draw a day for the whole city (plum rains in June and July, typhoons in August
  and September): rain empties parks and fills museums a little, a storm empties both;
- each venue's own popularity and its capacity (entry stops at capacity: LB/T 034);
- noise per day and per hour.
The same seed gives the same history, to the person.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from opening_hours import OpeningHours

from backend.forecast.calendar import DayKind, day_kind
from backend.forecast.opening import open_hours

Weather = Literal["clear", "cloudy", "rain", "storm"]


@dataclass(frozen=True, slots=True)
class CategoryShape:
    weekday_ratio: float  # people inside at the day's peak hour on an ordinary weekday, share of capacity
    weekend: float  # a weekend day's level against a weekday's
    peaks: tuple[tuple[float, float, float], ...]  # (hour, spread in hours, weight): the day's shape
    indoor: bool
    dwell_h: float  # how long a visitor stays
    school: float  # a school-holiday weekday's level against an ordinary one
    golden: float  # a Golden Week's peak day against a weekday
    holiday: float  # a short public holiday's day against a weekday


CATEGORY: dict[str, CategoryShape] = {
    "museum": CategoryShape(0.30, 1.9, ((10.5, 1.2, 0.8), (14.5, 1.3, 1.0)), True, 2.0, 1.45, 3.0, 2.1),
    "library": CategoryShape(
        0.35, 1.5, ((10.0, 1.5, 0.7), (15.0, 2.0, 1.0), (19.0, 1.2, 0.5)), True, 2.5, 1.6, 1.4, 1.3
    ),
    "art_gallery": CategoryShape(0.22, 2.0, ((11.0, 1.5, 0.8), (15.0, 1.4, 1.0)), True, 1.5, 1.3, 2.6, 2.0),
    "cultural_center": CategoryShape(
        0.20, 1.8, ((10.0, 1.5, 0.6), (15.0, 1.8, 0.9), (19.5, 1.2, 1.0)), True, 2.0, 1.4, 2.0, 1.7
    ),
    "theatre": CategoryShape(0.12, 1.6, ((14.5, 1.0, 0.45), (19.5, 0.9, 1.0)), True, 2.5, 1.2, 2.2, 1.8),
    "scenic_area": CategoryShape(0.18, 2.4, ((11.0, 1.8, 0.9), (14.5, 1.7, 1.0)), False, 3.5, 1.5, 4.2, 2.6),
    "heritage_site": CategoryShape(
        0.20, 2.2, ((10.5, 1.7, 0.9), (15.0, 2.0, 1.0), (19.5, 1.3, 0.6)), False, 1.5, 1.4, 3.6, 2.4
    ),
    "park": CategoryShape(
        0.15, 1.9, ((7.0, 1.2, 0.7), (10.5, 1.5, 0.6), (16.5, 1.6, 1.0), (19.5, 1.0, 0.7)), False, 1.5, 1.3, 2.8, 2.2
    ),
    "resort": CategoryShape(
        0.16, 2.5, ((11.0, 2.0, 0.9), (15.0, 2.0, 1.0), (20.0, 1.3, 0.6)), False, 4.0, 1.7, 3.8, 2.5
    ),
    "memorial_hall": CategoryShape(0.28, 1.6, ((10.0, 1.3, 1.0), (14.5, 1.3, 0.85)), True, 1.2, 1.3, 2.4, 1.9),
    "intangible_heritage": CategoryShape(0.22, 1.9, ((10.5, 1.3, 0.8), (14.5, 1.4, 1.0)), True, 1.2, 1.4, 2.6, 2.0),
}
DEFAULT_SHAPE = CATEGORY["museum"]
INDOOR_CATEGORIES = frozenset(name for name, shape in CATEGORY.items() if shape.indoor)

# a Golden Week's days against its peak (first day, the peak days 2-4, the tail, the last day)
GOLDEN_DAYS = {"golden_first": 0.7, "golden_peak": 1.0, "golden_tail": 0.75, "golden_last": 0.45, "eve": 0.2}
HOLIDAY_DAYS = {"holiday": 1.0, "holiday_last": 0.65}
# the month's level (1 = January): spring blossom and autumn walks, hot Julys, quiet Januarys
SEASON_OUTDOOR = (0.7, 0.8, 1.15, 1.3, 1.15, 0.95, 0.8, 0.8, 1.0, 1.2, 1.1, 0.8)
SEASON_INDOOR = (0.95, 0.95, 1.0, 1.0, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.0, 0.95)
# how likely a rainy or stormy day is, by month (Changzhou: plum rains in June-July, typhoons Aug-Sep)
RAIN = (0.25, 0.3, 0.35, 0.35, 0.35, 0.5, 0.45, 0.35, 0.3, 0.2, 0.2, 0.2)
STORM = (0.0, 0.0, 0.01, 0.01, 0.02, 0.05, 0.05, 0.07, 0.06, 0.02, 0.0, 0.0)
WEATHER_EFFECT: dict[tuple[bool, Weather], float] = {
    (False, "clear"): 1.05,
    (False, "cloudy"): 1.0,
    (False, "rain"): 0.5,
    (False, "storm"): 0.15,
    (True, "clear"): 0.97,
    (True, "cloudy"): 1.0,
    (True, "rain"): 1.15,
    (True, "storm"): 0.65,
}
GROWTH_PER_YEAR = 0.06
DAY_NOISE = 0.10  # sd of a day's log-level for one venue
HOUR_NOISE = 0.08  # sd of an hour's log-level
EPOCH = date(2025, 1, 1)  # the growth's zero
WEATHER_START = date(2020, 1, 1)


@dataclass(frozen=True, slots=True)
class VenueFacts:
    slug: str
    category: str
    capacity: int
    hours: OpeningHours


@dataclass(frozen=True, slots=True)
class HourCount:
    venue_slug: str
    day: date
    hour: int  # local hour, 0..23
    inside: int  # people inside on average during the hour
    entries: int  # people who came in during the hour


def shape_of(category: str) -> CategoryShape:
    return CATEGORY.get(category, DEFAULT_SHAPE)


def _unit(seed: int, *parts: str) -> random.Random:
    digest = hashlib.sha256("|".join((str(seed), *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def popularity(slug: str, seed: int) -> float:
    """A venue's own pull against its category's (0.6 .. 1.4), fixed by its slug and the seed."""
    return 0.6 + 0.8 * _unit(seed, "popularity", slug).random()


def weather_for(days: list[date], seed: int) -> dict[date, Weather]:
    """One weather a day for the whole city; a rainy day makes the next more likely rainy."""
    rng = _unit(seed, "weather")
    out: dict[date, Weather] = {}
    wet = False
    wanted = set(days)
    if not wanted:
        return out
    # the chain always starts on WEATHER_START, so a day's weather doesn't depend on the range asked for
    day, last = min(WEATHER_START, min(wanted)), max(wanted)
    while day <= last:
        m = day.month - 1
        p_rain = min(0.9, RAIN[m] * (1.6 if wet else 0.85))
        x = rng.random()
        if x < STORM[m]:
            w: Weather = "storm"
        elif x < STORM[m] + p_rain:
            w = "rain"
        elif x < STORM[m] + p_rain + 0.3:
            w = "cloudy"
        else:
            w = "clear"
        wet = w in ("rain", "storm")
        if day in wanted:
            out[day] = w
        day += timedelta(days=1)
    return out


def day_shape(category: str) -> list[float]:
    """The category's hours of the day (0..23), the peak hour 1.0."""
    shape = shape_of(category)
    raw = [
        sum(weight * math.exp(-0.5 * ((h + 0.5 - at) / spread) ** 2) for at, spread, weight in shape.peaks)
        for h in range(24)
    ]
    top = max(raw)
    return [max(0.02, x / top) for x in raw]


def day_level(shape: CategoryShape, kind: DayKind, day: date) -> float:
    """The day's level against an ordinary weekday, from the calendar and the season (weather aside)."""
    bucket = kind.holiday_bucket
    if bucket is not None and kind.type == "golden":
        level = shape.golden * GOLDEN_DAYS[bucket if bucket in GOLDEN_DAYS else "golden_peak"]
        level = max(level, 0.2)
    elif bucket is not None:
        level = shape.holiday * HOLIDAY_DAYS.get(bucket, 1.0)
    elif kind.type == "weekend":
        level = shape.weekend
    else:
        level = 1.0
    if kind.school_holiday and kind.type in ("workday", "makeup"):
        level *= shape.school
    season = SEASON_INDOOR if shape.indoor else SEASON_OUTDOOR
    level *= season[day.month - 1]
    level *= 1 + GROWTH_PER_YEAR * (day - EPOCH).days / 365.25
    return level


def simulate_venue(venue: VenueFacts, days: list[date], weather: dict[date, Weather], seed: int) -> Iterator[HourCount]:
    """The venue's hours over `days`, people inside and coming in."""
    shape = shape_of(venue.category)
    hours_shape = day_shape(venue.category)
    pull = popularity(venue.slug, seed)
    for day in days:
        hours = open_hours(venue.hours, day)
        if not hours:
            continue
        rng = _unit(seed, "venue", venue.slug, day.isoformat())
        day_noise = math.exp(rng.gauss(0.0, DAY_NOISE))
        kind = day_kind(day)
        w = weather.get(day, "cloudy")
        level = day_level(shape, kind, day) * WEATHER_EFFECT[(shape.indoor, w)] * day_noise * pull
        hot = day.month in (7, 8) and w == "clear" and not shape.indoor
        peak = venue.capacity * shape.weekday_ratio * level
        for h in hours:
            x = peak * hours_shape[h] * math.exp(rng.gauss(0.0, HOUR_NOISE))
            if hot and 12 <= h <= 15:
                x *= 0.7
            inside = int(round(min(x, venue.capacity)))
            entries = int(round(inside / shape.dwell_h))
            yield HourCount(venue.slug, day, h, inside, entries)


def simulate(venues: list[VenueFacts], first: date, last: date, seed: int) -> Iterator[HourCount]:
    """Every venue's hours from `first` to `last` (inclusive)."""
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weather = weather_for(days, seed)
    for venue in venues:
        yield from simulate_venue(venue, days, weather, seed)
