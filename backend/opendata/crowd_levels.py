"""Crowd levels for map apps (issue 19): each venue's comfort level now and as forecast, as an open dataset
(`crowd_levels`: JSON, CSV, GeoJSON through the catalogue) and as a small JSON feed a map provider polls
(`GET /opendata/feeds/crowd-levels`, with `Cache-Control` and a strong `ETag`; `If-None-Match` gets a 304).

Levels are LB/T 034-2014's (舒适, 较舒适, 一般, 较拥挤, 拥挤, and full). "Now" is live occupancy (gate counts and
walk-ins, a directive's capacity); the forecast is the forecast room's (docs/forecast.md). Coordinates are
WGS-84 as everywhere in our open data, and GCJ-02 beside them in the feed, which maps in China draw on.
Aggregates only: no personal data.
"""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timedelta
from typing import Any

import anyio
import msgspec

from backend.forecast.schemas import ForecastHour
from backend.forecast.services import calm_from, forecasts
from backend.lib.clock import CITY_TZ, clock
from backend.lib.i18n import Lang, pick
from backend.occupancy.schemas import VenueOccupancy
from backend.occupancy.services import occupancy
from backend.opendata.datasets import Dataset, register_dataset
from backend.venues.schemas import ComfortLevel, LiveStatus
from backend.venues.services import VenueRecord, catalog
from integrations.coords import wgs84_to_gcj02

FEED_MAX_AGE_S = 60
FEED_HOURS = 6  # the feed's forecast: the next hours of each venue
DATASET_DAYS = 2  # the dataset's forecast: today's hours still to come and tomorrow's
LICENCE = "CC BY 4.0"


class FeedHour(msgspec.Struct):
    starts_at: datetime
    comfort_level: ComfortLevel
    expected: int


class FeedVenue(msgspec.Struct, omit_defaults=True):
    slug: str
    name: str
    category: str
    district: str
    lat: float  # WGS-84
    lng: float
    lat_gcj02: float  # GCJ-02, for maps in China
    lng_gcj02: float
    status: LiveStatus
    comfort_level: ComfortLevel  # now
    occupancy: int
    capacity: int
    next_hours: list[FeedHour]
    peak_level_today: ComfortLevel | None = None
    calm_from_today: str | None = None  # "15:00"


class CrowdFeed(msgspec.Struct):
    generated_at: datetime
    licence: str
    levels: list[str]
    max_age_s: int
    venues: list[FeedVenue]


LEVELS = ["comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"]


async def _venue_figures() -> tuple[list[VenueRecord], dict[str, VenueOccupancy], dict[str, list[ForecastHour]]]:
    snap = await catalog.snapshot()
    now_figures = {v.venue_slug: v for v in await occupancy.all()}
    today = clock.city_today()
    forecast: dict[str, list[ForecastHour]] = {}
    limiter = anyio.CapacityLimiter(4)

    async def one(record: VenueRecord) -> None:
        async with limiter:
            forecast[record.row["slug"]] = await forecasts.hours(
                record, today, today + timedelta(days=DATASET_DAYS - 1)
            )

    async with anyio.create_task_group() as tg:
        for record in snap.records:
            tg.start_soon(one, record)
    return list(snap.records), now_figures, forecast


async def crowd_level_rows(lang: Lang) -> list[dict[str, Any]]:
    """One row a venue and hour: the level now (`kind` "now", live counts) and the forecast hours of today
    and tomorrow (`kind` "forecast", with the band)."""
    records, now_figures, forecast = await _venue_figures()
    now = clock.now().astimezone(CITY_TZ).replace(second=0, microsecond=0)
    out: list[dict[str, Any]] = []
    for record in records:
        r = record.row
        base = {
            "venue_slug": r["slug"],
            "venue_name": pick(r["name_zh"], r["name_en"], lang),
            "category": r["category"],
            "district": r["district"],
            "lat": r["lat"],
            "lng": r["lng"],
        }
        live = now_figures.get(r["slug"])
        if live is not None:
            out.append(
                {
                    **base,
                    "kind": "now",
                    "starts_at": now.isoformat(),
                    "people": live.occupancy,
                    "low": None,
                    "high": None,
                    "capacity": live.capacity,
                    "comfort_level": live.comfort_level,
                    "status": live.status,
                }
            )
        for h in forecast.get(r["slug"], []):
            out.append(
                {
                    **base,
                    "kind": "forecast",
                    "starts_at": h.starts_at.isoformat(),
                    "people": h.expected,
                    "low": h.low,
                    "high": h.high,
                    "capacity": h.capacity,
                    "comfort_level": h.comfort_level,
                    "status": None,
                }
            )
    return out


