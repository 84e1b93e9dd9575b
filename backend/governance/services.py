"""The supervision bridge's side of occupancy (travel agencies' tour groups are in `tour_groups`).

The figures themselves are the `occupancy` room's. This bridge listens to them (`occupancy_changed`,
connected by create_app): it publishes each movement live to the supervision dashboard and, on a change
of comfort level, pushes it to the platform at once (and an incident on reaching 0.8); it pushes the
periodic and daily feeds, and lays the platform's directives and CAP warnings over venue pages.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from typing import Any

from piccolo.query.functions.aggregate import Sum

from backend.governance import outbox
from backend.governance.tables import Alert, VenueLevel
from backend.governance.tour_groups import tour_groups
from backend.lib import live_events
from backend.lib.clock import CITY_TZ, clock
from backend.lib.i18n import Lang, pick
from backend.occupancy.schemas import VenueOccupancy
from backend.occupancy.services import RANK, REPORT_RATIO, occupancy
from backend.occupancy.tables import WalkIn
from backend.passes.tables import ScanRecord
from backend.settings import get_settings
from backend.venues.schemas import LiveOverlay, VenueAlert
from backend.venues.services import catalog

log = logging.getLogger("changxiang.governance")


def utc_now() -> datetime:
    return clock.now()


class SupervisionService:
    def __init__(self) -> None:
        self._alerts: tuple[float, dict[str, list[dict[str, Any]]]] | None = None
        # venue -> (when read, its last reported level): a scan that leaves the level as it was asks nothing
        # more of the database; kept `GOV_OCCUPANCY_CACHE_S`, so a change another replica made is seen then
        self._levels: dict[str, tuple[float, str]] = {}

    async def on_occupancy_changed(self, v: VenueOccupancy) -> None:
        """People entered or left `v.venue_slug` (occupancy's `occupancy_changed`): publish the figure
        live, and on a change of comfort level push it to the platform at once (and an incident on
        reaching 0.8). Replicas race on a conditional UPDATE of the last level, so one of them reports
        a change."""
        slug = v.venue_slug
        live_events.publish("occupancy", _live_payload(v))
        known = self._levels.get(slug)
        mono = time.monotonic()
        if known is not None and known[1] == v.comfort_level and mono - known[0] < get_settings().gov_occupancy_cache_s:
            return
        old = await VenueLevel.select(VenueLevel.level).where(VenueLevel.venue_slug == slug).first()
        if old is None:
            await VenueLevel.insert(VenueLevel(venue_slug=slug, level="comfortable")).on_conflict(
                target=VenueLevel.venue_slug, action="DO NOTHING"
            )
            old = {"level": "comfortable"}
        if old["level"] == v.comfort_level:
            self._levels[slug] = (mono, old["level"])
            return
        won = (
            await VenueLevel.update({VenueLevel.level: v.comfort_level, VenueLevel.changed_at: utc_now()})
            .where((VenueLevel.venue_slug == slug) & (VenueLevel.level == old["level"]))
            .returning(VenueLevel.id)
        )
        if not won:
            self._levels.pop(slug, None)  # another replica reported first: read it afresh next time
            return
        self._levels[slug] = (mono, v.comfort_level)
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

    # ---- what venue pages show (see VenueCatalog.configure_live)

    async def overlay(self, lang: Lang) -> dict[str, LiveOverlay]:
        figures = await occupancy.all()
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

    async def _active_alerts(self) -> dict[str, list[dict[str, Any]]]:
        ttl = get_settings().gov_occupancy_cache_s
        mono = time.monotonic()
        if self._alerts is None or mono - self._alerts[0] >= ttl:
            now = utc_now()
            rows = await Alert.select().where(
                (Alert.cancelled == False)  # noqa: E712 - Piccolo builds SQL from ==
                & (Alert.expires.is_null() | (Alert.expires > now))
            )
            by_venue: dict[str, list[dict[str, Any]]] = {}
            for r in rows:
                if r["effective"] is not None and r["effective"] > now + timedelta(days=2):
                    continue
                for slug in r["venue_slugs"] or []:
                    by_venue.setdefault(slug, []).append(r)
            self._alerts = (mono, by_venue)
        return self._alerts[1]

    # ---- periodic feed

    async def push_snapshot(self) -> bool:
        """Occupancy of every venue, once per `GOV_OCCUPANCY_PUSH_S` period across all replicas."""
        settings = get_settings()
        key = f"occupancy:{outbox.period_key(settings.gov_occupancy_push_s)}"
        figures = await occupancy.compute()
        return await outbox.enqueue(
            "occupancy",
            {
                "generated_at": utc_now().astimezone(CITY_TZ).isoformat(),
                "reason": "periodic",
                "venues": [_feed(v) for v in figures],
            },
            dedup_key=key,
        )

    async def daily_figures(self, day: date) -> list[dict[str, Any]]:
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
        groups = await tour_groups.groups_by_venue(day)
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


def _feed(v: VenueOccupancy) -> dict[str, Any]:
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


def _live_payload(v: VenueOccupancy) -> dict[str, Any]:
    return _feed(v) | {"crowded": v.crowded}


supervision = SupervisionService()
