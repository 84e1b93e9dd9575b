"""How `GET /venues?sort=` orders the catalogue: `distance` (nearest first, needs `near`), `popular`
(most visitors through the gates over the last weeks) and `calm` (the calmest right now).

`calm_key` is the one place that says what "calm" means. Today it reads the live levels (the comfort
level of LB/T 034-2014 and the occupancy against capacity, from the supervision room's overlay); a
forecast can take its place without the listing changing. Closed venues (by their opening hours or a
directive) come last in both `popular` and `calm`; ties go to the nearer venue when `near` is given,
then to the catalogue's own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from opening_hours import OpeningHours

from backend.lib.geo import Point, distance_m
from backend.venues.schemas import LiveOverlay


class VenueRecord(Protocol):
    """What ordering reads of the catalogue's records (services.VenueRecord, which imports this module)."""

    @property
    def row(self) -> dict[str, Any]: ...
    @property
    def point(self) -> Point: ...
    @property
    def hours(self) -> OpeningHours: ...


R = TypeVar("R", bound=VenueRecord)

SORTS = ("distance", "popular", "calm")
LEVEL_RANK = {
    name: i
    for i, name in enumerate(("comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"))
}


def is_open(record: VenueRecord, overlay: LiveOverlay | None, now_local: datetime) -> bool:
    if overlay is not None and overlay.directive_status == "closed":
        return False
    return bool(record.hours.is_open(now_local.replace(tzinfo=None)))


def calm_key(record: VenueRecord, overlay: LiveOverlay | None) -> tuple[int, float]:
    """(comfort level's rank, share of capacity inside) from the live levels: smaller is calmer."""
    if overlay is None:
        return 0, 0.0
    capacity = max(1, int(record.row["capacity"]))
    return LEVEL_RANK.get(overlay.comfort_level, len(LEVEL_RANK)), overlay.occupancy / capacity


def order(
    records: Sequence[R],
    sort: str,
    now_local: datetime,
    overlays: dict[str, LiveOverlay],
    visitors: dict[str, int],
    near: Point | None,
    radius_m: float | None,
) -> list[tuple[float | None, R]]:
    """The records in `sort` order, each with its geodesic distance from `near` (None without it); with
    `radius_m`, only those within it."""
    placed: list[tuple[float | None, int, R]] = []
    for position, rec in enumerate(records):
        dist = distance_m(near, rec.point) if near is not None else None
        if radius_m is not None and dist is not None and dist > radius_m:
            continue
        placed.append((dist, position, rec))

    def key(item: tuple[float | None, int, R]) -> tuple[object, ...]:
        dist, position, rec = item
        slug = rec.row["slug"]
        overlay = overlays.get(slug)
        closed = not is_open(rec, overlay, now_local)
        tie = (dist if dist is not None else 0.0, position)
        if sort == "popular":
            return (closed, -visitors.get(slug, 0), -int(rec.row["daily_capacity"]), *tie)
        if sort == "calm":
            return (closed, *calm_key(rec, overlay), *tie)
        return tie  # distance

    placed.sort(key=key)
    return [(dist, rec) for dist, _, rec in placed]
