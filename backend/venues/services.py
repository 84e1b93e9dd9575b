"""Venues: the catalogue the app reads (kept warm per process, invalidated through the shared store),
search and nearest-first listing, and loading the city's content files idempotently."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec
from litestar.stores.base import Store
from opening_hours import (  # type: ignore[attr-defined]  # the stub omits ParserError; the extension has it
    OpeningHours,
    ParserError,
)

from backend.lib.clock import clock
from backend.lib.content_urls import safe_or_none
from backend.lib.geo import Point, rank_nearest
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.signals import live_figures
from backend.lib.stores import shared_version
from backend.venues import ordering
from backend.venues.schemas import DISTRICT_NAMES, Live, LiveOverlay, LoadReport, VenueContent, VenueOut
from backend.venues.tables import Venue

log = logging.getLogger("changxiang.venues")

VERSION_KEY = "venues:version"
VERSION_CHECK_S = 1.0  # how stale another replica's edit may be seen
PAGE_MEMO_S = 1.0  # a list answer is reused this long for the same question


@dataclass(frozen=True, slots=True)
class VenueRecord:
    row: dict[str, Any]
    point: Point
    hours: OpeningHours
    haystack: str  # lower-cased text that `q` searches
    localised: dict[Lang, VenueOut]  # lang -> VenueOut without live data, filled on first use
    current: dict[Lang, tuple[datetime, VenueOut]]  # lang -> (minute, VenueOut with that minute's live data)


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: str
    records: tuple[VenueRecord, ...]
    by_slug: dict[str, VenueRecord]


def _record(row: dict[str, Any]) -> VenueRecord:
    haystack = " ".join(
        [row["slug"], row["name_zh"], row["name_en"], row["address_zh"], row["address_en"], " ".join(row["tags"] or [])]
    ).lower()
    return VenueRecord(
        row=row,
        point=Point(row["lat"], row["lng"]),
        hours=OpeningHours(row["opening_hours"]),
        haystack=haystack,
        localised={},
        current={},
    )


def city_now() -> datetime:
    return clock.city_now()


def _live(record: VenueRecord, now_local: datetime) -> Live:
    is_open = record.hours.is_open(now_local.replace(tzinfo=None))
    return Live(status="open" if is_open else "closed", occupancy=0, comfort_level="comfortable", alerts=[])


_NOT_LIVE = Live(status="closed", occupancy=0, comfort_level="comfortable", alerts=[])


def venue_out(record: VenueRecord, lang: Lang) -> VenueOut:
    """Everything about a venue that doesn't change from minute to minute, in one language."""
    r = record.row
    return VenueOut(
        slug=r["slug"],
        name=pick(r["name_zh"], r["name_en"], lang),
        category=r["category"],
        district=r["district"],
        district_name=DISTRICT_NAMES[r["district"]][lang],
        address=pick(r["address_zh"], r["address_en"], lang),
        location=record.point,
        opening_hours=r["opening_hours"],
        capacity=r["capacity"],
        daily_capacity=r["daily_capacity"],
        reservation_required=r["reservation_required"],
        price_fen=r["price_fen"],
        currency="CNY",
        description=pick(r["description_zh"], r["description_en"], lang),
        images=list(r["images"] or []),
        accessibility=pick(r["accessibility_zh"], r["accessibility_en"], lang),
        tags=list(r["tags"] or []),
        live=_NOT_LIVE,
        phone=r["phone"],
        website=safe_or_none(r["website"]),
    )


