"""The floors: a bare Litestar app, on the same uvicorn settings as `changxiang run`, with one route of the
same shape as each measured operation — the same query parameters, or the same body decoded into the same
struct, and a response of the same size (a sample of ours, captured by the bench in the same run and
named by `CX_FLOOR_SAMPLES`, decoded once into our response struct and encoded on every request). What an
operation costs above its floor is our own path: auth, the database, the rules, the middleware."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Litestar, get, post
from litestar.params import Parameter

from backend.amenities.schemas import AmenityPage, Connector, Kind
from backend.lib.pagination import Limit
from backend.passes.schemas import ScanIn, ScanOut
from backend.reservations.schemas import BookingRequest, ReservationOut


def _samples() -> dict[str, bytes]:
    path = os.environ.get("CX_FLOOR_SAMPLES")
    return {} if not path else msgspec.json.decode(Path(path).read_bytes(), type=dict[str, msgspec.Raw])


_RAW = _samples()
AMENITY_PAGE = msgspec.json.decode(_RAW["amenities"], type=AmenityPage) if "amenities" in _RAW else None
SCAN_OUT = msgspec.json.decode(_RAW["scans"], type=ScanOut) if "scans" in _RAW else None
RESERVATION_OUT = msgspec.json.decode(_RAW["reservations"], type=ReservationOut) if "reservations" in _RAW else None


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/api/v1/amenities")
async def nearest(
    near: Annotated[str, Parameter(description="LAT,LNG (WGS-84)")],
    kind: Kind | None = None,
    radius_m: Annotated[float | None, Parameter(gt=0, le=2_000_000)] = None,
    limit: Limit = 20,
    wheelchair: bool | None = None,
    baby_changing: bool | None = None,
    free: bool | None = None,
    open_now: bool | None = None,
    connector: Connector | None = None,
    min_kw: Annotated[float | None, Parameter(ge=0, le=1000)] = None,
    available: bool | None = None,
    lang: str | None = None,
) -> AmenityPage:
    assert AMENITY_PAGE is not None
    return AMENITY_PAGE


@post("/api/v1/scans", status_code=200)
async def scan(data: ScanIn) -> ScanOut:
    assert SCAN_OUT is not None
    return SCAN_OUT


@post("/api/v1/reservations", status_code=201)
async def book(data: BookingRequest) -> ReservationOut:
    assert RESERVATION_OUT is not None
    return RESERVATION_OUT


app = Litestar(route_handlers=[healthz, nearest, scan, book], logging_config=None, debug=False)
