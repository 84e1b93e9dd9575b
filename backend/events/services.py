"""Events: recurrence expanded in Asia/Shanghai, the filtered list (a per-process snapshot of what is
public, invalidated through the shared store like the venue catalogue), iCalendar feeds, the
personal calendar token, articles, and loading content/events.toml and content/articles.toml."""

from __future__ import annotations

import bisect
import hashlib
import heapq
import itertools
import logging
import secrets
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
from dateutil.rrule import rrulestr
from icalendar import Calendar, vRecur
from icalendar import Event as VEvent
from litestar.stores.base import Store

from backend.events.schemas import (
    ArticleAdminOut,
    ArticleContent,
    ArticleIn,
    ArticleOut,
    ArticlePatch,
    CalendarTokenStatus,
    EventAdminOut,
    EventContent,
    EventIn,
    EventItem,
    EventOut,
    EventPatch,
    Occurrence,
)
from backend.events.tables import Article, CalendarToken, Event
from backend.lib.db import write_transaction
from backend.lib.geo import Point, distance_m
from backend.lib.i18n import Lang, pick
from backend.lib.pagination import Page
from backend.lib.problems import InvalidInput, NotFound
from backend.lib.publication import visible_now
from backend.lib.stores import STORE_UNAVAILABLE, shared_version
from backend.venues.schemas import LoadReport, Localised
from backend.venues.services import catalog

CITY_TZ = ZoneInfo("Asia/Shanghai")
log = logging.getLogger("changxiang.events")

VERSION_KEY = "events:version"
VERSION_CHECK_S = 1.0
DEFAULT_WINDOW = timedelta(days=90)  # `to` when only `from` (or nothing) is given
MAX_WINDOW = timedelta(days=400)
HORIZON = timedelta(days=800)  # occurrences are expanded this far past now (and capped in number)
MAX_OCCURRENCES = 1500
ANSWER_TTL_S = 1.0
PRODID = "-//Changxiang//Changzhou events 1.0//ZH"
UID_DOMAIN = "changxiang.app"


def utc_now() -> datetime:
    return datetime.now(UTC)


# ---------------------------------------------------------------- text and times