class VenueCatalog:
    """All venues of the city, read from the database and kept per process.

    A process re-reads when the shared version (in the `cache` store: Redis when configured) moves,
    checked at most once a second, and at the latest after `ttl_s`. The store is the only thing
    replicas share; this snapshot is a cache any replica can rebuild.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._store: Store | None = None
        self._snapshot: Snapshot | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._live: Callable[[Lang], Awaitable[dict[str, LiveOverlay]]] | None = None
        self._visitors: Callable[[], Awaitable[dict[str, int]]] | None = None
        self._pages: dict[tuple[object, ...], tuple[float, Page[VenueOut]]] = {}

    def configure_live(self, source: Callable[[Lang], Awaitable[dict[str, LiveOverlay]]] | None) -> None:
        """Bind where live occupancy, comfort levels, directives and warnings come from (governance)."""
        self._live = source

    def configure_popularity(self, source: Callable[[], Awaitable[dict[str, int]]] | None) -> None:
        """Bind where `sort=popular` reads each venue's recent visitors from (occupancy's gate counts)."""
        self._visitors = source

    async def _overlays(self, lang: Lang) -> dict[str, LiveOverlay]:
        if self._live is None:
            return {}
        try:
            return await self._live(lang)
        except Exception:  # noqa: BLE001 - a venue page still answers when live figures fail
            log.exception("live venue figures unavailable")
            return {}

    def configure(self, store: Store, ttl_s: float) -> None:
        """Bind the shared store whose version key says when to re-read (done once by create_app)."""
        self._store, self.ttl_s = store, ttl_s
        self._snapshot = None

    async def record(self, slug: str) -> VenueRecord | None:
        """One venue's row (all columns) from the snapshot, without a database round trip."""
        return (await self.snapshot()).by_slug.get(slug)

    async def snapshot(self) -> Snapshot:
        store = self._store
        if store is None:
            from litestar.stores.memory import MemoryStore

            store = self._store = MemoryStore()
        now = time.monotonic()
        snap = self._snapshot
        if snap is not None and now - self._checked_at < VERSION_CHECK_S and now - self._loaded_at < self.ttl_s:
            return snap
        version = await shared_version(store, VERSION_KEY, "venue catalogue")
        if version is None:  # Redis down: serve what we have, or the database's rows
            if snap is not None and now - self._loaded_at < self.ttl_s:
                self._checked_at = now
                return snap
            version = "unknown"
        self._checked_at = now
        if snap is None or snap.version != version or now - self._loaded_at >= self.ttl_s:
            rows = await Venue.select().order_by(Venue.sort_order).order_by(Venue.slug)
            records = tuple(_record(row) for row in rows)
            snap = Snapshot(version=version, records=records, by_slug={r.row["slug"]: r for r in records})
            self._snapshot, self._loaded_at = snap, now
        return snap

    def invalidate(self) -> None:
        self._snapshot = None
        self._pages.clear()

    def forget_pages(self) -> None:
        """Live figures changed in this process (a movement, a directive, a warning): answer afresh.
        Rooms that may not call the catalog move `lib.signals.live_figures` instead (pages key on it)."""
        live_figures.move()
        self._pages.clear()

    async def list(
        self,
        *,
        lang: Lang,
        category: str | None = None,
        district: str | None = None,
        q: str | None = None,
        near: Point | None = None,
        radius_m: float | None = None,
        limit: int = 20,
        offset: int = 0,
        sort: str | None = None,
    ) -> Page[VenueOut]:
        if radius_m is not None and near is None:
            raise InvalidInput("radius_without_near", "radius_m needs near=LAT,LNG", field="radius_m")
        if sort == "distance" and near is None:
            raise InvalidInput("sort_needs_near", "sort=distance needs near=LAT,LNG", field="sort")
        snap = await self.snapshot()
        # the same question within a second gets the same page: live figures move at most once a second
        # (GOV_OCCUPANCY_CACHE_S) and the opening status once a minute
        key = (lang, category, district, q, near, radius_m, limit, offset, sort, snap.version, live_figures.value)
        now = time.monotonic()
        hit = self._pages.get(key)
        if hit is not None and now - hit[0] < PAGE_MEMO_S:
            return hit[1]
        page = await self._list(snap, lang, category, district, q, near, radius_m, limit, offset, sort)
        if len(self._pages) >= 512:
            self._pages.clear()
        self._pages[key] = (now, page)
        return page

    async def _list(
        self,
        snap: Snapshot,
        lang: Lang,
        category: str | None,
        district: str | None,
        q: str | None,
        near: Point | None,
        radius_m: float | None,
        limit: int,
        offset: int,
        sort: str | None = None,
    ) -> Page[VenueOut]:
        needle = q.strip().lower() if q else ""
        matches = [
            rec
            for rec in snap.records
            if (not category or rec.row["category"] == category)
            and (not district or rec.row["district"] == district)
            and (not needle or needle in rec.haystack)
        ]
        now_local = city_now()
        page: Sequence[tuple[float | None, VenueRecord]]
        if sort in ("popular", "calm"):  # backend/venues/ordering.py
            visitors = await self._visitors() if sort == "popular" and self._visitors is not None else {}
            ordered = ordering.order(matches, sort, now_local, await self._overlays(lang), visitors, near, radius_m)
            page, total = ordered[offset : offset + limit], len(ordered)
        elif near is None:
            page = [(None, rec) for rec in matches[offset : offset + limit]]
            total = len(matches)
        else:
            ranked, total = rank_nearest(near, [(rec.point, rec) for rec in matches], radius_m, offset + limit)
            page = ranked[offset:]
        live = await self._overlays(lang)
        return Page(
            items=[_with_live(self._out(rec, lang, now_local, dist), live.get(rec.row["slug"])) for dist, rec in page],
            total=total,
        )

    def _out(self, rec: VenueRecord, lang: Lang, now_local: datetime, distance: float | None) -> VenueOut:
        """The venue in `lang` with this minute's live block (opening hours have minute resolution, so
        a venue's answer is built at most once a minute per language) and the caller's distance."""
        minute = now_local.replace(second=0, microsecond=0)
        cached = rec.current.get(lang)
        if cached is None or cached[0] != minute:
            static = rec.localised.get(lang)
            if static is None:
                static = rec.localised[lang] = venue_out(rec, lang)
            cached = rec.current[lang] = (minute, msgspec.structs.replace(static, live=_live(rec, minute)))
        out = cached[1]
        return out if distance is None else msgspec.structs.replace(out, distance_m=round(distance, 1))

    async def get(self, slug: str, lang: Lang) -> VenueOut:
        rec = await self.record(slug)
        if rec is None:
            raise NotFound("venue_not_found", f"no venue {slug!r}")
        live = await self._overlays(lang)
        return _with_live(self._out(rec, lang, city_now(), None), live.get(slug))


