"""Crowd forecasts: people expected inside each venue per hour for the next 7 days, with a low-high band
and the LB/T 034 comfort level; the calmest times of a day; venues ordered by expected calm.

The model (`backend.forecast.model`, chosen by the backtest of `make bench`: docs/forecast.md) learns from
a venue's history (`backend.forecast.history`: real counts where there are any, the simulated history
elsewhere). Its output for a venue and a city day is computed once, off the event loop
(`lib.offload.cpu`), and kept in the shared cache store under a version key (`forecast:version`, moved by
`changxiang simulate-history`). What changes during the day is laid over it on every answer: the seats
already booked for the hour's slots (a floor on the expected figure) and the capacity a platform
directive sets.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import anyio
import msgspec
from litestar.stores.base import Store

from backend.forecast import model
from backend.forecast.history import History, facts, hour_start, venue_history, write_simulated
from backend.forecast.opening import open_hours
from backend.forecast.schemas import BestTime, BestTimesOut, ForecastHour, ForecastOut, HourPrediction, VenuePrediction
from backend.forecast.simulation import VenueFacts
from backend.lib import offload
from backend.lib.clock import CITY_TZ, clock
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.stores import STORE_UNAVAILABLE, shared_version
from backend.occupancy.services import RANK, comfort_level
from backend.occupancy.tables import Directive
from backend.reservations.tables import Slot
from backend.venues.schemas import ComfortLevel
from backend.venues.services import VenueRecord, catalog
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.forecast")

VERSION_KEY = "forecast:version"
HISTORY_DAYS = 400
MAX_DAYS = 7
CACHE_TTL_S = 6 * 3600
BEST_TIMES = 3
CALM_LEVELS = ("comfortable", "fairly_comfortable")
PARALLEL_FITS = 4  # venues fitted at once when many are asked for (the calm ordering)


@dataclass(frozen=True, slots=True)
class CalmScore:
    """How calm a venue is expected to be at an hour: expected people over capacity (lower is calmer)."""

    venue_slug: str
    ratio: float  # math.inf when the venue is not open that day from then on
    comfort_level: ComfortLevel | None
    starts_at: datetime | None  # the hour scored (the next open one when closed at the hour asked)


def _compute(history: History, as_of: date, targets: list[tuple[date, tuple[int, ...]]]) -> list[HourPrediction]:
    """The chosen model fitted before `as_of` and its forecast of `targets` (CPU-bound: a worker thread)."""
    prepared = model.Prepared.of(history)
    fitted = model.fit(prepared, as_of)
    out = []
    for day, hours in targets:
        for h in hours:
            expected, low, high = model.predict(fitted, day, h)
            out.append(HourPrediction(day=day, hour=h, expected=expected, low=low, high=high))
    return out


def _directive_capacity(capacity: int, directives: list[dict[str, Any]], at: datetime) -> int:
    """The capacity in force at `at`: the latest directive covering it wins, a reopen ends the others."""
    current: dict[str, Any] | None = None
    for d in directives:
        if d["valid_from"] <= at < d["valid_until"]:
            current = None if d["type"] == "reopen" else d
    if current is None:
        return capacity
    if current["type"] == "close":
        return 0
    return max(0, math.floor(capacity * (current["limit_ratio"] or 0.0)))


def forecast_day(day: date) -> date:
    """`day` if the forecasts cover it (today … today + MAX_DAYS - 1), else 400 `date_out_of_range`."""
    today = clock.city_today()
    if not today <= day < today + timedelta(days=MAX_DAYS):
        raise InvalidInput(
            "date_out_of_range", f"forecasts cover {today} to {today + timedelta(days=MAX_DAYS - 1)}", field="date"
        )
    return day


def level_of(expected: float, capacity: int) -> ComfortLevel:
    return comfort_level(expected / capacity) if capacity > 0 else "full"


def calm_from(hours: Sequence[ForecastHour]) -> tuple[ComfortLevel | None, str | None]:
    """(the day's busiest level, the hour from which every later one is at most fairly comfortable and
    calmer than that peak): the "预计 15:00 后较舒适" of the venue page. No hour when the whole day is
    comfortable, or when it never calms down."""
    if not hours:
        return None, None
    peak_at = max(range(len(hours)), key=lambda i: (RANK[hours[i].comfort_level], hours[i].expected))
    peak = hours[peak_at].comfort_level
    if peak == "comfortable":
        return peak, None
    for i in range(peak_at + 1, len(hours)):
        rest = hours[i:]
        if all(h.comfort_level in CALM_LEVELS and RANK[h.comfort_level] < RANK[peak] for h in rest):
            return peak, hours[i].starts_at.strftime("%H:%M")
    return peak, None


class ForecastService:
    def __init__(self) -> None:
        self._store: Store | None = None
        self._locks: dict[tuple[str, date], anyio.Lock] = {}

    def configure(self, store: Store) -> None:
        """Bind the shared cache store (create_app)."""
        self._store = store

    def store(self) -> Store:
        if self._store is None:
            from litestar.stores.memory import MemoryStore

            self._store = MemoryStore()
        return self._store

    async def _record(self, slug: str) -> VenueRecord:
        record = await catalog.record(slug)
        if record is None:
            raise NotFound("venue_not_found", f"no venue {slug!r}")
        return record

    # ---------------------------------------------------------------- the model's output, cached

    async def predictions(self, record: VenueRecord, today: date) -> VenuePrediction:
        """The model's forecast of every open hour from `today` for MAX_DAYS days, learnt from the
        history before `today`: from the cache store, or computed (once per process at a time)."""
        slug = record.row["slug"]
        store = self.store()
        version = await shared_version(store, VERSION_KEY, "forecast")
        key = f"forecast:{version}:{slug}:{today.isoformat()}"
        cached = await self._cached(key) if version is not None else None
        if cached is not None:
            return cached
        lock = self._locks.setdefault((slug, today), anyio.Lock())
        async with lock:
            cached = await self._cached(key) if version is not None else None
            if cached is not None:
                return cached
            venue = facts(record)
            history = await venue_history(venue, today - timedelta(days=HISTORY_DAYS), today - timedelta(days=1))
            targets = [
                (day, open_hours(venue.hours, day)) for day in (today + timedelta(days=i) for i in range(MAX_DAYS))
            ]
            hours = await offload.cpu(_compute, history, today, targets)
            out = VenuePrediction(slug=slug, as_of=today, model=model.CHOSEN, hours=hours)
            if version is not None:
                try:
                    await store.set(key, msgspec.msgpack.encode(out), expires_in=CACHE_TTL_S)
                except STORE_UNAVAILABLE:
                    log.warning("forecast not cached: Redis unavailable")
        if len(self._locks) > 4096:
            self._locks.clear()
        return out

    async def _cached(self, key: str) -> VenuePrediction | None:
        try:
            raw = await self.store().get(key)
        except STORE_UNAVAILABLE:
            return None
        return msgspec.msgpack.decode(raw, type=VenuePrediction) if raw else None

    def forget(self) -> None:
        """A new history in this process: forget the cached forecasts (other replicas see the version)."""
        self._locks.clear()

    async def bump_version(self) -> None:
        store = self.store()
        try:
            current = int((await store.get(VERSION_KEY) or b"0").decode())
            await store.set(VERSION_KEY, str(current + 1).encode())
        except STORE_UNAVAILABLE:
            log.warning("forecast version not moved: Redis unavailable")

    # ---------------------------------------------------------------- hours, with today's figures laid over

    async def hours(self, record: VenueRecord, first: date, last: date) -> list[ForecastHour]:
        """The forecast hours of `first`..`last` still to come, with the seats booked for them as a floor
        and the capacity directives set."""
        now = clock.now()
        today = now.astimezone(CITY_TZ).date()
        prediction = await self.predictions(record, today)
        current_hour = now.replace(minute=0, second=0, microsecond=0)
        wanted = [(hour_start(p.day, p.hour), p) for p in prediction.hours if first <= p.day <= last]
        wanted = [(at, p) for at, p in wanted if at >= current_hour]
        if not wanted:
            return []
        slug = record.row["slug"]
        begin, end = wanted[0][0], wanted[-1][0] + timedelta(hours=1)
        booked = await self._booked(slug, begin, end)
        directives = await self._directives(slug, now)
        capacity = record.row["capacity"]
        out = []
        for at, p in wanted:
            cap = _directive_capacity(capacity, directives, at)
            if cap == 0 and capacity > 0:
                continue  # closed by a directive then: no crowd to forecast
            floor = booked.get(at, 0)
            expected = min(cap, max(p.expected, floor))
            low = min(expected, max(p.low, floor))
            high = min(cap, max(p.high, expected))
            out.append(
                ForecastHour(
                    starts_at=at.astimezone(CITY_TZ),
                    expected=round(expected),
                    low=math.floor(low),
                    high=math.ceil(high),
                    capacity=cap,
                    comfort_level=level_of(expected, cap),
                    booked=floor,
                )
            )
        return out

    async def _booked(self, slug: str, begin: datetime, end: datetime) -> dict[datetime, int]:
        """Seats held per hour start (UTC) by the venue's slots overlapping [begin, end)."""
        rows = await Slot.select(Slot.starts_at, Slot.ends_at, Slot.booked).where(
            (Slot.venue_slug == slug) & (Slot.starts_at < end) & (Slot.ends_at > begin) & (Slot.booked > 0)
        )
        out: dict[datetime, int] = {}
        for r in rows:
            at = r["starts_at"].astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            while at < r["ends_at"]:
                out[at] = out.get(at, 0) + r["booked"]
                at += timedelta(hours=1)
        return out

    async def _directives(self, slug: str, now: datetime) -> list[dict[str, Any]]:
        rows = (
            await Directive.select(
                Directive.type,
                Directive.limit_ratio,
                Directive.venue_slugs,
                Directive.valid_from,
                Directive.valid_until,
            )
            .where(Directive.valid_until > now)
            .order_by(Directive.id)
        )
        return [r for r in rows if slug in (r["venue_slugs"] or [])]

    # ---------------------------------------------------------------- the API's answers

    async def forecast(self, slug: str, days: int = MAX_DAYS) -> ForecastOut:
        record = await self._record(slug)
        days = max(1, min(MAX_DAYS, days))
        today = clock.city_today()
        hours = await self.hours(record, today, today + timedelta(days=days - 1))
        return ForecastOut(
            venue_slug=slug, generated_at=clock.now().astimezone(CITY_TZ), model=model.CHOSEN, hours=hours
        )

    async def best_times(self, slug: str, day: date | None = None) -> BestTimesOut:
        """The calmest times of `day` (today by default): its slots when the venue books by slot, else its
        hours; with the day's peak level and the hour it calms down from."""
        from backend.reservations.services import reservations

        record = await self._record(slug)
        today = clock.city_today()
        day = forecast_day(day or today)
        hours = await self.hours(record, day, day)
        items: list[BestTime] = []
        row = record.row
        if row["reservation_required"] and day <= today + timedelta(days=row["advance_days"]):
            by_hour = {h.starts_at: h for h in hours}
            for slot in (await reservations.list_slots(slug, day)).items:
                if slot.status != "open":
                    continue
                covering = [
                    h for at, h in by_hour.items() if at < slot.ends_at and at + timedelta(hours=1) > slot.starts_at
                ]
                if not covering:
                    continue
                worst = max(covering, key=lambda h: h.expected / h.capacity if h.capacity else math.inf)
                items.append(
                    BestTime(
                        starts_at=slot.starts_at,
                        ends_at=slot.ends_at,
                        expected=worst.expected,
                        capacity=worst.capacity,
                        comfort_level=worst.comfort_level,
                        slot_id=slot.id,
                        remaining=slot.remaining,
                    )
                )
        else:
            items = [
                BestTime(
                    starts_at=h.starts_at,
                    ends_at=h.starts_at + timedelta(hours=1),
                    expected=h.expected,
                    capacity=h.capacity,
                    comfort_level=h.comfort_level,
                )
                for h in hours
            ]
        items.sort(key=lambda b: (b.expected / b.capacity if b.capacity else math.inf, b.starts_at))
        peak, calm = calm_from(hours)
        return BestTimesOut(
            venue_slug=slug,
            date=day,
            model=model.CHOSEN,
            items=items[:BEST_TIMES],
            peak_level=peak,
            calm_from=calm,
        )

    async def calm_scores(self, slugs: Sequence[str] | None = None, at: datetime | None = None) -> list[CalmScore]:
        """Venues by expected calm at `at` (now by default), calmest first: expected people over capacity at
        that hour, or at the venue's next open hour of that day; venues shut for the rest of the day last.
        For `GET /venues?sort=calm` (the search room): unknown slugs are left out."""
        snap = await catalog.snapshot()
        records = [r for r in snap.records if slugs is None or r.row["slug"] in set(slugs)]
        moment = (at or clock.now()).astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        day = moment.astimezone(CITY_TZ).date()
        scores: list[CalmScore] = []
        for record, hours in await self.day_hours(records, day):
            slug = record.row["slug"]
            upcoming = [h for h in hours if h.starts_at >= moment]
            if not upcoming or not upcoming[0].capacity:
                scores.append(CalmScore(slug, math.inf, None, None))
                continue
            h = upcoming[0]
            scores.append(CalmScore(slug, h.expected / h.capacity, h.comfort_level, h.starts_at))
        return sorted(scores, key=lambda s: (s.ratio, s.venue_slug))

    async def day_hours(
        self, records: Sequence[VenueRecord], day: date
    ) -> list[tuple[VenueRecord, list[ForecastHour]]]:
        """Each venue's forecast hours of `day` still to come (`hours`), PARALLEL_FITS venues fitted at once;
        in the order of `records`."""
        found: dict[int, list[ForecastHour]] = {}
        limiter = anyio.CapacityLimiter(PARALLEL_FITS)

        async def one(i: int, record: VenueRecord) -> None:
            async with limiter:
                found[i] = await self.hours(record, day, day)

        async with anyio.create_task_group() as tg:
            for i, record in enumerate(records):
                tg.start_soon(one, i, record)
        return [(record, found[i]) for i, record in enumerate(records)]

    # ---------------------------------------------------------------- the simulated history

    async def simulate_history(self, days: int, seed: int, slugs: Sequence[str] = ()) -> tuple[int, int]:
        """Write `days` days of simulated history (up to yesterday) for every venue, or those named.
        (venues, rows) written; the cached forecasts are forgotten everywhere (the version moves)."""
        query = Venue.select(Venue.slug, Venue.category, Venue.capacity, Venue.opening_hours)
        if slugs:
            query = query.where(Venue.slug.is_in(list(slugs)))
        rows = await query
        if slugs and len(rows) != len(set(slugs)):
            missing = sorted(set(slugs) - {r["slug"] for r in rows})
            raise NotFound("venue_not_found", f"no venue {', '.join(missing)}")
        from opening_hours import OpeningHours

        venues = [VenueFacts(r["slug"], r["category"], r["capacity"], OpeningHours(r["opening_hours"])) for r in rows]
        last = clock.city_today() - timedelta(days=1)
        written = await write_simulated(venues, last - timedelta(days=days - 1), last, seed)
        self.forget()
        await self.bump_version()
        return len(venues), written


forecasts = ForecastService()
