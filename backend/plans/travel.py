"""Travel between two places of a day plan: on foot under a distance, by taxi beyond it.

No routing engine is needed: the leg is the geodesic distance on WGS-84 (`lib.geo.distance_m`, the number
geopy's `geodesic` gives) stretched by a detour factor for the street network, at a documented speed
(docs/plans.md, "Travel"). A routing engine could stand behind the same `TravelModel.leg` later; the plan
only ever asks this one method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from backend.lib.geo import Point, distance_m

TravelMode = Literal["walk", "taxi"]

WALK_DETOUR = 1.3  # street and lane network vs. the straight line, on foot
DRIVE_DETOUR = 1.4  # road network (one-way streets, bridges over the canal) vs. the straight line
WALK_KMH = 4.5
WALK_KMH_SLOW = 3.5  # with children or seniors
WALK_MAX_M = 1500.0  # beyond this geodesic distance the plan takes a taxi
WALK_MAX_M_SLOW = 800.0
TAXI_CITY_KMH = 25.0  # the first TAXI_CITY_KM of road
TAXI_CITY_KM = 10.0
TAXI_ROAD_KMH = 50.0  # the rest (ring roads, expressways to Wujin, Jintan, Liyang)
TAXI_OVERHEAD_MIN = 6  # hailing, getting in and out, the last metres


@dataclass(frozen=True, slots=True)
class Leg:
    mode: TravelMode
    minutes: int
    distance_m: int  # the estimated route length: geodesic × detour


@dataclass(frozen=True, slots=True)
class TravelModel:
    """How fast this party moves: slower and walking less far with children or seniors."""

    walk_kmh: float = WALK_KMH
    walk_max_m: float = WALK_MAX_M

    @classmethod
    def for_party(cls, children: int, seniors: int) -> TravelModel:
        if children or seniors:
            return cls(walk_kmh=WALK_KMH_SLOW, walk_max_m=WALK_MAX_M_SLOW)
        return cls()

    def leg(self, a: Point, b: Point) -> Leg:
        return self.leg_for(distance_m(a, b))

    def leg_for(self, geodesic_m: float) -> Leg:
        if geodesic_m < 1.0:
            return Leg("walk", 0, 0)
        if geodesic_m <= self.walk_max_m:
            route = geodesic_m * WALK_DETOUR
            return Leg("walk", math.ceil(route / (self.walk_kmh * 1000 / 60)), round(route))
        route_km = geodesic_m * DRIVE_DETOUR / 1000
        city_km = min(route_km, TAXI_CITY_KM)
        hours = city_km / TAXI_CITY_KMH + (route_km - city_km) / TAXI_ROAD_KMH
        return Leg("taxi", math.ceil(hours * 60) + TAXI_OVERHEAD_MIN, round(route_km * 1000))