def _with_live(out: VenueOut, overlay: LiveOverlay | None) -> VenueOut:
    if overlay is None:
        return out
    status = out.live.status
    if overlay.directive_status is not None and status != "closed":
        status = overlay.directive_status
    live = Live(
        status=status,
        occupancy=overlay.occupancy,
        comfort_level=overlay.comfort_level,
        alerts=[a.headline for a in overlay.alerts],
        crowded=overlay.crowded,
    )
    return msgspec.structs.replace(out, live=live, alerts=overlay.alerts)


catalog = VenueCatalog()


# ---- content loading ----


def _content_columns(item: VenueContent, sort_order: int) -> dict[str, Any]:
    return {
        "slug": item.slug,
        "category": item.category,
        "district": item.district,
        "name_zh": item.name.zh,
        "name_en": item.name.en,
        "address_zh": item.address.zh,
        "address_en": item.address.en,
        "description_zh": item.description.zh.strip(),
        "description_en": item.description.en.strip(),
        "accessibility_zh": item.accessibility.zh,
        "accessibility_en": item.accessibility.en,
        "lat": item.location.lat,
        "lng": item.location.lng,
        "opening_hours": item.opening_hours,
        "capacity": item.capacity,
        "daily_capacity": item.daily_capacity,
        "reservation_required": item.reservation_required,
        "price_fen": item.price_fen,
        "phone": item.phone,
        "website": item.website,
        "tags": list(item.tags),
        "images": list(item.images),
        "sort_order": sort_order,
        "slot_minutes": item.booking.slot_minutes,
        "slot_interval_minutes": item.booking.slot_interval_minutes or item.booking.slot_minutes,
        "advance_days": item.booking.advance_days,
        "cancel_cutoff_minutes": item.booking.cancel_cutoff_minutes,
        "allow_reentry": item.booking.allow_reentry,
        "entry_early_minutes": item.booking.entry_early_minutes,
    }


def parse_venue_content(raw: list[dict[str, Any]]) -> list[VenueContent]:
    """Validate content records; a bad record fails the load, naming it (nothing is written)."""
    items: list[VenueContent] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, VenueContent)
            OpeningHours(item.opening_hours)
        except (msgspec.ValidationError, ParserError) as exc:
            raise ValueError(f"venue {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"venue {label}: duplicate slug")
        if item.daily_capacity < item.capacity:
            raise ValueError(f"venue {label}: daily_capacity is below capacity")
        seen.add(item.slug)
        items.append(item)
    return items


async def load_venues(items: list[VenueContent], store: Store | None = None) -> LoadReport:
    """Upsert by slug; a row whose content is unchanged is not written at all (a re-run changes nothing)."""
    existing = {r["slug"]: r for r in await Venue.select(Venue.id, Venue.slug, Venue.content_hash)}
    created = updated = unchanged = 0
    for order, item in enumerate(items):
        columns = _content_columns(item, order)
        digest = hashlib.sha256(msgspec.json.encode(columns, order="sorted")).hexdigest()
        current = existing.get(item.slug)
        if current is None:
            await Venue.insert(Venue(**columns, content_hash=digest))
            created += 1
        elif current["content_hash"] != digest:
            values = {getattr(Venue, k): v for k, v in columns.items()}
            values[Venue.content_hash] = digest
            values[Venue.updated_at] = clock.city_now()
            await Venue.update(values).where(Venue.id == current["id"])
            updated += 1
        else:
            unchanged += 1
    if store is not None and (created or updated):
        await store.set(VERSION_KEY, str(time.time_ns()).encode())
    return LoadReport(created=created, updated=updated, unchanged=unchanged)
