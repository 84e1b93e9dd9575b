"""Live occupancy and comfort levels (LB/T 034-2014), walk-ins at the manual window, the feed to the
supervision platform, and travel agencies' tour groups.

Occupancy is read from the gate counts (`passes.tables.GateCount`), which every replica shares:
people moved by accepted scans (party sizes) and walk-ins, per venue and counting window (from the
venue's last closing time when it has closed today: the daily reset), kept in the same write as the
movement. All venues are one indexed query, kept for `GOV_OCCUPANCY_CACHE_S` per process for readers
(venue pages, the dashboard); decisions at the gate and the window read the one venue fresh.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from piccolo.query.functions.aggregate import Sum

from backend.governance import outbox
from backend.governance.schemas import (
    ItineraryStop,
    OccupancyOut,
    TourGroupIn,
    TourGroupOut,
    TourStopOut,
    VenueOccupancy,
    WalkInIn,
)
from backend.governance.tables import Alert, Directive, TourGroup, TourGroupStop, VenueLevel, WalkIn
from backend.lib import live_events
from backend.lib.auth import AuthUser, require_venue_staff
from backend.lib.db import write_transaction
from backend.lib.i18n import Lang, pick
from backend.lib.personal_data import mask_name, vault
from backend.lib.problems import Conflict, InvalidInput, NotFound
from backend.passes.services import add_to_gate_count
from backend.passes.tables import GateCount, ScanRecord
from backend.reservations.tables import Reservation, Slot
from backend.settings import get_settings
from backend.venues.schemas import LiveOverlay, VenueAlert
from backend.venues.services import CITY_TZ, catalog, window_start

log = logging.getLogger("changxiang.governance")

LEVELS = (
    (0.5, "comfortable"),
    (0.7, "fairly_comfortable"),
    (0.8, "normal"),
    (0.9, "fairly_crowded"),
    (1.0, "crowded"),
)
REPORT_RATIO = 0.8  # reported to the platform, shown as crowded
FULL_RATIO = 1.0  # entry and same-day sales stop
RANK = {name: i for i, (_, name) in enumerate(LEVELS)} | {"full": len(LEVELS)}


def comfort_level(ratio: float) -> str:
    for bound, name in LEVELS:
        if ratio < bound:
            return name
    return "full"


def utc_now() -> datetime:
    return datetime.now(UTC)


async def _gate_counts(slugs: list[str] | None, day: str) -> dict[str, list[dict]]:
    """venue → today's counting windows (entries and exits by the gates and the manual window)."""
    query = GateCount.select(GateCount.venue_slug, GateCount.window_start, GateCount.entries, GateCount.exits).where(
        GateCount.local_date == day
    )
    if slugs is not None:
        query = query.where(GateCount.venue_slug.is_in(slugs))
    out: dict[str, list[dict]] = {}
    for row in await query:
        out.setdefault(row["venue_slug"], []).append(row)
    return out


_directive_cache: tuple[float, datetime, list[dict]] | None = None


def forget_directives() -> None:
    global _directive_cache
    _directive_cache = None


async def _directives_now(now: datetime) -> dict[str, dict]:
    """The directive in force per venue now (the latest received wins; a reopen ends the others).
    The rows are kept `GOV_OCCUPANCY_CACHE_S` per process (directives are rare; the gate asks often)."""
    global _directive_cache
    mono = time.monotonic()
    if _directive_cache is not None and mono - _directive_cache[0] < get_settings().gov_occupancy_cache_s:
        rows = _directive_cache[2]
    else:
        rows = await _directive_rows(now)
        _directive_cache = (mono, now, rows)
    out: dict[str, dict] = {}
    for r in rows:
        if not (r["valid_from"] <= now < r["valid_until"]):
            continue
        for slug in r["venue_slugs"] or []:
            if r["type"] == "reopen":
                out.pop(slug, None)
            else:
                out[slug] = r
    return out


async def _directive_rows(now: datetime) -> list[dict]:
    return (
        await Directive.select(
            Directive.type, Directive.limit_ratio, Directive.venue_slugs, Directive.valid_from, Directive.valid_until
        )
        .where(Directive.valid_until > now)
        .order_by(Directive.id)
    )


def _effective_capacity(capacity: int, directive: dict | None) -> int:
    if directive and directive["type"] == "limit" and directive["limit_ratio"] is not None:
        return max(0, math.floor(capacity * directive["limit_ratio"]))
    if directive and directive["type"] == "close":
        return 0
    return capacity


