"""Events: the catalogue of public events and the questions asked of it. Recurrence is expanded in
Asia/Shanghai; the filtered list is answered from a per-process snapshot of what is public, invalidated
through the shared store like the venue catalogue.

The rest of the room: `times` (city time, recurrence, occurrence ids), `calendars` (iCalendar feeds and
the personal calendar token), `articles`, `editing` (what an event body becomes in the table) and
`content` (loading the content files)."""

from __future__ import annotations

import bisect
import heapq
import itertools
import logging
import time
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
import msgspec
from litestar.stores.base import Store

from backend.events.schemas import EventItem, EventOut, EventTicketing, Occurrence
from backend.events.tables import Event
from backend.events.times import HORIZON, exdates_of, expand, local, occurrence_id
from backend.lib import offload
from backend.lib.clock import CITY_TZ, clock
from backend.lib.content_urls import safe_or_none
from backend.lib.geo import Point, distance_m
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import DomainError, InvalidInput, NotFound
from backend.lib.stores import STORE_UNAVAILABLE, shared_version
from backend.media.pictures import event_cover
from backend.venues.services import catalog

log = logging.getLogger("changxiang.events")

VERSION_KEY = "events:version"
VERSION_CHECK_S = 1.0
DEFAULT_WINDOW = timedelta(days=90)  # `to` when only `from` (or nothing) is given
MAX_WINDOW = timedelta(days=400)
ANSWER_TTL_S = 1.0
BUILD_TIMEOUT_S = 20.0  # a catalogue build (bounded by lib/recurrence) that takes longer is a fault


def utc_now() -> datetime:
    return clock.now()


# ---------------------------------------------------------------- search text (times: see `times`)


