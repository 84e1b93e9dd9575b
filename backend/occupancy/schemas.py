from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from backend.lib.geo import Point
from backend.venues.schemas import ComfortLevel, LiveStatus


class VenueOccupancy(msgspec.Struct):
    venue_slug: str
    occupancy: int
    capacity: int  # instantaneous capacity in force (lowered by a `limit` directive)
    ratio: float
    comfort_level: ComfortLevel
    entries_today: int
    exits_today: int
    crowded: bool  # ratio >= 0.8: reported to the platform
    status: LiveStatus  # limited or closed by a directive in force
    name: str = ""
    district: str = ""
    location: Point | None = None


class OccupancyOut(msgspec.Struct):
    generated_at: datetime
    venues: list[VenueOccupancy]


class WalkInIn(msgspec.Struct, forbid_unknown_fields=True):
    venue_slug: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    count: Annotated[int, msgspec.Meta(ge=1, le=500)]
    direction: Literal["in", "out"] = "in"
