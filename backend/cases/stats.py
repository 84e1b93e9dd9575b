"""Figures about cases, without personal data: per venue (or, for cases at no venue, per district) and month
of filing — count, median hours to acknowledge and to resolve, share resolved in time, mean rating — for
the open dataset `case_stats` (opendata) and the governance board (`summary`)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.cases.tables import Case
from backend.cases.views import OPEN_STATUSES, is_overdue
from backend.lib.clock import CITY_TZ, clock

MONTHS = 12


class VenueMonth(msgspec.Struct, kw_only=True):
    month: str  # YYYY-MM, in the city's time
    venue_slug: str | None
    district: str | None
    cases: int
    acknowledged: int
    resolved: int
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None
    share_resolved_in_time: float | None  # of the cases resolved or past their resolve deadline
    mean_rating: float | None
    ratings: int


class Summary(msgspec.Struct, kw_only=True):
    generated_at: datetime
    by_status: dict[str, int]
    overdue: int
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None
    share_resolved_in_time: float | None
    mean_rating: float | None


_COLUMNS = (
    Case.venue_slug,
    Case.district,
    Case.status,
    Case.created_at,
    Case.ack_due_at,
    Case.resolve_due_at,
    Case.acknowledged_at,
    Case.resolved_at,
    Case.rating_stars,
)


def _hours(start: datetime, end: datetime | None) -> float | None:
    return None if end is None else (end - start).total_seconds() / 3600


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _figures(rows: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    ack = [h for r in rows if (h := _hours(r["created_at"], r["acknowledged_at"])) is not None]
    res = [h for r in rows if (h := _hours(r["created_at"], r["resolved_at"])) is not None]
    due = [r for r in rows if r["resolved_at"] is not None or r["resolve_due_at"] <= now]
    in_time = [r for r in due if r["resolved_at"] is not None and r["resolved_at"] <= r["resolve_due_at"]]
    stars = [r["rating_stars"] for r in rows if r["rating_stars"] is not None]
    return {
        "acknowledged": len(ack),
        "resolved": len(res),
        "median_hours_to_acknowledge": _median(ack),
        "median_hours_to_resolve": _median(res),
        "share_resolved_in_time": round(len(in_time) / len(due), 3) if due else None,
        "mean_rating": round(sum(stars) / len(stars), 2) if stars else None,
        "ratings": len(stars),
    }


async def by_venue_and_month(months: int = MONTHS) -> list[VenueMonth]:
    now = clock.now()
    since = (now.astimezone(CITY_TZ).replace(day=1) - timedelta(days=31 * (months - 1))).replace(day=1)
    rows = await Case.select(*_COLUMNS).where(Case.created_at >= since)
    groups: dict[tuple[str, str | None, str | None], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        month = r["created_at"].astimezone(CITY_TZ).strftime("%Y-%m")
        groups[(month, r["venue_slug"], r["district"] if r["venue_slug"] is None else None)].append(r)
    out = []
    for (month, venue, district), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "", kv[0][2] or "")
    ):
        out.append(
            VenueMonth(
                month=month,
                venue_slug=venue,
                district=district if venue is None else group[0]["district"],
                cases=len(group),
                **_figures(group, now),
            )
        )
    return out


async def summary() -> Summary:
    """The governance board's figures over every case."""
    now = clock.now()
    rows = await Case.select(*_COLUMNS)
    by_status: dict[str, int] = defaultdict(int)
    for r in rows:
        by_status[r["status"]] += 1
    figures = _figures(rows, now)
    return Summary(
        generated_at=now.astimezone(CITY_TZ),
        by_status=dict(by_status),
        overdue=sum(1 for r in rows if r["status"] in OPEN_STATUSES and is_overdue(r, now)),
        median_hours_to_acknowledge=figures["median_hours_to_acknowledge"],
        median_hours_to_resolve=figures["median_hours_to_resolve"],
        share_resolved_in_time=figures["share_resolved_in_time"],
        mean_rating=figures["mean_rating"],
    )
