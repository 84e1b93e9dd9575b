"""What a day could hold: the venues, events and tours of the city as search candidates for one day,
each with the windows it can be visited in (OSM opening hours, real event times), its free slots where
booking is required, its expected comfort and its value to this party (docs/plans.md, "Candidates").
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from opening_hours import OpeningHours, State

from backend.events.services import events
from backend.lib.clock import CITY_TZ
from backend.lib.geo import Point
from backend.lib.i18n import Lang, pick
from backend.lib.problems import DomainError
from backend.plans.access import is_step_free
from backend.plans.comfort import ComfortOutlook, slot_comfort
from backend.plans.search import Candidate, SlotOption
from backend.reservations.services import reservations
from backend.tours.services import tours
from backend.venues.services import catalog

log = logging.getLogger("changxiang.plans")

DAY_MIN = 24 * 60
DWELL_MIN: dict[str, int] = {
    "museum": 90,
    "library": 45,
    "art_gallery": 60,
    "cultural_center": 45,
    "scenic_area": 120,
    "heritage_site": 60,
    "park": 60,
    "resort": 120,
    "memorial_hall": 60,
    "intangible_heritage": 45,
}
THEME_PARK_MIN = 180
LONG_EVENT_MIN = 240  # an event longer than this is visited for a while, not attended whole
LONG_EVENT_DWELL = {"exhibition": 75}
LONG_EVENT_DWELL_DEFAULT = 90
SKIP_VENUE_CATEGORIES = frozenset({"theatre"})  # a theatre is planned through its performances
BASE_VALUE = {"venue": 1.0, "tour": 1.3, "event": 1.6}
INTEREST_BONUS = 2.0
FAMILY_BONUS = 1.0
STRENUOUS_FOR_SENIORS = frozenset({"theme-park", "hiking", "mountain"})


@dataclass(frozen=True, slots=True)
class Profile:
    """Who is going and what they want."""

    day: date
    party_size: int
    children: int
    seniors: int
    interests: frozenset[str]
    step_free: bool


Titles = tuple[str, str]  # (zh, en): a plan is written in both languages


def titles(zh: str | None, en: str | None) -> Titles:
    return pick(zh, en, "zh"), pick(zh, en, "en")


@dataclass(frozen=True, slots=True)
class Info:
    """What the answer says of a candidate (the search needs none of it)."""

    titles: Titles
    venue_slug: str | None
    price_fen: int
    booking_required: bool
    interest: str | None  # the interest it matches
    family: bool
    step_free: bool
    # an event's real times by the minute the plan gives it: the plan works in whole minutes that cover them
    exact: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)

    def title(self, lang: Lang) -> str:
        return self.titles[0] if lang == "zh" else self.titles[1]


@dataclass
class Pool:
    candidates: list[Candidate] = field(default_factory=list)
    info: list[Info] = field(default_factory=list)
    not_step_free: int = 0
    booking_not_open: list[Titles] = field(default_factory=list)
    fully_booked: list[Titles] = field(default_factory=list)
    closed_today: list[Titles] = field(default_factory=list)

    def add(self, candidate: Candidate, info: Info) -> None:
        self.candidates.append(candidate)
        self.info.append(info)


def _minute(at: datetime, day: date) -> int:
    local = at.astimezone(CITY_TZ)
    return (local.date() - day).days * DAY_MIN + local.hour * 60 + local.minute


def open_windows(opening_hours: str, day: date) -> tuple[tuple[int, int], ...]:
    """The OPEN intervals of `day` (OSM opening_hours), in minutes from local midnight, merged."""
    start = datetime(day.year, day.month, day.day)
    out: list[tuple[int, int]] = []
    for a, b, state, _ in OpeningHours(opening_hours).intervals(start, start + timedelta(days=1)):
        if state != State.OPEN:
            continue
        lo = max(0, int((a - start).total_seconds() // 60))
        hi = min(DAY_MIN, int((b - start).total_seconds() // 60))
        if out and out[-1][1] >= lo:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        elif hi > lo:
            out.append((lo, hi))
    return tuple(out)


def _clip(windows: tuple[tuple[int, int], ...], lo: int, hi: int) -> tuple[tuple[int, int], ...]:
    return tuple((max(a, lo), min(b, hi)) for a, b in windows if min(b, hi) > max(a, lo))


def _value(kind: str, category: str, tags: list[str], profile: Profile, price_fen: int, order: float) -> float:
    v = BASE_VALUE[kind] + 0.3 * order
    if category in profile.interests:
        v += INTEREST_BONUS
    if profile.children and ("family" in tags or category == "family"):
        v += FAMILY_BONUS
    if profile.seniors and STRENUOUS_FOR_SENIORS.intersection(tags):
        v -= 0.8
    if price_fen:
        v -= 0.2
    return v


class CandidateBuilder:
    def __init__(self, profile: Profile, outlook: ComfortOutlook, now: datetime) -> None:
        self.profile = profile
        self.outlook = outlook
        self.now = now
        self.pool = Pool()
        self._slots: dict[str, tuple[SlotOption, ...] | None] = {}
        self._venues: dict[str, dict[str, Any]] = {}
        self._windows: dict[str, tuple[tuple[int, int], ...]] = {}

    async def build(self) -> Pool:
        snap = await catalog.snapshot()
        n = max(1, len(snap.records))
        for rec in snap.records:
            row = rec.row
            self._venues[row["slug"]] = row
            self._windows[row["slug"]] = (
                () if row["slug"] in self.outlook.closed else open_windows(row["opening_hours"], self.profile.day)
            )
        for i, rec in enumerate(snap.records):
            await self._venue(rec.row, 1 - i / n)
        await self._events()
        await self._tours()
        return self.pool

    # ---- shared rules

    def _accessible(self, venue_slug: str | None) -> bool:
        row = self._venues.get(venue_slug or "")
        return row is not None and is_step_free(row["accessibility_en"], row["accessibility_zh"])

    def _info(
        self, title: Titles, venue_slug: str | None, price_fen: int, booking: bool, category: str, tags: list[str]
    ) -> Info:
        p = self.profile
        return Info(
            titles=title,
            venue_slug=venue_slug,
            price_fen=price_fen,
            booking_required=booking,
            interest=category if category in p.interests else None,
            family=bool(p.children) and ("family" in tags or category == "family"),
            step_free=p.step_free,
        )

    async def _slots_of(self, row: dict[str, Any]) -> tuple[SlotOption, ...] | None:
        """The slots of the day with places for the whole party (None: booking not open that day)."""
        slug = row["slug"]
        if slug not in self._slots:
            try:
                listed = await reservations.list_slots(slug, self.profile.day)
            except DomainError:  # outside the venue's booking window
                self._slots[slug] = None
            else:
                self._slots[slug] = tuple(
                    SlotOption(
                        slot_id=s.id,
                        start=_minute(s.starts_at, self.profile.day),
                        end=_minute(s.ends_at, self.profile.day),
                        comfort=slot_comfort(s.capacity - s.remaining, s.capacity),
                    )
                    for s in listed.items
                    if s.status == "open" and s.remaining >= self.profile.party_size and s.ends_at > self.now
                )
        return self._slots[slug]

    async def _booking(self, row: dict[str, Any], title: Titles) -> tuple[bool, tuple[SlotOption, ...] | None]:
        """(usable, slots): a place that needs booking is usable only with a free slot that day."""
        if not row["reservation_required"]:
            return True, None
        slots = await self._slots_of(row)
        if slots is None:
            self.pool.booking_not_open.append(title)
            return False, None
        if not slots:
            self.pool.fully_booked.append(title)
            return False, None
        return True, slots

    # ---- the three kinds

    async def _venue(self, row: dict[str, Any], order: float) -> None:
        p = self.profile
        slug, category, tags = row["slug"], row["category"], list(row["tags"] or [])
        if category in SKIP_VENUE_CATEGORIES:
            return
        title = titles(row["name_zh"], row["name_en"])
        if p.step_free and not self._accessible(slug):
            self.pool.not_step_free += 1
            return
        if slug in self.outlook.closed:
            self.pool.closed_today.append(title)
            return
        windows = self._windows[slug]
        if not windows:
            return
        usable, slots = await self._booking(row, title)
        if not usable:
            return
        dwell = THEME_PARK_MIN if "theme-park" in tags else DWELL_MIN.get(category, 60)
        point = Point(row["lat"], row["lng"])
        self.pool.add(
            Candidate(
                kind="venue",
                slug=slug,
                place=slug,
                category=category,
                entry=point,
                exit=point,
                windows=windows,
                dwell=dwell,
                min_dwell=max(30, int(dwell * 0.6)),
                value=_value("venue", category, tags, p, row["price_fen"], order),
                slots=slots,
                comfort=self.outlook.of(slug),
            ),
            self._info(title, slug, row["price_fen"], row["reservation_required"], category, tags),
        )

    async def _events(self) -> None:
        p = self.profile
        day_start = datetime(p.day.year, p.day.month, p.day.day, tzinfo=CITY_TZ)
        for rec in (await events.snapshot()).records:
            if not rec.visible(self.now):
                continue
            r = rec.row
            starts = rec.overlapping(day_start, day_start + timedelta(days=1))
            if not starts:
                continue
            venue_slug = r["venue_slug"] if r["venue_slug"] in self._venues else None
            if p.step_free and not self._accessible(venue_slug):
                self.pool.not_step_free += 1
                continue
            if venue_slug in self.outlook.closed:
                continue
            title = titles(r["title_zh"], r["title_en"])
            duration = int(rec.duration.total_seconds() // 60)
            if any(s.second or s.microsecond for s in starts) or rec.duration.total_seconds() % 60:
                duration = math.ceil(rec.duration.total_seconds() / 60) + 1  # whole minutes that hold it
            spans = [(_minute(s, p.day), _minute(s, p.day) + duration) for s in starts]
            category, tags = r["category"], [r["category"]]
            value = _value("event", category, tags, p, r["price_fen"], 0.5)
            point = rec.point
            if duration <= LONG_EVENT_MIN:
                fixed = tuple(a for a, b in spans if 0 <= a and b <= DAY_MIN)
                if not fixed:
                    continue
                candidate = Candidate(
                    kind="event",
                    slug=r["slug"],
                    place=venue_slug or f"event:{r['slug']}",
                    category=category,
                    entry=point,
                    exit=point,
                    windows=tuple((a, a + duration) for a in fixed),
                    dwell=duration,
                    min_dwell=duration,
                    value=value,
                    fixed_starts=fixed,
                    comfort=self.outlook.of(venue_slug) if venue_slug else (),
                )
                info = self._info(title, venue_slug, r["price_fen"], False, category, tags)
                info.exact.update({_minute(s, p.day): (s, s + rec.duration) for s in starts})
                self.pool.add(candidate, info)
                continue
            # a long event (an exhibition, a fair): visited for a while, inside the venue's hours
            windows = tuple(w for a, b in spans for w in _clip(((a, b),), 0, DAY_MIN))
            slots = None
            booking = False
            if venue_slug is not None:
                venue = self._venues[venue_slug]
                windows = tuple(w for a, b in windows for w in _clip(self._windows[venue_slug], a, b))
                if venue["reservation_required"]:
                    usable, slots = await self._booking(venue, title)
                    if not usable:
                        continue
                    booking = True
            if not windows:
                continue
            dwell = LONG_EVENT_DWELL.get(category, LONG_EVENT_DWELL_DEFAULT)
            self.pool.add(
                Candidate(
                    kind="event",
                    slug=r["slug"],
                    place=venue_slug or f"event:{r['slug']}",
                    category=category,
                    entry=point,
                    exit=point,
                    windows=windows,
                    dwell=dwell,
                    min_dwell=45,
                    value=value - 0.3,
                    slots=slots,
                    comfort=self.outlook.of(venue_slug) if venue_slug else (),
                ),
                self._info(title, venue_slug, r["price_fen"], booking, category, tags),
            )

    async def _tours(self) -> None:
        p = self.profile
        page = await tours.list("zh", limit=200, now=self.now)
        english = {t.slug: t.title for t in (await tours.list("en", limit=200, now=self.now)).items}
        for t in page.items:
            title = (t.title, english.get(t.slug) or t.title)
            venue_slug = t.venue_slug if t.venue_slug in self._venues else None
            if p.step_free and not self._accessible(venue_slug):
                self.pool.not_step_free += 1
                continue
            if not t.line or venue_slug in self.outlook.closed:
                continue
            venue = self._venues.get(venue_slug or "")
            windows = self._windows[venue_slug] if venue_slug else ((7 * 60, 19 * 60),)  # outdoors: by daylight
            if not windows:
                continue
            slots, booking = None, False
            if venue is not None and venue["reservation_required"]:
                usable, slots = await self._booking(venue, title)
                if not usable:
                    continue
                booking = True
            category = venue["category"] if venue is not None else "heritage_site"
            tags = list(venue["tags"] or []) if venue is not None else []
            price = venue["price_fen"] if venue is not None else 0
            self.pool.add(
                Candidate(
                    kind="tour",
                    slug=t.slug,
                    place=venue_slug or f"tour:{t.slug}",
                    category=category,
                    entry=t.line[0],
                    exit=t.line[-1],
                    windows=windows,
                    dwell=t.duration_min,
                    min_dwell=t.duration_min,
                    value=_value("tour", category, tags, p, price, 0.5),
                    slots=slots,
                    comfort=self.outlook.of(venue_slug) if venue_slug else (),
                ),
                self._info(title, venue_slug, price, booking, category, tags),
            )
