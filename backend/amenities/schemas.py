from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

import msgspec

from backend.lib.geo import Point

Kind = Literal["toilet", "charger", "parking"]
Connector = Literal["gbt_dc", "gbt_ac", "type2", "ccs2", "chademo"]
ChargerStatus = Literal["available", "occupied", "out_of_service", "unknown"]
CONNECTORS: tuple[str, ...] = get_args(Connector)


class AmenityOut(msgspec.Struct, omit_defaults=True):
    id: str
    kind: str
    name: str
    location: Point
    address: str
    opening_hours: str
    open_now: bool
    attributes: dict[str, Any]
    distance_m: float | None = None
    status: str | None = None


class AmenityPage(msgspec.Struct):
    items: list[AmenityOut]
    total: int


# ---- content and feeds


class Localised(msgspec.Struct, frozen=True):
    zh: str
    en: str = ""


class LocationIn(msgspec.Struct, frozen=True):
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lng: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class EvseIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    evse_id: str
    connector: Connector
    max_kw: Annotated[float, msgspec.Meta(gt=0, le=1000)]
    count: Annotated[int, msgspec.Meta(ge=1, le=100)] = 1


class AmenityContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: str
    name: Localised
    location: LocationIn
    address: Localised = Localised(zh="")
    district: str | None = None
    opening_hours: str = "24/7"
    wheelchair: bool | None = None
    baby_changing: bool | None = None
    fee: bool | None = None
    unisex: bool | None = None
    gender: str | None = None
    operator: str | None = None
    evses: list[EvseIn] = []
    spaces: int | None = None
    coach_spaces: int | None = None
    near_venue: str | None = None


class EvseStatusIn(msgspec.Struct, frozen=True):
    evse_uid: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    status: Literal[
        "AVAILABLE", "BLOCKED", "CHARGING", "INOPERATIVE", "OUTOFORDER", "PLANNED", "REMOVED", "RESERVED", "UNKNOWN"
    ]
    last_updated: datetime


class ParkingStatusIn(msgspec.Struct, frozen=True):
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=160)]
    free_spaces: Annotated[int, msgspec.Meta(ge=0, le=100_000)]
    last_updated: datetime


class StatusFeedIn(msgspec.Struct, forbid_unknown_fields=True):
    """OCPI 2.2-shaped EVSE status updates and car-park free-space counts from one operator."""

    evses: Annotated[list[EvseStatusIn], msgspec.Meta(max_length=5000)] = []
    parking: Annotated[list[ParkingStatusIn], msgspec.Meta(max_length=5000)] = []


class StatusFeedOut(msgspec.Struct):
    accepted: int
    rejected: list[str]
