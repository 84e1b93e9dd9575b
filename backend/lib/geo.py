"""Coordinates (WGS-84) and geodesic distance (geopy, on the WGS-84 ellipsoid)."""

from __future__ import annotations

import math

import msgspec
from geopy.distance import geodesic

from backend.lib.problems import InvalidInput

EARTH_RADIUS_M = 6_371_008.8
# A generous box around Changzhou's administrative area (溧阳 south to 新北 north, 金坛 west to 经开区 east).
CHANGZHOU_BBOX = (31.15, 119.13, 32.06, 120.21)  # min_lat, min_lng, max_lat, max_lng


class Point(msgspec.Struct, frozen=True):
    lat: float
    lng: float


def parse_point(raw: str, field: str = "near") -> Point:
    """`"LAT,LNG"` → Point; anything else is a 400 `invalid_coordinates` naming the field."""
    parts = raw.split(",")
    if len(parts) != 2:
        raise InvalidInput("invalid_coordinates", f"{field} must be LAT,LNG", field=field)
    try:
        lat, lng = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidInput("invalid_coordinates", f"{field} must be two numbers LAT,LNG", field=field) from None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise InvalidInput("invalid_coordinates", f"{field} is outside -90..90, -180..180", field=field)
    return Point(lat, lng)


def distance_m(a: Point, b: Point) -> float:
    return geodesic((a.lat, a.lng), (b.lat, b.lng)).meters


def bounding_box(center: Point, radius_m: float) -> tuple[float, float, float, float]:
    """A lat/lng box that surely contains the circle (a prefilter before exact geodesic distances)."""
    margin = 1.01  # spherical approximation vs. the ellipsoid: widen by 1 %
    dlat = math.degrees(radius_m * margin / EARTH_RADIUS_M)
    cos_lat = math.cos(math.radians(min(89.9, abs(center.lat) + dlat)))
    dlng = 180.0 if cos_lat <= 1e-9 else min(180.0, math.degrees(radius_m * margin / (EARTH_RADIUS_M * cos_lat)))
    return center.lat - dlat, center.lng - dlng, center.lat + dlat, center.lng + dlng


def in_changzhou(point: Point) -> bool:
    min_lat, min_lng, max_lat, max_lng = CHANGZHOU_BBOX
    return min_lat <= point.lat <= max_lat and min_lng <= point.lng <= max_lng