def _lng_lat(row: dict[str, Any]) -> tuple[float, float] | None:
    return (row["lng"], row["lat"])


register_dataset(
    Dataset(
        "crowd_levels",
        {"zh": "场馆舒适度（实时与预测）", "en": "Crowd levels of venues, now and forecast"},
        {
            "zh": "各场馆当前的舒适度等级（LB/T 034-2014，按瞬时承载量）与今明两天逐小时的预测（预计人数及 80% 区间），"
            "每场馆每小时一行。预测模型见 docs/forecast.md。仅汇总数据。",
            "en": "Each venue's comfort level now (LB/T 034-2014, against its instantaneous capacity) and forecast "
            "for every hour of today and tomorrow (people expected, with an 80% band), one row a venue and hour. "
            "The model: docs/forecast.md. Aggregates only.",
        },
        ["crowds", "comfort level", "forecast", "LB/T 034"],
        "continuous",
        crowd_level_rows,
        _lng_lat,
    )
)


# ---------------------------------------------------------------- the map apps' feed


class CrowdFeedService:
    def __init__(self) -> None:
        self._cache: dict[tuple[Lang, datetime], tuple[float, bytes, str]] = {}
        self._lock = anyio.Lock()

    def forget(self) -> None:
        self._cache.clear()

    async def feed(self, lang: Lang) -> tuple[bytes, str]:
        """The feed's body and its ETag, built at most once a `FEED_MAX_AGE_S` per process and language (and
        clock minute). The ETag is the venues' figures' hash: replicas with the same figures give the same."""
        key = (lang, clock.now().replace(second=0, microsecond=0))
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < FEED_MAX_AGE_S:
            return hit[1], hit[2]
        async with self._lock:
            hit = self._cache.get(key)
            if hit is not None and time.monotonic() - hit[0] < FEED_MAX_AGE_S:
                return hit[1], hit[2]
            feed = await self._build(lang)
            etag = '"' + hashlib.sha256(msgspec.json.encode(feed.venues)).hexdigest()[:32] + '"'
            body = msgspec.json.encode(feed)
            if len(self._cache) > 16:
                self._cache.clear()
            self._cache[key] = (time.monotonic(), body, etag)
            return body, etag

    async def _build(self, lang: Lang) -> CrowdFeed:
        records, now_figures, forecast = await _venue_figures()
        venues = []
        for record in records:
            r = record.row
            live = now_figures.get(r["slug"])
            hours = forecast.get(r["slug"], [])
            today = [h for h in hours if h.starts_at.date() == clock.city_today()]
            peak, calm = calm_from(today)
            lat_gcj, lng_gcj = wgs84_to_gcj02(r["lat"], r["lng"])
            venues.append(
                FeedVenue(
                    slug=r["slug"],
                    name=pick(r["name_zh"], r["name_en"], lang),
                    category=r["category"],
                    district=r["district"],
                    lat=r["lat"],
                    lng=r["lng"],
                    lat_gcj02=round(lat_gcj, 6),
                    lng_gcj02=round(lng_gcj, 6),
                    status=live.status if live else "closed",
                    comfort_level=live.comfort_level if live else "comfortable",
                    occupancy=live.occupancy if live else 0,
                    capacity=live.capacity if live else r["capacity"],
                    next_hours=[
                        FeedHour(starts_at=h.starts_at, comfort_level=h.comfort_level, expected=h.expected)
                        for h in hours[:FEED_HOURS]
                    ],
                    peak_level_today=peak,
                    calm_from_today=calm,
                )
            )
        return CrowdFeed(
            generated_at=clock.now().astimezone(CITY_TZ),
            licence=LICENCE,
            levels=LEVELS,
            max_age_s=FEED_MAX_AGE_S,
            venues=venues,
        )


crowd_feed = CrowdFeedService()
