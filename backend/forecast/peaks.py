"""Tomorrow's expected peaks for the city (issue 19, 7): per venue, the busiest forecast hour of a day, and per
district, the hour when the most people are expected inside its venues together, so the city can act (send
staff, open overflow, ask venues to limit) before the crowd arrives. Read from the same forecast hours as the
venue pages (`ForecastService.hours`: the model, seats already booked, directives in force)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import msgspec

from backend.forecast import model
from backend.forecast.schemas import ForecastHour
from backend.forecast.services import ForecastService, forecast_day, forecasts, level_of
from backend.lib.clock import CITY_TZ, clock
from backend.occupancy.services import RANK
from backend.venues.schemas import DISTRICT_NAMES, ComfortLevel, Localised
from backend.venues.services import catalog

# a level at or past this is a peak the city should see coming (LB/T 034: 较拥挤 and worse)
WATCH_FROM: ComfortLevel = "fairly_crowded"


class VenuePeak(msgspec.Struct):
    venue_slug: str
    name: Localised
    district: str
    peak_at: datetime  # the busiest forecast hour's start, in the city's time
    expected: int  # people inside then, expected
    high: int  # the band's top then
    capacity: int
    comfort_level: ComfortLevel


class DistrictPeak(msgspec.Struct):
    district: str
    name: Localised
    peak_at: datetime  # the hour when its open venues together hold the most people
    expected: int  # people expected inside its venues then, together
    capacity: int  # the capacity of its venues open then
    comfort_level: ComfortLevel  # of expected over capacity then
    venues: int  # venues with a forecast that day
    watch: int  # venues whose own peak is at WATCH_FROM or worse


class PeaksOut(msgspec.Struct):
    date: date
    model: str
    generated_at: datetime
    watch_from: ComfortLevel
    venues: list[VenuePeak]  # the most crowded (expected over capacity) first
    districts: list[DistrictPeak]  # likewise


@dataclass
class _Hours:
    slug: str
    name: Localised
    district: str
    hours: list[ForecastHour]


def _ratio(expected: int, capacity: int) -> float:
    return expected / capacity if capacity else 0.0


async def peaks(day: date | None = None, service: ForecastService = forecasts) -> PeaksOut:
    """Each venue's and each district's expected peak on `day` (tomorrow by default; today up to six days
    ahead), from every venue's forecast hours of that day."""
    day = forecast_day(day or clock.city_today() + timedelta(days=1))
    snap = await catalog.snapshot()
    found = [
        _Hours(r.row["slug"], Localised(r.row["name_zh"], r.row["name_en"] or ""), r.row["district"], hours)
        for r, hours in await service.day_hours(snap.records, day)
        if hours
    ]

    venues = []
    by_district: dict[str, list[_Hours]] = defaultdict(list)
    for v in found:
        top = max(v.hours, key=lambda h: (_ratio(h.expected, h.capacity), h.expected, -h.starts_at.timestamp()))
        venues.append(
            VenuePeak(
                v.slug, v.name, v.district, top.starts_at, top.expected, top.high, top.capacity, top.comfort_level
            )
        )
        by_district[v.district].append(v)
    venues.sort(key=lambda p: (-_ratio(p.expected, p.capacity), p.venue_slug))
    watch = {p.venue_slug for p in venues if RANK[p.comfort_level] >= RANK[WATCH_FROM]}

    districts = []
    for district, members in by_district.items():
        together: dict[datetime, list[int]] = defaultdict(lambda: [0, 0])
        for v in members:
            for h in v.hours:
                cell = together[h.starts_at]
                cell[0] += h.expected
                cell[1] += h.capacity
        at, (expected, capacity) = max(together.items(), key=lambda kv: (kv[1][0], -kv[0].timestamp()))
        names = DISTRICT_NAMES.get(district, {"zh": district, "en": district})
        districts.append(
            DistrictPeak(
                district=district,
                name=Localised(names["zh"], names["en"]),
                peak_at=at,
                expected=expected,
                capacity=capacity,
                comfort_level=level_of(expected, capacity),
                venues=len(members),
                watch=sum(1 for v in members if v.slug in watch),
            )
        )
    districts.sort(key=lambda d: (-_ratio(d.expected, d.capacity), d.district))
    return PeaksOut(
        date=day,
        model=model.CHOSEN,
        generated_at=clock.now().astimezone(CITY_TZ),
        watch_from=WATCH_FROM,
        venues=venues,
        districts=districts,
    )