def normalise_text(text: str) -> str:
    """What `q` compares: NFKC (full-width → half-width), lower case, no white space. Chinese has no
    spaces between words, so a substring test on this is a word search for both scripts."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def search_text(*parts: str) -> str:
    return "\u0001".join(normalise_text(p) for p in parts if p)


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
    """Local start times of every occurrence up to `until` (wall-clock recurrence in Asia/Shanghai)."""
    first = local(starts_at)
    if not rrule:
        return [first]
    try:
        rule = rrulestr(rrule, dtstart=first, forceset=True, unfold=True)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("invalid_rrule", f"rrule: {exc}", field="rrule") from None
    for ex in exdates:
        rule.exdate(local(ex))
    out: list[datetime] = []
    for start in rule:
        if start > until or len(out) >= MAX_OCCURRENCES:
            break
        out.append(start)
    return out


def check_event_times(starts_at: datetime, ends_at: datetime, rrule: str | None, exdates: list[datetime]) -> None:
    if ends_at <= starts_at:
        raise InvalidInput("invalid_range", "ends_at must be after starts_at", field="ends_at")
    if ends_at - starts_at > timedelta(days=366):
        raise InvalidInput("invalid_range", "one occurrence may last at most a year", field="ends_at")
    if rrule is not None and rrule.strip().upper().startswith(("RRULE:", "DTSTART")):
        raise InvalidInput("invalid_rrule", "give the RRULE value only, e.g. FREQ=WEEKLY;BYDAY=SA", field="rrule")
    if rrule and not expand(starts_at, rrule, exdates, local(starts_at) + HORIZON):
        raise InvalidInput("invalid_rrule", "the rule and its exceptions leave no occurrence", field="rrule")


# ---------------------------------------------------------------- the snapshot of public events


@dataclass(slots=True)
class EventRecord:
    row: dict
    point: Point
    starts: list[datetime]  # local start of every occurrence (sorted)
    duration: timedelta
    haystack: str
    localised: dict = field(default_factory=dict)  # lang -> EventItem of the first occurrence

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


def _exdates(row: dict) -> list[datetime]:
    return [local(datetime.fromisoformat(x)) for x in row["exdates"] or []]


def _record(row: dict, now: datetime) -> EventRecord:
    starts = expand(row["starts_at"], row["rrule"] or None, _exdates(row), now + HORIZON)
    return EventRecord(
        row=row,
        point=Point(row["lat"], row["lng"]),
        starts=starts,
        duration=row["ends_at"] - row["starts_at"],
        haystack=row["search_text"] or "",
    )


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
        image=r["image"],
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
        self._answers: dict = {}
        self._answers_of: Snapshot | None = None
        self._generation = 0  # moves on every local change: a build begun before it is not kept

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
            generation = self._generation
            rows = await Event.select().where(Event.status.is_in(["published", "scheduled"])).order_by(Event.slug)
            now = utc_now()
            records = tuple(_record(row, now) for row in rows)
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
            image=r["image"],
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
            exdates=_exdates(r),
        )

    # ---- iCalendar

    async def ics(self, query: EventQuery, name: str, url_base: str) -> bytes:
        """The events with an occurrence in the range, one VEVENT per event (series keep RRULE/EXDATE)."""
        runs = sorted(await self.runs(query), key=lambda run: (run[1][0], run[0].row["slug"]))
        cal = new_calendar(name, query.lang)
        stamp = utc_now()
        for rec, _, _ in runs:
            cal.add_component(_vevent(rec, query.lang, stamp, url_base))
        cal.add_missing_timezones()
        return cal.to_ical()

    async def ics_one(self, slug: str, lang: Lang, url_base: str) -> bytes:
        """One event (the whole series) as a calendar file: what "add to calendar" opens."""
        rec = (await self.snapshot()).by_slug.get(slug)
        if rec is None or not rec.visible(utc_now()):
            raise NotFound("event_not_found", f"no event {slug!r}")
        cal = new_calendar(pick(rec.row["title_zh"], rec.row["title_en"], lang), lang)
        cal.add_component(_vevent(rec, lang, utc_now(), url_base))
        cal.add_missing_timezones()
        return cal.to_ical()


def new_calendar(name: str, lang: Lang) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("x-wr-timezone", "Asia/Shanghai")
    cal.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT6H")
    return cal


def _vevent(rec: EventRecord, lang: Lang, stamp: datetime, url_base: str) -> VEvent:
    r = rec.row
    ev = VEvent()
    ev.add("uid", f"event-{r['slug']}@{UID_DOMAIN}")
    ev.add("dtstamp", stamp)
    first = local(r["starts_at"])
    ev.add("dtstart", first)
    ev.add("dtend", first + rec.duration)
    ev.add("summary", pick(r["title_zh"], r["title_en"], lang))
    summary = pick(r["summary_zh"], r["summary_en"], lang)
    if summary:
        ev.add("description", summary)
    place = pick(r["place_zh"], r["place_en"], lang)
    address = pick(r["address_zh"], r["address_en"], lang)
    ev.add("location", ", ".join(x for x in (place, address) if x))
    ev.add("geo", (rec.point.lat, rec.point.lng))
    ev.add("categories", [r["category"]])
    ev.add("url", f"{url_base}/events/{r['slug']}")
    ev.add("status", "CONFIRMED")
    ev.add("sequence", r["sequence"] or 0)
    ev.add("last-modified", r["updated_at"].astimezone(UTC))
    if r["rrule"]:
        ev.add("rrule", vRecur.from_ical(r["rrule"]))
        exdates = _exdates(r)
        if exdates:
            ev.add("exdate", exdates)
    return ev


events = EventCatalog()


# ---------------------------------------------------------------- the holder's own calendar


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class PersonalCalendar:
    """`/me/calendar.ics?token=…`: the holder's reservations. The token is a 256-bit secret shown once;
    the database keeps its SHA-256 (enough for a random secret), so a leaked table opens nothing."""

    async def status(self, user_id: int) -> CalendarTokenStatus:
        row = await CalendarToken.select(CalendarToken.created_at).where(CalendarToken.user_id == user_id).first()
        return CalendarTokenStatus(active=row is not None, created_at=row["created_at"] if row else None)

    async def rotate(self, user_id: int, url_base: str) -> CalendarTokenStatus:
        token = secrets.token_urlsafe(32)
        now = utc_now()
        async with write_transaction():
            await CalendarToken.delete().where(CalendarToken.user_id == user_id)
            await CalendarToken.insert(CalendarToken(user_id=user_id, token_hash=_token_hash(token), created_at=now))
        return CalendarTokenStatus(
            active=True, created_at=now, token=token, url=f"{url_base}/api/v1/me/calendar.ics?token={token}"
        )

    async def revoke(self, user_id: int) -> None:
        await CalendarToken.delete().where(CalendarToken.user_id == user_id)

    async def feed(self, token: str, lang: Lang, url_base: str) -> bytes:
        from backend.reservations.tables import Reservation

        row = None
        if 20 <= len(token) <= 100:
            row = (
                await CalendarToken.select(CalendarToken.user_id)
                .where(CalendarToken.token_hash == _token_hash(token))
                .first()
            )
        if row is None:
            raise NotFound("calendar_not_found", "no calendar for this token (revoked or never made)")
        rows = await Reservation.select(
            Reservation.public_id,
            Reservation.venue_slug,
            Reservation.status,
            Reservation.party_size,
            Reservation.created_at,
            Reservation.cancelled_at,
            Reservation.slot.starts_at.as_alias("starts_at"),
            Reservation.slot.ends_at.as_alias("ends_at"),
        ).where(
            (Reservation.user_id == row["user_id"])
            & Reservation.status.is_in(["confirmed", "pending_payment", "cancelled"])
        )
        cal = new_calendar("常享 · 我的预约" if lang == "zh" else "Changxiang · my bookings", lang)
        stamp = utc_now()
        for r in rows:
            venue = await catalog.record(r["venue_slug"])
            name = pick(venue.row["name_zh"], venue.row["name_en"], lang) if venue else r["venue_slug"]
            ev = VEvent()
            ev.add("uid", f"reservation-{r['public_id']}@{UID_DOMAIN}")
            ev.add("dtstamp", stamp)
            ev.add("dtstart", local(r["starts_at"]))
            ev.add("dtend", local(r["ends_at"]))
            ev.add("summary", f"{name} ({r['party_size']})")
            if venue:
                ev.add("location", pick(venue.row["address_zh"], venue.row["address_en"], lang))
                ev.add("geo", (venue.row["lat"], venue.row["lng"]))
            ev.add("url", f"{url_base}/bookings/{r['public_id']}")
            cancelled = r["status"] == "cancelled"
            ev.add("status", "CANCELLED" if cancelled else "CONFIRMED" if r["status"] == "confirmed" else "TENTATIVE")
            ev.add("sequence", 1 if cancelled else 0)
            ev.add("last-modified", (r["cancelled_at"] or r["created_at"]).astimezone(UTC))
            cal.add_component(ev)
        cal.add_missing_timezones()
        return cal.to_ical()


personal_calendar = PersonalCalendar()


# ---------------------------------------------------------------- articles


def article_out(row: dict, lang: Lang) -> ArticleOut:
    return ArticleOut(
        slug=row["slug"],
        kind=row["kind"],
        title=pick(row["title_zh"], row["title_en"], lang),
        summary=pick(row["summary_zh"], row["summary_en"], lang),
        body=pick(row["body_zh"], row["body_en"], lang),
        image=row["image"],
        venue_slugs=list(row["venue_slugs"] or []),
        published_at=row["published_at"] or row["publish_at"],
    )


async def list_articles(lang: Lang, kind: str | None, limit: int, offset: int) -> Page[ArticleOut]:
    where = visible_now(Article, utc_now())
    if kind:
        where = where & (Article.kind == kind)
    rows = await Article.select().where(where).order_by(Article.published_at, ascending=False).order_by(Article.id)
    return Page(items=[article_out(r, lang) for r in rows[offset : offset + limit]], total=len(rows))


async def get_article(slug: str, lang: Lang) -> ArticleOut:
    row = await Article.select().where((Article.slug == slug) & visible_now(Article, utc_now())).first()
    if row is None:
        raise NotFound("article_not_found", f"no article {slug!r}")
    return article_out(row, lang)


# ---------------------------------------------------------------- columns from bodies (content, marketers)


async def _place_columns(data: EventIn | EventContent | EventPatch, current: dict | None) -> dict:
    """Place, address, district and location: from the venue when one is named, else as given."""
    venue_slug = data.venue_slug if data.venue_slug is not None else (current or {}).get("venue_slug")
    cols: dict = {}
    if venue_slug and (data.venue_slug is not None or current is None):
        venue = await catalog.record(venue_slug)
        if venue is None:
            raise InvalidInput("unknown_venue", f"no venue {venue_slug!r}", field="venue_slug")
        v = venue.row
        cols.update(
            venue_slug=venue_slug,
            place_zh=v["name_zh"],
            place_en=v["name_en"],
            address_zh=v["address_zh"],
            address_en=v["address_en"],
            district=v["district"],
            lat=v["lat"],
            lng=v["lng"],
        )
    if data.place is not None:
        cols.update(place_zh=data.place.zh, place_en=data.place.en)
    if data.address is not None:
        cols.update(address_zh=data.address.zh, address_en=data.address.en)
    if data.district is not None:
        cols["district"] = data.district
    if data.location is not None:
        cols.update(lat=data.location.lat, lng=data.location.lng)
    if current is None:
        missing = [k for k in ("district", "lat", "place_zh") if k not in cols]
        if missing:
            raise InvalidInput("place_required", "give venue_slug, or place, district and location", field="venue_slug")
    return cols


def _search_columns(cols: dict) -> str:
    return search_text(
        cols.get("title_zh", ""),
        cols.get("title_en", ""),
        cols.get("summary_zh", ""),
        cols.get("summary_en", ""),
        cols.get("place_zh", ""),
        cols.get("place_en", ""),
        cols.get("category", ""),
    )


async def event_columns(data: EventIn | EventContent) -> dict:
    starts_at, ends_at = local(data.starts_at), local(data.ends_at)
    exdates = [local(x) for x in data.exdates]
    check_event_times(starts_at, ends_at, data.rrule, exdates)
    cols = {
        "slug": data.slug,
        "category": data.category,
        "venue_slug": None,
        "title_zh": data.title.zh,
        "title_en": data.title.en,
        "summary_zh": data.summary.zh.strip(),
        "summary_en": data.summary.en.strip(),
        "description_zh": data.description.zh.strip(),
        "description_en": data.description.en.strip(),
        "address_zh": "",
        "address_en": "",
        "starts_at": starts_at.astimezone(UTC),
        "ends_at": ends_at.astimezone(UTC),
        "rrule": (data.rrule or "").strip().upper(),
        "exdates": [x.isoformat() for x in exdates],
        "price_fen": data.price_fen,
        "image": data.image,
        **await _place_columns(data, None),
    }
    cols["search_text"] = _search_columns(cols)
    return cols


async def event_patch_columns(data: EventPatch, current: dict) -> dict:
    cols: dict = {}
    for name in ("title", "summary", "description"):
        value = getattr(data, name)
        if value is not None:
            cols[f"{name}_zh"], cols[f"{name}_en"] = value.zh.strip(), value.en.strip()
    for name in ("category", "price_fen", "image"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    cols.update(await _place_columns(data, current))
    starts_at = local(data.starts_at) if data.starts_at is not None else local(current["starts_at"])
    ends_at = local(data.ends_at) if data.ends_at is not None else local(current["ends_at"])
    rrule = data.rrule.strip().upper() if data.rrule is not None else current["rrule"]
    exdates = [local(x) for x in data.exdates] if data.exdates is not None else _exdates(current)
    if any(getattr(data, k) is not None for k in ("starts_at", "ends_at", "rrule", "exdates")):
        check_event_times(starts_at, ends_at, rrule or None, exdates)
        cols.update(
            starts_at=starts_at.astimezone(UTC),
            ends_at=ends_at.astimezone(UTC),
            rrule=rrule or "",
            exdates=[x.isoformat() for x in exdates],
        )
    merged = {**current, **cols}
    cols["search_text"] = _search_columns(merged)
    cols["sequence"] = (current["sequence"] or 0) + 1
    return cols


def event_admin_out(row: dict) -> EventAdminOut:
    return EventAdminOut(
        id=row["id"],
        slug=row["slug"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        description=Localised(row["description_zh"], row["description_en"]),
        category=row["category"],
        venue_slug=row["venue_slug"],
        district=row["district"],
        place=Localised(row["place_zh"], row["place_en"]),
        address=Localised(row["address_zh"], row["address_en"]),
        location=Point(row["lat"], row["lng"]),
        starts_at=local(row["starts_at"]),
        ends_at=local(row["ends_at"]),
        rrule=row["rrule"] or None,
        exdates=list(row["exdates"] or []),
        price_fen=row["price_fen"],
        image=row["image"],
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )


async def article_columns(data: ArticleIn | ArticleContent) -> dict:
    return {
        "slug": data.slug,
        "kind": data.kind,
        "title_zh": data.title.zh,
        "title_en": data.title.en,
        "summary_zh": data.summary.zh.strip(),
        "summary_en": data.summary.en.strip(),
        "body_zh": data.body.zh.strip(),
        "body_en": data.body.en.strip(),
        "image": data.image,
        "venue_slugs": list(data.venue_slugs),
    }


async def article_patch_columns(data: ArticlePatch, current: dict) -> dict:
    cols: dict = {}
    for name in ("title", "summary", "body"):
        value = getattr(data, name)
        if value is not None:
            cols[f"{name}_zh"], cols[f"{name}_en"] = value.zh.strip(), value.en.strip()
    for name in ("kind", "image"):
        if getattr(data, name) is not None:
            cols[name] = getattr(data, name)
    if data.venue_slugs is not None:
        cols["venue_slugs"] = list(data.venue_slugs)
    return cols


def article_admin_out(row: dict) -> ArticleAdminOut:
    return ArticleAdminOut(
        id=row["id"],
        slug=row["slug"],
        kind=row["kind"],
        title=Localised(row["title_zh"], row["title_en"]),
        summary=Localised(row["summary_zh"], row["summary_en"]),
        body=Localised(row["body_zh"], row["body_en"]),
        image=row["image"],
        venue_slugs=list(row["venue_slugs"] or []),
        status=row["status"],
        publish_at=row["publish_at"],
        published_at=row["published_at"],
        created_by=row["created_by"],
        updated_at=row["updated_at"],
    )


# ---------------------------------------------------------------- content loading


def parse_event_content(raw: list[dict]) -> list[EventContent]:
    items, seen = [], set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, EventContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"event {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"event {label}: duplicate slug")
        seen.add(item.slug)
        items.append(item)
    return items


def parse_article_content(raw: list[dict]) -> list[ArticleContent]:
    items, seen = [], set()
    for index, entry in enumerate(raw):
        label = entry.get("slug", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            item = msgspec.convert(entry, ArticleContent)
        except msgspec.ValidationError as exc:
            raise ValueError(f"article {label}: {exc}") from None
        if item.slug in seen:
            raise ValueError(f"article {label}: duplicate slug")
        seen.add(item.slug)
        items.append(item)
    return items


async def _upsert(table, slug: str, columns: dict, existing: dict, extra_new: dict) -> str:
    digest = hashlib.sha256(msgspec.json.encode(columns, order="sorted")).hexdigest()
    current = existing.get(slug)
    if current is None:
        await table.insert(table(**columns, **extra_new, content_hash=digest))
        return "created"
    if current["content_hash"] != digest:
        values = {getattr(table, k): v for k, v in columns.items()}
        values[table.content_hash] = digest
        values[table.updated_at] = utc_now()
        if table is Event:
            values[Event.sequence] = (current.get("sequence") or 0) + 1
        await table.update(values).where(table.id == current["id"])
        return "updated"
    return "unchanged"


async def load_events(items: list[EventContent], store: Store | None = None) -> LoadReport:
    """Upsert by slug; content items are published as they load. A re-run changes nothing."""
    await catalog.snapshot()  # venues must be loaded first: places come from them
    existing = {r["slug"]: r for r in await Event.select(Event.id, Event.slug, Event.content_hash, Event.sequence)}
    now = utc_now()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        try:
            columns = await event_columns(item)
        except InvalidInput as exc:
            raise ValueError(f"event {item.slug}: {exc.detail}") from None
        counts[await _upsert(Event, item.slug, columns, existing, {"status": "published", "published_at": now})] += 1
    if store is not None and (counts["created"] or counts["updated"]):
        await store.set(VERSION_KEY, str(time.time_ns()).encode())
    return LoadReport(**counts)


async def load_articles(items: list[ArticleContent]) -> LoadReport:
    existing = {r["slug"]: r for r in await Article.select(Article.id, Article.slug, Article.content_hash)}
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for item in items:
        columns = await article_columns(item)
        extra = {"status": "published", "published_at": item.published_at or utc_now()}
        counts[await _upsert(Article, item.slug, columns, existing, extra)] += 1
    return LoadReport(**counts)