class OccupancyService:
    def __init__(self) -> None:
        self._cached: tuple[float, list[VenueOccupancy]] | None = None
        self._alerts: tuple[float, dict[str, list[dict]]] | None = None

    async def compute(self, slugs: list[str] | None = None) -> list[VenueOccupancy]:
        """Fresh figures for `slugs` (every venue when None)."""
        snap = await catalog.snapshot()
        records = [r for r in snap.records if slugs is None or r.row["slug"] in slugs]
        if not records:
            return []
        now = utc_now()
        now_local = now.astimezone(CITY_TZ)
        day = now_local.date().isoformat()
        wanted = None if slugs is None else [r.row["slug"] for r in records]
        counts = await _gate_counts(wanted, day)
        directives = await _directives_now(now)
        out = []
        for rec in records:
            slug = rec.row["slug"]
            windows = counts.get(slug, [])
            entries, exits = sum(w["entries"] for w in windows), sum(w["exits"] for w in windows)
            start = window_start(rec, now_local)
            current = [w for w in windows if w["window_start"] == start]
            inside = (current[0]["entries"] - current[0]["exits"]) if current else 0
            inside = max(0, inside)
            directive = directives.get(slug)
            capacity = _effective_capacity(rec.row["capacity"], directive)
            ratio = inside / capacity if capacity > 0 else (1.0 if directive else 0.0)
            status = {"limit": "limited", "close": "closed"}.get(directive["type"], "open") if directive else "open"
            out.append(
                VenueOccupancy(
                    venue_slug=slug,
                    occupancy=inside,
                    capacity=capacity,
                    ratio=round(ratio, 4),
                    comfort_level=comfort_level(ratio),  # type: ignore[arg-type]
                    entries_today=entries,
                    exits_today=exits,
                    crowded=ratio >= REPORT_RATIO,
                    status=status,
                    name=rec.row["name_zh"],
                    district=rec.row["district"],
                    location=rec.point,
                )
            )
        return out

    async def all(self) -> list[VenueOccupancy]:
        """Every venue, at most `GOV_OCCUPANCY_CACHE_S` old (per process)."""
        ttl = get_settings().gov_occupancy_cache_s
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] >= ttl:
            self._cached = (now, await self.compute())
        return self._cached[1]

    async def report(self) -> OccupancyOut:
        return OccupancyOut(generated_at=utc_now().astimezone(CITY_TZ), venues=await self.all())

    async def venue(self, slug: str) -> VenueOccupancy | None:
        found = await self.compute([slug])
        return found[0] if found else None

    async def entry_refused(self, slug: str, party: int = 0) -> bool:
        """At 1.0 entry stops (Tourism Law art. 45); with `party`, also when it would not fit."""
        v = await self.venue(slug)
        if v is None:
            return False
        if v.status == "closed":
            return True
        return v.ratio >= FULL_RATIO or (party > 0 and v.occupancy + party > v.capacity)

    async def after_movement(self, slug: str) -> VenueOccupancy | None:
        """After people entered or left: publish the figure live, and on a change of comfort level push
        it to the platform at once (and an incident on reaching 0.8). Replicas race on a conditional
        UPDATE of the last level, so one of them reports a change."""
        v = await self.venue(slug)
        if v is None:
            return None
        self._cached = None
        catalog.forget_pages()
        live_events.publish("occupancy", _live_payload(v))
        old = await VenueLevel.select(VenueLevel.level).where(VenueLevel.venue_slug == slug).first()
        if old is None:
            await VenueLevel.insert(VenueLevel(venue_slug=slug, level="comfortable")).on_conflict(
                target=VenueLevel.venue_slug, action="DO NOTHING"
            )
            old = {"level": "comfortable"}
        if old["level"] == v.comfort_level:
            return v
        won = (
            await VenueLevel.update({VenueLevel.level: v.comfort_level, VenueLevel.changed_at: utc_now()})
            .where((VenueLevel.venue_slug == slug) & (VenueLevel.level == old["level"]))
            .returning(VenueLevel.id)
        )
        if not won:
            return v
        stamp = utc_now().astimezone(CITY_TZ).isoformat()
        await outbox.enqueue("occupancy", {"generated_at": stamp, "reason": "level_change", "venues": [_feed(v)]})
        if v.ratio >= REPORT_RATIO and RANK[old["level"]] < RANK["fairly_crowded"]:
            await outbox.enqueue(
                "incident",
                {
                    "kind": "crowding",
                    "venue_slug": slug,
                    "district": v.district,
                    "occupancy": v.occupancy,
                    "capacity": v.capacity,
                    "ratio": v.ratio,
                    "comfort_level": v.comfort_level,
                    "at": stamp,
                },
            )
            log.warning("venue crowded", extra={"venue": slug, "ratio": v.ratio})
        return v

    async def sales_stopped(self, slug: str) -> bool:
        """Same-day sales stop at 1.0. Read from the figures every reader shares (at most
        `GOV_OCCUPANCY_CACHE_S` old, forgotten at once on a movement in this process): a booking is not
        an entry, and the gate itself decides fresh."""
        v = next((f for f in await self.all() if f.venue_slug == slug), None)
        return v is not None and (v.ratio >= FULL_RATIO or v.status == "closed")

    # ---- what venue pages show (see VenueCatalog.configure_live)

    async def overlay(self, lang: Lang) -> dict[str, LiveOverlay]:
        figures = await self.all()
        alerts = await self._active_alerts()
        out = {}
        for v in figures:
            out[v.venue_slug] = LiveOverlay(
                occupancy=v.occupancy,
                comfort_level=v.comfort_level,
                crowded=v.crowded,
                directive_status=None if v.status == "open" else v.status,
                alerts=[
                    VenueAlert(
                        identifier=a["identifier"],
                        event=a["event"],
                        severity=a["severity"],
                        urgency=a["urgency"],
                        headline=pick(a["headline_zh"], a["headline_en"], lang),
                        instruction=pick(a["instruction_zh"], a["instruction_en"], lang),
                        expires=a["expires"].astimezone(CITY_TZ) if a["expires"] else None,
                    )
                    for a in alerts.get(v.venue_slug, [])
                ],
            )
        return out

    def forget_alerts(self) -> None:
        self._alerts = None
        catalog.forget_pages()

    async def _active_alerts(self) -> dict[str, list[dict]]:
        ttl = get_settings().gov_occupancy_cache_s
        mono = time.monotonic()
        if self._alerts is None or mono - self._alerts[0] >= ttl:
            now = utc_now()
            rows = await Alert.select().where(
                (Alert.cancelled == False)  # noqa: E712 - Piccolo builds SQL from ==
                & (Alert.expires.is_null() | (Alert.expires > now))
            )
            by_venue: dict[str, list[dict]] = {}
            for r in rows:
                if r["effective"] is not None and r["effective"] > now + timedelta(days=2):
                    continue
                for slug in r["venue_slugs"] or []:
                    by_venue.setdefault(slug, []).append(r)
            self._alerts = (mono, by_venue)
        return self._alerts[1]

    # ---- walk-ins at the manual window

    async def walk_in(self, staff: AuthUser, data: WalkInIn) -> VenueOccupancy:
        require_venue_staff(staff, data.venue_slug)
        record = await catalog.record(data.venue_slug)
        if record is None:
            raise NotFound("venue_not_found", f"no venue {data.venue_slug!r}")
        now = utc_now()
        async with write_transaction():
            if data.direction == "in" and await self.entry_refused(data.venue_slug, data.count):
                raise Conflict("venue_full", "the venue is at its capacity: no more walk-ins until people leave")
            await WalkIn.insert(
                WalkIn(
                    venue_slug=data.venue_slug,
                    local_date=now.astimezone(CITY_TZ).date().isoformat(),
                    direction=data.direction,
                    count=data.count,
                    staff_user_id=staff.id,
                    at=now,
                )
            )
            await add_to_gate_count(record, now, data.direction, data.count)
        log.info("walk-in", extra={"venue": data.venue_slug, "count": data.count, "direction": data.direction})
        return await self.after_movement(data.venue_slug)  # type: ignore[return-value]

    # ---- periodic feed

    async def push_snapshot(self) -> bool:
        """Occupancy of every venue, once per `GOV_OCCUPANCY_PUSH_S` period across all replicas."""
        settings = get_settings()
        key = f"occupancy:{outbox.period_key(settings.gov_occupancy_push_s)}"
        figures = await self.compute()
        return await outbox.enqueue(
            "occupancy",
            {
                "generated_at": utc_now().astimezone(CITY_TZ).isoformat(),
                "reason": "periodic",
                "venues": [_feed(v) for v in figures],
            },
            dedup_key=key,
        )

    async def daily_figures(self, day: date) -> list[dict]:
        """Visitors per venue for one local day: gate entries (party sizes), walk-ins, tour groups and
        coaches. Aggregates only."""
        iso = day.isoformat()
        scans = await (
            ScanRecord.select(ScanRecord.venue_slug, Sum(ScanRecord.party_size, alias="n"))
            .where((ScanRecord.local_date == iso) & (ScanRecord.result == "ok") & (ScanRecord.direction == "in"))
            .group_by(ScanRecord.venue_slug)
        )
        walks = await (
            WalkIn.select(WalkIn.venue_slug, Sum(WalkIn.count, alias="n"))
            .where((WalkIn.local_date == iso) & (WalkIn.direction == "in"))
            .group_by(WalkIn.venue_slug)
        )
        groups = await self.groups_by_venue(day)
        gate = {r["venue_slug"]: int(r["n"] or 0) for r in scans}
        walk = {r["venue_slug"]: int(r["n"] or 0) for r in walks}
        snap = await catalog.snapshot()
        out = []
        for rec in snap.records:
            slug = rec.row["slug"]
            g = groups.get(slug, {"groups": 0, "coaches": 0, "group_visitors": 0})
            out.append(
                {
                    "date": iso,
                    "venue_slug": slug,
                    "district": rec.row["district"],
                    "category": rec.row["category"],
                    "visitors": gate.get(slug, 0) + walk.get(slug, 0),
                    "gate_entries": gate.get(slug, 0),
                    "walk_ins": walk.get(slug, 0),
                    "tour_groups": g["groups"],
                    "coaches": g["coaches"],
                    "group_visitors": g["group_visitors"],
                    "daily_capacity": rec.row["daily_capacity"],
                }
            )
        return out

    async def push_daily(self, day: date) -> bool:
        return await outbox.enqueue(
            "daily_visitors",
            {"date": day.isoformat(), "venues": await self.daily_figures(day)},
            dedup_key=f"daily_visitors:{day.isoformat()}",
        )

    async def tick(self) -> None:
        """The bridge's clock, run by every replica (dedup keys keep one message per period)."""
        await self.push_snapshot()
        now_local = utc_now().astimezone(CITY_TZ)
        if now_local.hour >= get_settings().gov_daily_report_hour:
            await self.push_daily(now_local.date())

    # ---- tour groups (旅行社组团、旅游包车)

    async def register_group(self, agency: AuthUser, data: TourGroupIn) -> TourGroupOut:
        from backend.reservations.services import _take_seats

        plate = data.coach_plate.replace(" ", "").upper()
        box = vault()
        public_id = uuid.uuid4()
        stops: list[tuple[ItineraryStop, dict | None]] = []
        for i, stop in enumerate(data.itinerary):
            if await catalog.record(stop.venue_slug) is None:
                raise InvalidInput(
                    "unknown_venue", f"stop {i + 1}: no venue {stop.venue_slug!r}", field=f"itinerary[{i}]"
                )
            slot = None
            if stop.slot_id is not None:
                slot = await Slot.select().where(Slot.id == stop.slot_id).first()
                if slot is None or slot["venue_slug"] != stop.venue_slug:
                    raise InvalidInput("unknown_slot", f"stop {i + 1}: no such slot there", field=f"itinerary[{i}]")
                if slot["local_date"] != data.visit_date:
                    raise InvalidInput(
                        "slot_not_on_visit_date", f"stop {i + 1}: the slot is on another day", field=f"itinerary[{i}]"
                    )
            stops.append((stop, slot))
        out_stops = []
        async with write_transaction():
            group_rows = await TourGroup.insert(
                TourGroup(
                    public_id=public_id,
                    agency_user_id=agency.id,
                    visit_date=data.visit_date.isoformat(),
                    size=data.size,
                    coach_plate=plate,
                    guide_name_enc=box.encrypt(data.guide_name.strip(), "tour_group.guide_name"),
                    guide_name_masked=mask_name(data.guide_name),
                    guide_phone_enc=box.encrypt(data.guide_phone.strip(), "tour_group.guide_phone"),
                    guide_phone_masked=_mask_phone(data.guide_phone),
                )
            ).returning(TourGroup.id)
            group_id = group_rows[0]["id"]
            for i, (stop, slot) in enumerate(stops):
                reservation_id = None
                public = None
                if slot is not None:
                    if not await _take_seats(slot["id"], data.size):
                        raise Conflict("slot_full", f"stop {i + 1}: not enough seats left for {data.size}")
                    public = uuid.uuid4()
                    rows = await Reservation.insert(
                        Reservation(
                            public_id=public,
                            user_id=agency.id,
                            slot=slot["id"],
                            venue_slug=stop.venue_slug,
                            visit_date=data.visit_date,
                            status="confirmed",
                            party_size=data.size,
                            amount_fen=slot["price_fen"] * data.size,  # settled on the agency's invoice
                        )
                    ).returning(Reservation.id)
                    reservation_id = rows[0]["id"]
                await TourGroupStop.insert(
                    TourGroupStop(
                        group_id=group_id,
                        position=i,
                        venue_slug=stop.venue_slug,
                        slot_id=slot["id"] if slot else None,
                        reservation_id=reservation_id,
                        arrives_at=stop.arrives_at,
                    )
                )
                out_stops.append(
                    TourStopOut(
                        venue_slug=stop.venue_slug,
                        arrives_at=stop.arrives_at.astimezone(CITY_TZ),
                        reservation_id=str(public) if public else None,
                        slot_id=slot["id"] if slot else None,
                    )
                )
        log.info("tour group registered", extra={"group": str(public_id), "size": data.size, "stops": len(stops)})
        return TourGroupOut(
            id=str(public_id),
            visit_date=data.visit_date,
            size=data.size,
            coach_plate=plate,
            guide_name_masked=mask_name(data.guide_name),
            guide_phone_masked=_mask_phone(data.guide_phone),
            itinerary=out_stops,
        )

    async def groups_by_venue(self, day: date) -> dict[str, dict]:
        """Per venue: the day's groups, coaches (distinct plates) and group visitors."""
        groups = await TourGroup.select(TourGroup.id, TourGroup.size, TourGroup.coach_plate).where(
            TourGroup.visit_date == day.isoformat()
        )
        if not groups:
            return {}
        by_id = {g["id"]: g for g in groups}
        stops = await TourGroupStop.select(TourGroupStop.group_id, TourGroupStop.venue_slug).where(
            TourGroupStop.group_id.is_in(list(by_id))
        )
        acc: dict[str, dict] = {}
        for s in stops:
            g = by_id[s["group_id"]]
            a = acc.setdefault(s["venue_slug"], {"ids": set(), "plates": set(), "group_visitors": 0})
            if g["id"] not in a["ids"]:
                a["ids"].add(g["id"])
                a["plates"].add(g["coach_plate"])
                a["group_visitors"] += g["size"]
        return {
            slug: {"groups": len(a["ids"]), "coaches": len(a["plates"]), "group_visitors": a["group_visitors"]}
            for slug, a in acc.items()
        }

    async def my_groups(self, agency: AuthUser) -> list[TourGroupOut]:
        rows = (
            await TourGroup.select()
            .where(TourGroup.agency_user_id == agency.id)
            .order_by(TourGroup.id, ascending=False)
        )
        out = []
        for g in rows:
            stops = (
                await TourGroupStop.select().where(TourGroupStop.group_id == g["id"]).order_by(TourGroupStop.position)
            )
            res_ids = [s["reservation_id"] for s in stops if s["reservation_id"]]
            publics = (
                {
                    r["id"]: str(r["public_id"])
                    for r in await Reservation.select(Reservation.id, Reservation.public_id).where(
                        Reservation.id.is_in(res_ids)
                    )
                }
                if res_ids
                else {}
            )
            out.append(
                TourGroupOut(
                    id=str(g["public_id"]),
                    visit_date=date.fromisoformat(g["visit_date"]),
                    size=g["size"],
                    coach_plate=g["coach_plate"],
                    guide_name_masked=g["guide_name_masked"],
                    guide_phone_masked=g["guide_phone_masked"],
                    itinerary=[
                        TourStopOut(
                            venue_slug=s["venue_slug"],
                            arrives_at=s["arrives_at"].astimezone(CITY_TZ),
                            reservation_id=publics.get(s["reservation_id"]),
                            slot_id=s["slot_id"],
                        )
                        for s in stops
                    ],
                )
            )
        return out


def _mask_phone(phone: str) -> str:
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) <= 4:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7 if len(digits) > 7 else len(digits) - 4) + digits[-4:]


def _feed(v: VenueOccupancy) -> dict:
    """One venue as the platform receives it."""
    return {
        "venue_slug": v.venue_slug,
        "district": v.district,
        "occupancy": v.occupancy,
        "capacity": v.capacity,
        "ratio": v.ratio,
        "comfort_level": v.comfort_level,
        "entries_today": v.entries_today,
        "exits_today": v.exits_today,
        "status": v.status,
    }


def _live_payload(v: VenueOccupancy) -> dict:
    return _feed(v) | {"crowded": v.crowded}


occupancy = OccupancyService()
