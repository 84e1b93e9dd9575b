"""Where a new case goes, how urgent it is, and its deadlines.

Routing (API.md: "routed on creation to the venue's staff, or a merchant's district, or the district of
the visitor's location"): a case at a venue goes to that venue's staff (its district's governance users
watch it too); about a merchant (the vouchers room's register, looked up through the port `use_merchants`
that create_app wires) to the merchant's district; otherwise to the district the visitor stands in, taken
as the district of the nearest venue within `NEAR_M` (the city publishes no district boundaries to us);
with none of these, to the city's governance users (district none). docs/cases.md."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from backend.cases.schemas import CaseIn, Location
from backend.lib.geo import Point, haversine_m
from backend.lib.problems import InvalidInput
from backend.settings import Settings
from backend.venues.services import catalog

NEAR_M = 30_000.0
PRIORITY = {"sos": "urgent", "complaint": "high", "lost_found": "normal", "question": "normal"}

MerchantDistrict = Callable[[str], Awaitable[str | None]]
"""`district(merchant_id)`: the merchant's district, or None for a merchant the register doesn't know."""

_merchant_district: MerchantDistrict | None = None


def use_merchants(district: MerchantDistrict | None) -> None:
    """Where a merchant's district is looked up (wired by create_app)."""
    global _merchant_district
    _merchant_district = district


async def district_at(location: Location) -> str | None:
    """The district of the venue nearest to `location`, if one lies within NEAR_M."""
    here = Point(location.lat, location.lng)
    best: tuple[float, str] | None = None
    for rec in (await catalog.snapshot()).records:
        d = haversine_m(here, rec.point)
        if d <= NEAR_M and (best is None or d < best[0]):
            best = (d, rec.row["district"])
    return best[1] if best else None


async def route(data: CaseIn) -> tuple[str | None, str | None]:
    """(venue_slug, district) the case is assigned to; 400 `unknown_venue`, `unknown_merchant` for a venue
    or merchant we don't know."""
    if data.venue_slug is not None:
        rec = await catalog.record(data.venue_slug)
        if rec is None:
            raise InvalidInput("unknown_venue", "no venue with this slug", field="venue_slug")
        return data.venue_slug, rec.row["district"]
    if data.merchant_id is not None and _merchant_district is not None:
        district = await _merchant_district(data.merchant_id)
        if district is None:
            raise InvalidInput("unknown_merchant", "no merchant with this id", field="merchant_id")
        return None, district
    if data.location is not None:
        return None, await district_at(data.location)
    return None, None


def deadlines(kind: str, opened_at: datetime, settings: Settings) -> tuple[datetime, datetime]:
    """(acknowledge by, resolve by): `CHANGXIANG_CASE_ACK_S` (an SOS: the shorter of it and
    `CHANGXIANG_CASE_SOS_ACK_S`) and `CHANGXIANG_CASE_RESOLVE_S` from opening."""
    ack_s = settings.case_ack_s if kind != "sos" else min(settings.case_ack_s, settings.case_sos_ack_s)
    resolve_s = max(settings.case_resolve_s, ack_s)
    return opened_at + timedelta(seconds=ack_s), opened_at + timedelta(seconds=resolve_s)
