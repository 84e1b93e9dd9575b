"""The open dataset `case_stats` (issue 16): how the city's venues answer help requests and complaints, per
venue and month — counts, response times, share in time, mean rating. Aggregates only: no text, no
contact, no visitor; cases at no venue are counted per district (venue fields empty)."""

from __future__ import annotations

from typing import Any

from backend.cases.stats import by_venue_and_month
from backend.lib.i18n import Lang, pick
from backend.opendata.datasets import Dataset, register_dataset
from backend.venues.schemas import DISTRICT_NAMES
from backend.venues.services import catalog


async def case_stat_rows(lang: Lang) -> list[dict[str, Any]]:
    snap = await catalog.snapshot()
    out = []
    for m in await by_venue_and_month():
        rec = snap.by_slug.get(m.venue_slug) if m.venue_slug else None
        district = m.district or ""
        out.append(
            {
                "month": m.month,
                "venue_slug": m.venue_slug or "",
                "venue_name": pick(rec.row["name_zh"], rec.row["name_en"], lang) if rec else "",
                "district": district,
                "district_name": DISTRICT_NAMES[district][lang] if district in DISTRICT_NAMES else "",
                "cases": m.cases,
                "acknowledged": m.acknowledged,
                "resolved": m.resolved,
                "median_hours_to_acknowledge": m.median_hours_to_acknowledge,
                "median_hours_to_resolve": m.median_hours_to_resolve,
                "share_resolved_in_time": m.share_resolved_in_time,
                "mean_rating": m.mean_rating,
                "ratings": m.ratings,
                "lat": rec.row["lat"] if rec else None,
                "lng": rec.row["lng"] if rec else None,
            }
        )
    return out


def _point(row: dict[str, Any]) -> tuple[float, float] | None:
    return None if row.get("lat") is None else (row["lng"], row["lat"])


register_dataset(
    Dataset(
        "case_stats",
        {"zh": "求助与投诉处置情况", "en": "Help requests and complaints: how they were handled"},
        {
            "zh": "近 12 个月各场馆（无场馆的按区）每月收到的求助、投诉、失物与一键救援件数，"
            "确认与办结用时中位数（小时）、按时办结比例与平均满意度。仅汇总数据，不含任何个人信息。",
            "en": "Per venue (or district, for cases at no venue) and month over the last 12 months: help requests, "
            "complaints, lost-and-found reports and SOS received, median hours to acknowledge and to resolve, "
            "the share resolved in time and the mean rating. Aggregates only, no personal data.",
        },
        ["complaints", "help", "service quality", "satisfaction"],
        "daily",
        case_stat_rows,
        _point,
    )
)