def normalise_text(text: str) -> str:
    """What `q` compares: NFKC (full-width → half-width), lower case, no white space. Chinese has no
    spaces between words, so a substring test on this is a word search for both scripts."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def search_text(*parts: str) -> str:
    return "\u0001".join(normalise_text(p) for p in parts if p)


# ---------------------------------------------------------------- the snapshot of public events


@dataclass(slots=True)
class EventRecord:
    row: dict[str, Any]
    point: Point
    starts: list[datetime]  # local start of every occurrence (sorted)
    duration: timedelta
    haystack: str
    localised: dict[Lang, EventItem] = field(default_factory=dict)  # lang -> EventItem of the first occurrence

    def visible(self, now: datetime) -> bool:
        status = self.row["status"]
        return status == "published" or (
            status == "scheduled" and self.row["publish_at"] is not None and self.row["publish_at"] <= now
        )

    def overlapping(self, start: datetime, end: datetime) -> list[datetime]:
        lo = bisect.bisect_right(self.starts, start - self.duration)
        hi = bisect.bisect_left(self.starts, end)
        return self.starts[lo:hi]


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: str
    records: tuple[EventRecord, ...]
    by_slug: dict[str, EventRecord]


def _record(row: dict[str, Any], now: datetime) -> EventRecord | None:
    """The row expanded, or None (logged) when what is stored can't be: a rule written before the
    rules were checked, or by hand in the database, must not take the catalogue down for everyone."""
    try:
        starts = expand(row["starts_at"], row["rrule"] or None, exdates_of(row), now + HORIZON)
    except (DomainError, ValueError, TypeError, OverflowError) as exc:
        log.error("event %s left out of the catalogue: %s", row.get("slug"), getattr(exc, "detail", exc))
        return None
    if not starts:
        log.warning("event %s left out of the catalogue: its rule leaves no occurrence", row.get("slug"))
        return None
    return EventRecord(
        row=row,
        point=Point(row["lat"], row["lng"]),
        starts=starts,
        duration=row["ends_at"] - row["starts_at"],
        haystack=row["search_text"] or "",
    )


def _records(rows: list[dict[str, Any]], now: datetime) -> tuple[EventRecord, ...]:
    return tuple(rec for rec in (_record(row, now) for row in rows) if rec is not None)


def _item(rec: EventRecord, lang: Lang) -> EventItem:
    r = rec.row
    first = rec.starts[0] if rec.starts else local(r["starts_at"])
    return EventItem(
        slug=r["slug"],
        title=pick(r["title_zh"], r["title_en"], lang),
        category=r["category"],
        starts_at=first,
        ends_at=first + rec.duration,
        venue_slug=r["venue_slug"],
        location=rec.point,
        price_fen=r["price_fen"],
        summary=pick(r["summary_zh"], r["summary_en"], lang),
        image=event_cover(safe_or_none(r["image"]), r["category"]),
        occurrence_id=occurrence_id(r["slug"], first),
        place=pick(r["place_zh"], r["place_en"], lang),
        district=r["district"],
        recurring=bool(r["rrule"]),
    )


class EventQuery(msgspec.Struct, kw_only=True, frozen=True):
    lang: Lang = "zh"
    start: datetime | None = None
    end: datetime | None = None
    categories: frozenset[str] = frozenset()
    venues: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    free: bool | None = None
    q: str | None = None
    near: Point | None = None
    radius_m: float | None = None
    sort: str = "soonest"


class EventCatalog:
    """Every published or scheduled event, expanded, kept per process; re-read when the shared version
    key in the `cache` store moves (checked at most once a second) and at the latest after `ttl_s`.
    Visibility (`published`, or `scheduled` and due) is decided per request, so a scheduled event
    appears at its `publish_at` without any cache change."""

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._store: Store | None = None
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._answers: dict[tuple[EventQuery, int, int], tuple[float, Page[EventItem]]] = {}
        self._answers_of: Snapshot | None = None
        self._generation = 0  # moves on every local change: a build begun before it is not kept
        self._building: anyio.Lock | None = None  # one build at a time: concurrent requests share it
        self._ticketing: Callable[[str], Awaitable[EventTicketing | None]] | None = None

    def use_ticketing(self, ticketing: Callable[[str], Awaitable[EventTicketing | None]] | None) -> None:
        """Bind the tickets room's performances of an event (create_app), shown as `ticketing`."""
        self._ticketing = ticketing

    def configure(self, store: Store, ttl_s: float) -> None:
        self._store, self.ttl_s = store, ttl_s
        self._snapshot = None

    async def changed(self) -> None:
        """Tell every replica (through the shared store) that events changed."""
        self._snapshot = None
        self._generation += 1
        if self._store is not None:
            try:
                await self._store.set(VERSION_KEY, str(time.time_ns()).encode())
            except STORE_UNAVAILABLE:  # other replicas see the change at their snapshot's ttl instead
                log.warning("events cache version not bumped: Redis unavailable")

    async def snapshot(self) -> Snapshot:
        store = self._store
        if store is None:
            from litestar.stores.memory import MemoryStore

            store = self._store = MemoryStore()
        mono = time.monotonic()
        snap = self._snapshot
        if snap is not None and mono - self._checked_at < VERSION_CHECK_S and mono - self._loaded_at < self.ttl_s:
            return snap
        version = await shared_version(store, VERSION_KEY, "events catalogue")
        if version is None:  # Redis down: serve what we have, or the database's rows
            if snap is not None and mono - self._loaded_at < self.ttl_s:
                self._checked_at = mono
                return snap
            version = "unknown"
        self._checked_at = mono
        if snap is None or snap.version != version or mono - self._loaded_at >= self.ttl_s:
            if self._building is None:
                self._building = anyio.Lock()
            async with self._building:
                built = self._snapshot
                if built is not None and built.version == version and built is not snap:
                    return built  # another request built it while this one waited
                snap = await self._build(version, mono)
        return snap

    async def _build(self, version: str, mono: float) -> Snapshot:
        """Read the public rows and expand them in a worker thread (the expansion is CPU work)."""
        generation = self._generation
        rows = await Event.select().where(Event.status.is_in(["published", "scheduled"])).order_by(Event.slug)
        now = utc_now()
        with anyio.fail_after(BUILD_TIMEOUT_S):
            records = await offload.cpu(_records, rows, now)
        snap = Snapshot(version=version, records=records, by_slug={r.row["slug"]: r for r in records})
        if generation == self._generation:
            self._snapshot, self._loaded_at = snap, mono
        return snap

    def window(self, query: EventQuery, now: datetime) -> tuple[datetime, datetime]:
        start = query.start or now.astimezone(CITY_TZ)
        end = query.end or start + DEFAULT_WINDOW
        if end <= start:
            raise InvalidInput("invalid_range", "to must be after from", field="to")
        if end - start > MAX_WINDOW:
            raise InvalidInput("range_too_long", "from … to may span at most 400 days", field="to")
        return start, end

    async def runs(self, query: EventQuery) -> list[tuple[EventRecord, list[datetime], float | None]]:
        """(event, its occurrence starts overlapping the range, distance) for every matching public event."""
        if query.radius_m is not None and query.near is None:
            raise InvalidInput("radius_without_near", "radius_m needs near=LAT,LNG", field="radius_m")
        if query.sort == "nearest" and query.near is None:
            raise InvalidInput("sort_needs_near", "sort=nearest needs near=LAT,LNG", field="sort")
        now = utc_now()
        start, end = self.window(query, now)
        needles = [normalise_text(w) for w in (query.q or "").split()]
        needles = [n for n in needles if n]
        found: list[tuple[EventRecord, list[datetime], float | None]] = []
        for rec in (await self.snapshot()).records:
            r = rec.row
            if (
                not rec.visible(now)
                or (query.categories and r["category"] not in query.categories)
                or (query.venues and r["venue_slug"] not in query.venues)
                or (query.districts and r["district"] not in query.districts)
                or (query.free is True and r["price_fen"] != 0)
                or (query.free is False and r["price_fen"] == 0)
                or (needles and any(n not in rec.haystack for n in needles))
            ):
                continue
            distance = None
            if query.near is not None:
                distance = distance_m(query.near, rec.point)
                if query.radius_m is not None and distance > query.radius_m:
                    continue
            starts = rec.overlapping(start, end)
            if starts:
                found.append((rec, starts, distance))
        return found

    async def list(self, query: EventQuery, limit: int = 20, offset: int = 0) -> Page[EventItem]:
        """A page of occurrences. The same question asked again within a second (of the same snapshot)
        gets the same answer from a small per-process cache: the answer depends on the clock only
        through "now", and a second is below what anyone can notice in a list of events."""
        snap = await self.snapshot()
        key = (query, limit, offset)
        mono = time.monotonic()
        if self._answers_of is not snap or len(self._answers) > 512:
            self._answers, self._answers_of = {}, snap
        hit = self._answers.get(key)
        if hit is not None and mono - hit[0] < ANSWER_TTL_S:
            return hit[1]
        page = await self._list(query, limit, offset)
        self._answers[key] = (mono, page)
        return page

    async def _list(self, query: EventQuery, limit: int, offset: int) -> Page[EventItem]:
        runs = await self.runs(query)
        total = sum(len(starts) for _, starts, _ in runs)
        if query.sort == "nearest":
            flat = sorted(
                ((d, s, rec.row["slug"], rec) for rec, starts, d in runs for s in starts),
                key=lambda f: (f[0], f[1], f[2]),
            )
            page = [(rec, s, d) for d, s, _, rec in flat[offset : offset + limit]]
        else:
            # each run is already in time order: merge them lazily and stop after the page
            merged = heapq.merge(
                *(
                    zip(starts, itertools.repeat(rec.row["slug"]), itertools.repeat(i))
                    for i, (rec, starts, _) in enumerate(runs)
                )
            )
            page = [(runs[i][0], s, runs[i][2]) for s, _, i in itertools.islice(merged, offset, offset + limit)]
        items = []
        for rec, occ, distance in page:
            base = rec.localised.get(query.lang)
            if base is None:
                base = rec.localised[query.lang] = _item(rec, query.lang)
            item = base
            if occ != base.starts_at:
                item = msgspec.structs.replace(
                    base, starts_at=occ, ends_at=occ + rec.duration, occurrence_id=occurrence_id(rec.row["slug"], occ)
                )
            if distance is not None:
                item = msgspec.structs.replace(item, distance_m=round(distance, 1))
            items.append(item)
        return Page(items=items, total=total)

    async def get(self, slug: str, lang: Lang, occurrence: str | None = None) -> EventOut:
        rec = (await self.snapshot()).by_slug.get(slug)
        now = utc_now()
        if rec is None or not rec.visible(now):
            raise NotFound("event_not_found", f"no event {slug!r}")
        r = rec.row
        upcoming = [s for s in rec.starts if s + rec.duration > now]
        if occurrence is not None:
            chosen = next((s for s in rec.starts if occurrence_id(slug, s) == occurrence), None)
            if chosen is None:
                raise NotFound("occurrence_not_found", f"{occurrence!r} is not an occurrence of {slug!r}")
        else:
            chosen = upcoming[0] if upcoming else rec.starts[-1]
        venue = await catalog.record(r["venue_slug"]) if r["venue_slug"] else None
        return EventOut(
            slug=slug,
            title=pick(r["title_zh"], r["title_en"], lang),
            category=r["category"],
            starts_at=chosen,
            ends_at=chosen + rec.duration,
            venue_slug=r["venue_slug"],
            location=rec.point,
            price_fen=r["price_fen"],
            summary=pick(r["summary_zh"], r["summary_en"], lang),
            image=event_cover(safe_or_none(r["image"]), r["category"]),
            occurrence_id=occurrence_id(slug, chosen),
            description=pick(r["description_zh"], r["description_en"], lang),
            place=pick(r["place_zh"], r["place_en"], lang),
            address=pick(r["address_zh"], r["address_en"], lang),
            district=r["district"],
            occurrences=[
                Occurrence(occurrence_id=occurrence_id(slug, s), starts_at=s, ends_at=s + rec.duration)
                for s in upcoming[:30]
            ],
            bookable=bool(venue and venue.row["reservation_required"]),
            event_status="scheduled",
            updated_at=r["updated_at"],
            rrule=r["rrule"] or None,
            exdates=exdates_of(r),
            ticketing=await self._ticketing(slug) if self._ticketing is not None else None,
        )


events = EventCatalog()
