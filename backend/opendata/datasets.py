"""The open datasets: what each one is (DCAT metadata) and how its rows are read. Aggregates and public
facts only: no dataset reads a table that holds personal data except through counts.

Each is registered in `DATASETS` with `register_dataset` when this module is imported (the service
imports it); a test or another dataset adds its own the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from piccolo.query.functions.aggregate import Sum

from backend.amenities.tables import Amenity
from backend.governance.tables import TourGroup, TourGroupStop
from backend.lib.clock import clock
from backend.lib.i18n import Lang, pick
from backend.occupancy.tables import WalkIn
from backend.passes.tables import ScanRecord
from backend.venues.services import catalog

HISTORY_DAYS = 90

Rows = Callable[[Lang], Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Dataset:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    keywords: list[str]
    update_frequency: str
    rows: Rows
    geometry: Callable[[dict[str, Any]], tuple[float, float] | None] | None = None  # (lng, lat) of a row


DATASETS: dict[str, Dataset] = {}


def register_dataset(dataset: Dataset) -> None:
    DATASETS[dataset.name] = dataset


def _lat_lng(row: dict[str, Any]) -> tuple[float, float] | None:
    if row.get("lat") is None or row.get("lng") is None:
        return None
    return (row["lng"], row["lat"])


async def venue_rows(lang: Lang) -> list[dict[str, Any]]:
    snap = await catalog.snapshot()
    return [
        {
            "slug": r.row["slug"],
            "name": pick(r.row["name_zh"], r.row["name_en"], lang),
            "name_zh": r.row["name_zh"],
            "name_en": r.row["name_en"],
            "category": r.row["category"],
            "district": r.row["district"],
            "address": pick(r.row["address_zh"], r.row["address_en"], lang),
            "lat": r.row["lat"],
            "lng": r.row["lng"],
            "opening_hours": r.row["opening_hours"],
            "capacity": r.row["capacity"],
            "daily_capacity": r.row["daily_capacity"],
            "reservation_required": r.row["reservation_required"],
            "price_fen": r.row["price_fen"],
            "website": r.row["website"],
        }
        for r in snap.records
    ]


async def amenity_rows(lang: Lang) -> list[dict[str, Any]]:
    rows = await Amenity.select(
        Amenity.ext_id,
        Amenity.kind,
        Amenity.name_zh,
        Amenity.name_en,
        Amenity.district,
        Amenity.lat,
        Amenity.lng,
        Amenity.opening_hours,
        Amenity.wheelchair,
        Amenity.baby_changing,
        Amenity.fee,
        Amenity.spaces,
        Amenity.coach_spaces,
        Amenity.operator,
    ).order_by(Amenity.id)
    return [
        {
            "id": r["ext_id"],
            "kind": r["kind"],
            "name": pick(r["name_zh"], r["name_en"], lang),
            "district": r["district"],
            "lat": r["lat"],
            "lng": r["lng"],
            "opening_hours": r["opening_hours"],
            "wheelchair": r["wheelchair"],
            "baby_changing": r["baby_changing"],
            "fee": r["fee"],
            "spaces": r["spaces"],
            "coach_spaces": r["coach_spaces"],
            "operator": r["operator"],
        }
        for r in rows
    ]


async def daily_visitor_rows(lang: Lang) -> list[dict[str, Any]]:
    """Visitors per venue and local day for the last 90 days: sums only (gate entries by party size,
    walk-ins, tour groups and their coaches)."""
    today = clock.city_today()
    first = (today - timedelta(days=HISTORY_DAYS)).isoformat()
    acc: dict[tuple[str, str], dict[str, int]] = {}

    def cell(day: str, slug: str) -> dict[str, int]:
        return acc.setdefault(
            (day, slug),
            {"gate_entries": 0, "walk_ins": 0, "tour_groups": 0, "coaches": 0, "group_visitors": 0},
        )

    for r in await (
        ScanRecord.select(ScanRecord.local_date, ScanRecord.venue_slug, Sum(ScanRecord.party_size, alias="n"))
        .where((ScanRecord.local_date >= first) & (ScanRecord.result == "ok") & (ScanRecord.direction == "in"))
        .group_by(ScanRecord.local_date, ScanRecord.venue_slug)
    ):
        cell(r["local_date"], r["venue_slug"])["gate_entries"] += int(r["n"] or 0)
    for r in await (
        WalkIn.select(WalkIn.local_date, WalkIn.venue_slug, Sum(WalkIn.count, alias="n"))
        .where((WalkIn.local_date >= first) & (WalkIn.direction == "in"))
        .group_by(WalkIn.local_date, WalkIn.venue_slug)
    ):
        cell(r["local_date"], r["venue_slug"])["walk_ins"] += int(r["n"] or 0)
    groups = await TourGroup.select(TourGroup.id, TourGroup.visit_date, TourGroup.size, TourGroup.coach_plate).where(
        TourGroup.visit_date >= first
    )
    if groups:
        by_id = {g["id"]: g for g in groups}
        seen: set[tuple[int, str]] = set()
        plates: dict[tuple[str, str], set[str]] = {}
        for s in await TourGroupStop.select(TourGroupStop.group_id, TourGroupStop.venue_slug).where(
            TourGroupStop.group_id.is_in(list(by_id))
        ):
            g = by_id[s["group_id"]]
            if (g["id"], s["venue_slug"]) in seen:
                continue
            seen.add((g["id"], s["venue_slug"]))
            c = cell(g["visit_date"], s["venue_slug"])
            c["tour_groups"] += 1
            c["group_visitors"] += g["size"]
            plates.setdefault((g["visit_date"], s["venue_slug"]), set()).add(g["coach_plate"])
        for key, ps in plates.items():
            acc[key]["coaches"] = len(ps)
    snap = await catalog.snapshot()
    out = []
    for (day, slug), c in sorted(acc.items()):
        rec = snap.by_slug.get(slug)
        if rec is None:
            continue
        out.append(
            {
                "date": day,
                "venue_slug": slug,
                "venue_name": pick(rec.row["name_zh"], rec.row["name_en"], lang),
                "district": rec.row["district"],
                "lat": rec.row["lat"],
                "lng": rec.row["lng"],
                "visitors": c["gate_entries"] + c["walk_ins"],
                **c,
            }
        )
    return out


register_dataset(
    Dataset(
        "venues",
        {"zh": "常州文旅场馆", "en": "Culture and tourism venues of Changzhou"},
        {
            "zh": "博物馆、图书馆、景区、纪念馆等场馆的名称、位置（WGS-84）、开放时间、瞬时与日承载量。",
            "en": "Museums, libraries, scenic areas, memorials and more: location (WGS-84), opening hours, "
            "instantaneous and daily carrying capacity.",
        },
        ["venues", "culture", "tourism", "Changzhou"],
        "weekly",
        venue_rows,
        _lat_lng,
    )
)
register_dataset(
    Dataset(
        "amenities",
        {"zh": "公共厕所、充电站与停车场", "en": "Public toilets, EV chargers and car parks"},
        {
            "zh": "公共厕所（无障碍、母婴设施）、电动汽车充电站和停车场（含大巴车位）的位置与属性。",
            "en": "Where the public toilets (step-free, baby changing), EV charging stations and car parks "
            "(with coach spaces) are, and what they offer.",
        },
        ["toilets", "chargers", "parking", "OpenStreetMap"],
        "weekly",
        amenity_rows,
        _lat_lng,
    )
)


async def event_rows(lang: Lang) -> list[dict[str, Any]]:
    """The published calendar's occurrences over the next 90 days (one row an occurrence)."""
    from backend.events.services import EventQuery, events

    start = clock.now()
    page = await events.list(EventQuery(lang=lang, start=start, end=start + timedelta(days=90)), limit=5000)
    return [
        {
            "occurrence_id": e.occurrence_id,
            "slug": e.slug,
            "title": e.title,
            "category": e.category,
            "starts_at": e.starts_at.isoformat(),
            "ends_at": e.ends_at.isoformat(),
            "venue_slug": e.venue_slug or "",
            "place": e.place,
            "district": e.district,
            "price_fen": e.price_fen,
            "free": e.price_fen == 0,
            "lat": e.location.lat,
            "lng": e.location.lng,
        }
        for e in page.items
    ]


register_dataset(
    Dataset(
        "events",
        {"zh": "常州文旅活动日历", "en": "Changzhou culture and tourism events calendar"},
        {
            "zh": "未来 90 天已发布的演出、展览、节庆、讲座、亲子活动等，每场一行：时间、地点（WGS-84）、类别、票价。",
            "en": "Published performances, exhibitions, festivals, lectures and family events over the next 90 "
            "days, one row an occurrence: time, place (WGS-84), category, price.",
        },
        ["events", "calendar", "performances", "exhibitions"],
        "daily",
        event_rows,
        _lat_lng,
    )
)
register_dataset(
    Dataset(
        "daily_visitors",
        {"zh": "场馆每日客流", "en": "Daily visitors per venue"},
        {
            "zh": "近 90 天各场馆每日入园人次（验码入场按同行人数计、人工窗口散客、旅行社团队与旅游大巴），"
            "仅汇总数据。",
            "en": "Visitors per venue and day over the last 90 days (gate entries counted by party size, walk-ins "
            "at the manual window, tour groups and their coaches). Aggregates only.",
        },
        ["visitors", "crowds", "statistics"],
        "daily",
        daily_visitor_rows,
        _lat_lng,
    )
)
