"""Toilets, chargers and car parks: the nearest that fit, fast at city and country scale.

Positions are static content, so each process keeps a grid index of them (cells sized to hold about
two places each, `cell_size`), rebuilt when the shared version key in the `cache` store moves. A
query walks square rings of cells outward until the searched square provably contains the nearest
matches, ranks them by the spherical distance and computes exact WGS-84 geodesics only where the
order is still open (`backend.lib.geo.rank_nearest`). Cost grows with the answer, not with the data.
Live status (EVSE status, free spaces) is read from the database for the answer only.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from opening_hours import OpeningHours, ParserError

from backend.amenities.schemas import (
    AmenityContent,
    AmenityOut,
    AmenityPage,
    StatusFeedIn,
    StatusFeedOut,
)
from backend.amenities.tables import Amenity, Evse, OperatorKey
from backend.lib.geo import EARTH_RADIUS_M, Point, rank_nearest
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Forbidden, InvalidInput, Unauthenticated
from backend.lib.stores import shared_version
from backend.settings import get_settings
from backend.venues.schemas import LoadReport
from backend.venues.services import CITY_TZ

log = logging.getLogger("changxiang.amenities")

MIN_CELL_DEG, MAX_CELL_DEG = 0.005, 1.0
PLACES_PER_CELL = 2.0  # sized so that a few rings of cells around a point hold the nearest ten
VERSION_KEY = "amenities:version"
VERSION_CHECK_S = 1.0
M_PER_DEG_LAT = 110_574.0  # the smallest metres-per-degree of latitude (at the equator)
M_PER_DEG_LNG_EQ = 111_320.0
_SLACK = 1.006
OCPI_STATUS = {
    "AVAILABLE": "available",
    "CHARGING": "occupied",
    "BLOCKED": "occupied",
    "RESERVED": "occupied",
    "OUTOFORDER": "out_of_service",
    "INOPERATIVE": "out_of_service",
    "REMOVED": "out_of_service",
    "UNKNOWN": "unknown",
    "PLANNED": "unknown",
}


@dataclass(slots=True)
class AmenityRecord:
    id: int
    ext_id: str
    kind: str
    point: Point
    row: dict
    connectors: dict[str, float]  # connector type -> highest kW
    connector_counts: list[dict]
    lat_rad: float = 0.0
    lng_rad: float = 0.0
    cos_lat: float = 1.0


def cell_size(points: list[tuple[float, float]]) -> float:
    """Grid cell edge in degrees for these places: about PLACES_PER_CELL a cell over their extent, so
    that a city's few hundred places and a country's hundred thousand both take a handful of rings."""
    if len(points) < 2:
        return MAX_CELL_DEG
    lats, lngs = [p[0] for p in points], [p[1] for p in points]
    area = max(max(lats) - min(lats), MIN_CELL_DEG) * max(max(lngs) - min(lngs), MIN_CELL_DEG)
    return min(MAX_CELL_DEG, max(MIN_CELL_DEG, math.sqrt(area * PLACES_PER_CELL / len(points))))


def _ring_cells(ci: int, cj: int, ring: int, lo_i: int, hi_i: int, lo_j: int, hi_j: int):
    """The cells at Chebyshev distance `ring` from (ci, cj) that fall inside the extent."""
    if ring == 0:
        if lo_i <= ci <= hi_i and lo_j <= cj <= hi_j:
            yield ci, cj
        return
    j0, j1 = max(cj - ring, lo_j), min(cj + ring, hi_j)
    for i in (ci - ring, ci + ring):  # top and bottom rows
        if lo_i <= i <= hi_i:
            for j in range(j0, j1 + 1):
                yield i, j
    i0, i1 = max(ci - ring + 1, lo_i), min(ci + ring - 1, hi_i)
    for j in (cj - ring, cj + ring):  # left and right columns, corners excluded
        if lo_j <= j <= hi_j:
            for i in range(i0, i1 + 1):
                yield i, j


_hours_cache: dict[str, OpeningHours | None] = {}


def _hours(text: str) -> OpeningHours | None:
    if text not in _hours_cache:
        try:
            _hours_cache[text] = OpeningHours(text)
        except ParserError:
            _hours_cache[text] = None
    return _hours_cache[text]


def is_open(text: str, local_naive: datetime) -> bool:
    hours = _hours(text)
    return bool(hours and hours.is_open(local_naive))


class AmenityIndex:
    def __init__(self) -> None:
        self._store: Store | None = None
        self._lock = asyncio.Lock()
        self._version: str | None = None
        self._checked = 0.0
        self.records: list[AmenityRecord] = []
        self.grid: dict[str, dict[tuple[int, int], list[int]]] = {}
        self.extent: dict[str, tuple[int, int, int, int]] = {}  # kind -> min_i, max_i, min_j, max_j
        self.cell_deg = MAX_CELL_DEG

    def configure(self, store: Store) -> None:
        self._store, self._version = store, None

    async def refresh(self) -> None:
        if self._version is not None and time.monotonic() - self._checked < VERSION_CHECK_S:
            return
        async with self._lock:  # one rebuild at a time; requests arriving meanwhile wait for it
            await self._refresh()

    async def _refresh(self) -> None:
        now = time.monotonic()
        if self._version is not None and now - self._checked < VERSION_CHECK_S:
            return
        store = self._store or MemoryStore()
        self._store = store
        version = await shared_version(store, VERSION_KEY, "amenity index")
        if version is None:  # Redis down: keep the index we have, or build it from the database
            if self._version is not None:
                self._checked = now
                return
            version = "unknown"
        self._checked = now
        if version == self._version:
            return
        rows = await Amenity.select()
        evses = await Evse.select(Evse.amenity, Evse.connector, Evse.max_kw)
        by_amenity: dict[int, list[dict]] = defaultdict(list)
        for e in evses:
            by_amenity[e["amenity"]].append(e)
        records, grid = [], defaultdict(lambda: defaultdict(list))
        self.cell_deg = cell = cell_size([(r["lat"], r["lng"]) for r in rows])
        for row in rows:
            plugs: dict[str, float] = {}
            counts: dict[tuple[str, float], int] = defaultdict(int)
            for e in by_amenity.get(row["id"], []):
                plugs[e["connector"]] = max(plugs.get(e["connector"], 0.0), e["max_kw"])
                counts[(e["connector"], e["max_kw"])] += 1
            rec = AmenityRecord(
                row["id"],
                row["ext_id"],
                row["kind"],
                Point(row["lat"], row["lng"]),
                row,
                plugs,
                [{"type": t, "max_kw": kw, "count": n} for (t, kw), n in sorted(counts.items())],
                math.radians(row["lat"]),
                math.radians(row["lng"]),
                math.cos(math.radians(row["lat"])),
            )
            grid[row["kind"]][(math.floor(row["lat"] / cell), math.floor(row["lng"] / cell))].append(len(records))
            records.append(rec)
        self.records, self.grid, self._version = records, {k: dict(v) for k, v in grid.items()}, version
        self.extent = {
            kind: (
                min(i for i, _ in cells),
                max(i for i, _ in cells),
                min(j for _, j in cells),
                max(j for _, j in cells),
            )
            for kind, cells in self.grid.items()
        }

    def candidates(
        self,
        kinds: list[str],
        center: Point,
        radius_m: float | None,
        want: int,
        accept: Callable[[AmenityRecord], bool] | None,
    ) -> list[tuple[float, AmenityRecord]]:
        """Walk square rings of cells outward until `want` accepted places lie inside the covered circle,
        the radius is covered, or the rings cover every cell that holds data; return every accepted
        place seen, with its spherical distance. Rings are clipped to the data's extent, so a far-away
        centre costs little."""
        grids = [g for g in (self.grid.get(k) for k in kinds) if g]
        extents = [self.extent[k] for k in kinds if k in self.extent]
        if not grids or not extents:
            return []
        lo_i, hi_i = min(e[0] for e in extents), max(e[1] for e in extents)
        lo_j, hi_j = min(e[2] for e in extents), max(e[3] for e in extents)
        ci, cj = math.floor(center.lat / self.cell_deg), math.floor(center.lng / self.cell_deg)
        first = max(0, lo_i - ci, ci - hi_i, lo_j - cj, cj - hi_j)
        last = max(ci - lo_i, hi_i - ci, cj - lo_j, hi_j - cj)
        found: list[tuple[float, AmenityRecord]] = []
        lat0, lng0 = math.radians(center.lat), math.radians(center.lng)
        cos0, sin, asin, sqrt = math.cos(lat0), math.sin, math.asin, math.sqrt
        records = self.records
        for ring in range(first, last + 1):
            for cell in _ring_cells(ci, cj, ring, lo_i, hi_i, lo_j, hi_j):
                for grid in grids:
                    for position in grid.get(cell, ()):
                        rec = records[position]
                        if accept is None or accept(rec):
                            # haversine_m, inlined with the place's radians precomputed (the hot loop)
                            h = (
                                sin((rec.lat_rad - lat0) / 2) ** 2
                                + cos0 * rec.cos_lat * sin((rec.lng_rad - lng0) / 2) ** 2
                            )
                            found.append((2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h))), rec))
            covered = self._covered_m(center, ci, cj, ring)
            if radius_m is not None:
                if covered >= radius_m * _SLACK:
                    break
            elif sum(1 for d, _ in found if d * _SLACK <= covered) >= want:
                break
        return found

    def _covered_m(self, center: Point, ci: int, cj: int, ring: int) -> float:
        cell = self.cell_deg
        north = (ci + ring + 1) * cell - center.lat
        south = center.lat - (ci - ring) * cell
        east = (cj + ring + 1) * cell - center.lng
        west = center.lng - (cj - ring) * cell
        far_lat = min(89.9, abs(center.lat) + (ring + 1) * cell)
        lng_m = min(east, west) * M_PER_DEG_LNG_EQ * math.cos(math.radians(far_lat))
        return max(0.0, min(min(north, south) * M_PER_DEG_LAT, lng_m))


index = AmenityIndex()


def _charger_status(statuses: list[tuple[str, datetime | None]], now: datetime, max_age: timedelta) -> str:
    fresh = [s for s, at in statuses if at is not None and now - at <= max_age]
    if not fresh:
        return "unknown"
    if "available" in fresh:
        return "available"
    if all(s == "out_of_service" for s in fresh):
        return "out_of_service"
    return "occupied" if "occupied" in fresh else "unknown"


class AmenityService:
    async def nearest(
        self,
        *,
        lang: Lang,
        near: Point,
        kind: str | None,
        radius_m: float | None,
        limit: int,
        wheelchair: bool | None = None,
        baby_changing: bool | None = None,
        free: bool | None = None,
        open_now: bool | None = None,
        connector: str | None = None,
        min_kw: float | None = None,
        available: bool | None = None,
    ) -> AmenityPage:
        if (connector or min_kw is not None or available is not None) and kind not in (None, "charger"):
            raise InvalidInput(
                "filter_needs_charger", "connector, min_kw and available are for kind=charger", field="kind"
            )
        await index.refresh()
        kinds = [kind] if kind else ["toilet", "charger", "parking"]
        if connector or min_kw is not None or available is not None:
            kinds = ["charger"]
        local_now = datetime.now(CITY_TZ).replace(tzinfo=None, second=0, microsecond=0)

        def accept(rec: AmenityRecord) -> bool:
            row = rec.row
            if wheelchair is not None and bool(row["wheelchair"]) != wheelchair:
                return False
            if baby_changing is not None and bool(row["baby_changing"]) != baby_changing:
                return False
            if free is not None and (row["fee"] is False) != free:
                return False
            if connector and connector not in rec.connectors:
                return False
            if min_kw is not None:
                power = rec.connectors.get(connector, 0.0) if connector else max(rec.connectors.values(), default=0)
                if power < min_kw:
                    return False
            return open_now is None or is_open(row["opening_hours"], local_now) == open_now

        want = limit * 3 if available is not None else limit
        filtered = any(f is not None for f in (wheelchair, baby_changing, free, open_now, min_kw)) or connector
        pool = index.candidates(kinds, near, radius_m, want, accept if filtered else None)
        live = await self._live([r.id for _, r in pool]) if available is not None else {}
        if available is not None:
            now = datetime.now(UTC)
            max_age = timedelta(seconds=get_settings().status_max_age_s)
            pool = [
                (d, r)
                for d, r in pool
                if (_charger_status(live.get(r.id, []), now, max_age) == "available") == available
            ]
        ranked, total = rank_nearest(near, [(r.point, r) for _, r in pool], radius_m, limit, [d for d, _ in pool])
        if radius_m is None:
            total = len(ranked)
        items = await self._out([rec for _, rec in ranked], [d for d, _ in ranked], lang, local_now, live or None)
        return AmenityPage(items=items, total=total)

    async def _live(self, ids: list[int]) -> dict[int, list[tuple[str, datetime | None]]]:
        live: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for e in await Evse.select(Evse.amenity, Evse.status, Evse.status_at).where(Evse.amenity.is_in(chunk)):
                live[e["amenity"]].append((e["status"], e["status_at"]))
        return live

    async def _out(
        self, recs: list[AmenityRecord], distances: list[float], lang: Lang, local_now: datetime, live: dict | None
    ) -> list[AmenityOut]:
        ids = [r.id for r in recs]
        chargers = [r.id for r in recs if r.kind == "charger"]
        parks = [r.id for r in recs if r.kind == "parking"]
        if live is None:
            live = await self._live(chargers) if chargers else {}
        spaces = {}
        if parks:
            spaces = {
                p["id"]: p
                for p in await Amenity.select(Amenity.id, Amenity.free_spaces, Amenity.free_spaces_at).where(
                    Amenity.id.is_in(parks)
                )
            }
        now = datetime.now(UTC)
        max_age = timedelta(seconds=get_settings().status_max_age_s)
        out = []
        for rec, dist in zip(recs, distances, strict=True):
            row = rec.row
            attributes: dict[str, Any]
            status = None
            if rec.kind == "toilet":
                attributes = {
                    "wheelchair": row["wheelchair"],
                    "baby_changing": row["baby_changing"],
                    "fee": row["fee"],
                    "unisex": row["unisex"],
                    "gender": row["gender"],
                }
            elif rec.kind == "charger":
                statuses = live.get(rec.id, [])
                status = _charger_status(statuses, now, max_age)
                fresh_available = sum(1 for s, at in statuses if s == "available" and at and now - at <= max_age)
                attributes = {
                    "connectors": rec.connector_counts,
                    "operator": row["operator"],
                    "fee": row["fee"],
                    "capacity": len(statuses) or sum(c["count"] for c in rec.connector_counts),
                    "available_evses": fresh_available,
                }
            else:
                attributes = {
                    "spaces": row["spaces"],
                    "coach_spaces": row["coach_spaces"],
                    "fee": row["fee"],
                    "operator": row["operator"],
                }
                live_row = spaces.get(rec.id)
                if (
                    live_row
                    and live_row["free_spaces"] is not None
                    and live_row["free_spaces_at"]
                    and now - live_row["free_spaces_at"] <= max_age
                ):
                    attributes["free_spaces"] = live_row["free_spaces"]
            out.append(
                AmenityOut(
                    id=rec.ext_id,
                    kind=rec.kind,
                    name=pick(row["name_zh"], row["name_en"], lang),
                    location=rec.point,
                    address=pick(row["address_zh"], row["address_en"], lang),
                    opening_hours=row["opening_hours"],
                    open_now=is_open(row["opening_hours"], local_now),
                    attributes=attributes,
                    distance_m=round(dist, 1),
                    status=status,
                )
            )
        assert len(ids) == len(out)
        return out

    # ---- live feeds

    async def operator_for(self, api_key: str | None) -> str:
        if not api_key:
            raise Unauthenticated("api_key_required", "send the operator's key in X-Api-Key")
        row = (
            await OperatorKey.select(OperatorKey.operator)
            .where(OperatorKey.key_sha256 == hashlib.sha256(api_key.encode()).hexdigest())
            .first()
        )
        if row is None:
            raise Unauthenticated("invalid_api_key", "unknown operator key")
        return row["operator"]

    async def status_feed(self, api_key: str | None, feed: StatusFeedIn) -> StatusFeedOut:
        operator = await self.operator_for(api_key)
        if not feed.evses and not feed.parking:
            raise InvalidInput("empty_feed", "send evses and/or parking", field="evses")
        rejected: list[str] = []
        accepted = 0
        now = datetime.now(UTC)
        for item in feed.evses:
            at = min(item.last_updated if item.last_updated.tzinfo else item.last_updated.replace(tzinfo=UTC), now)
            owned = await Evse.raw(
                "SELECT e.id FROM evses e JOIN amenities a ON a.id = e.amenity WHERE e.evse_uid = {} "
                "AND a.operator = {}",
                item.evse_uid,
                operator,
            )
            if not owned:
                rejected.append(item.evse_uid)
                continue
            # an older update never overwrites a newer one
            await Evse.update({Evse.status: OCPI_STATUS[item.status], Evse.status_at: at}).where(
                (Evse.id == owned[0]["id"]) & ((Evse.status_at.is_null()) | (Evse.status_at <= at))
            )
            accepted += 1
        for park in feed.parking:
            at = min(park.last_updated if park.last_updated.tzinfo else park.last_updated.replace(tzinfo=UTC), now)
            changed = (
                await Amenity.update({Amenity.free_spaces: park.free_spaces, Amenity.free_spaces_at: at})
                .where(
                    (Amenity.ext_id == park.id)
                    & (Amenity.kind == "parking")
                    & (Amenity.operator == operator)
                    & ((Amenity.free_spaces_at.is_null()) | (Amenity.free_spaces_at <= at))
                )
                .returning(Amenity.id)
            )
            if changed:
                accepted += 1
            elif not await Amenity.exists().where((Amenity.ext_id == park.id) & (Amenity.operator == operator)):
                rejected.append(park.id)
            else:
                accepted += 1  # known, but this update was older than what we hold
        if rejected and not accepted:
            raise Forbidden("not_your_stations", "none of these belong to this operator", rejected=rejected)
        return StatusFeedOut(accepted=accepted, rejected=rejected)

    async def create_operator_key(self, operator: str) -> str:
        key = "cxop_" + secrets.token_urlsafe(24)
        digest = hashlib.sha256(key.encode()).hexdigest()
        existing = await OperatorKey.select(OperatorKey.id).where(OperatorKey.operator == operator).first()
        if existing:
            await OperatorKey.update({OperatorKey.key_sha256: digest}).where(OperatorKey.id == existing["id"])
        else:
            await OperatorKey.insert(OperatorKey(operator=operator, key_sha256=digest))
        return key


amenities = AmenityService()


# ---- loading: content files and imports (OSM Overpass / GeoJSON, OCPI 2.2 Locations)


def _columns(kind: str, item: AmenityContent, source: str) -> dict:
    return {
        "ext_id": item.id,
        "kind": kind,
        "name_zh": item.name.zh,
        "name_en": item.name.en or item.name.zh,
        "address_zh": item.address.zh,
        "address_en": item.address.en,
        "district": item.district,
        "lat": item.location.lat,
        "lng": item.location.lng,
        "opening_hours": item.opening_hours,
        "wheelchair": item.wheelchair,
        "baby_changing": item.baby_changing,
        "fee": item.fee,
        "unisex": item.unisex,
        "gender": item.gender,
        "operator": item.operator,
        "spaces": item.spaces,
        "coach_spaces": item.coach_spaces,
        "near_venue": item.near_venue,
        "source": source,
    }


async def load_amenities(
    records: list[tuple[str, AmenityContent]], store: Store | None = None, source: str = "content"
) -> LoadReport:
    """Upsert by id; unchanged rows are not written (a re-run changes nothing)."""
    existing = {r["ext_id"]: r for r in await Amenity.select(Amenity.id, Amenity.ext_id, Amenity.content_hash)}
    created = updated = unchanged = 0
    for kind, item in records:
        if _hours(item.opening_hours) is None:
            raise ValueError(f"amenity {item.id}: opening_hours {item.opening_hours!r} is not OSM syntax")
        columns = _columns(kind, item, source)
        evses = [
            (f"{e.evse_id}" if e.count == 1 else f"{e.evse_id}-{n + 1}", e.connector, e.max_kw)
            for e in item.evses
            for n in range(e.count)
        ]
        digest = hashlib.sha256(msgspec.json.encode([columns, evses], order="sorted")).hexdigest()
        current = existing.get(item.id)
        if current is not None and current["content_hash"] == digest:
            unchanged += 1
            continue
        if current is None:
            rows = await Amenity.insert(Amenity(**columns, content_hash=digest)).returning(Amenity.id)
            amenity_id = rows[0]["id"]
            created += 1
        else:
            amenity_id = current["id"]
            values = {getattr(Amenity, k): v for k, v in columns.items()}
            values[Amenity.content_hash] = digest
            values[Amenity.updated_at] = datetime.now(UTC)
            await Amenity.update(values).where(Amenity.id == amenity_id)
            await Evse.delete().where(
                (Evse.amenity == amenity_id) & Evse.evse_uid.not_in([e[0] for e in evses] or [""])
            )
            updated += 1
        for uid, plug, kw in evses:
            await Evse.insert(Evse(amenity=amenity_id, evse_uid=uid, connector=plug, max_kw=kw)).on_conflict(
                target=Evse.evse_uid, action="DO UPDATE", values=[Evse.connector, Evse.max_kw]
            )
    if store is not None and (created or updated):
        await store.set(VERSION_KEY, str(time.time_ns()).encode())
    return LoadReport(created=created, updated=updated, unchanged=unchanged)


def parse_amenity_content(kind: str, raw: list[dict]) -> list[tuple[str, AmenityContent]]:
    out = []
    for entry in raw:
        try:
            out.append((kind, msgspec.convert(entry, AmenityContent)))
        except msgspec.ValidationError as exc:
            raise ValueError(f"{kind} {entry.get('id', '?')}: {exc}") from None
    return out


def _yes(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).lower() in {"yes", "true", "limited", "designated"}


_OSM_SOCKETS = {"gb_dc": "gbt_dc", "gb_ac": "gbt_ac", "type2": "type2", "type2_combo": "ccs2", "chademo": "chademo"}


def from_osm(elements: list[dict]) -> list[tuple[str, AmenityContent]]:
    """OSM elements (Overpass JSON `elements`, or GeoJSON features flattened to {id, lat, lon, tags})."""
    out = []
    for el in elements:
        tags = el.get("tags") or {}
        amenity = tags.get("amenity")
        kind = {"toilets": "toilet", "charging_station": "charger", "parking": "parking"}.get(amenity or "")
        lat = el.get("lat", (el.get("center") or {}).get("lat"))
        lng = el.get("lon", (el.get("center") or {}).get("lon"))
        if kind is None or lat is None or lng is None:
            continue
        name = (
            tags.get("name:zh")
            or tags.get("name")
            or {"toilet": "公共厕所", "charger": "充电站", "parking": "停车场"}[kind]
        )
        evses = []
        for key, plug in _OSM_SOCKETS.items():
            count = tags.get(f"socket:{key}")
            if count and str(count).isdigit() and int(count) > 0:
                kw = tags.get(f"socket:{key}:output", "").lower().replace("kw", "").strip()
                evses.append(
                    {
                        "evse_id": f"osm:{el.get('type', 'node')}/{el['id']}:{key}",
                        "connector": plug,
                        "max_kw": float(kw)
                        if kw.replace(".", "", 1).isdigit()
                        else (60.0 if "dc" in plug or plug == "ccs2" else 7.0),
                        "count": int(count),
                    }
                )
        entry = {
            "id": f"osm:{el.get('type', 'node')}/{el['id']}",
            "name": {"zh": name, "en": tags.get("name:en") or name},
            "location": {"lat": float(lat), "lng": float(lng)},
            "opening_hours": tags.get("opening_hours") or "24/7",
            "wheelchair": _yes(tags.get("wheelchair")),
            "baby_changing": _yes(tags.get("changing_table")),
            "fee": _yes(tags.get("fee")),
            "unisex": _yes(tags.get("unisex")),
            "operator": tags.get("operator"),
            "evses": evses,
            "spaces": int(tags["capacity"]) if str(tags.get("capacity", "")).isdigit() and kind == "parking" else None,
        }
        if _hours(entry["opening_hours"]) is None:
            entry["opening_hours"] = "24/7" if tags.get("opening_hours") in (None, "") else "off"
        out.append((kind, msgspec.convert(entry, AmenityContent)))
    return out


def geojson_to_osm(collection: dict) -> list[dict]:
    elements = []
    for feature in collection.get("features", []):
        geometry = feature.get("geometry") or {}
        if geometry.get("type") != "Point":
            continue
        lng, lat = geometry["coordinates"][:2]
        props = dict(feature.get("properties") or {})
        osm_id = str(props.pop("@id", feature.get("id", ""))).split("/")
        elements.append(
            {
                "type": osm_id[0] if len(osm_id) == 2 else "node",
                "id": osm_id[-1],
                "lat": lat,
                "lon": lng,
                "tags": props.get("tags", props),
            }
        )
    return elements


_OCPI_PLUGS = {
    "GBT_DC": "gbt_dc",
    "GBT_AC": "gbt_ac",
    "IEC_62196_T2": "type2",
    "IEC_62196_T2_COMBO": "ccs2",
    "CHADEMO": "chademo",
}


def from_ocpi(locations: list[dict]) -> list[tuple[str, AmenityContent]]:
    """OCPI 2.2 Location objects (with EVSEs and connectors; power from max_electric_power in W)."""
    out = []
    for loc in locations:
        evses = []
        for evse in loc.get("evses") or []:
            plugs = [c for c in evse.get("connectors") or [] if c.get("standard") in _OCPI_PLUGS]
            if not plugs:
                continue
            best = max(plugs, key=lambda c: c.get("max_electric_power") or 0)
            evses.append(
                {
                    "evse_id": evse.get("evse_id") or evse["uid"],
                    "connector": _OCPI_PLUGS[best["standard"]],
                    "max_kw": max(1.0, (best.get("max_electric_power") or 7000) / 1000),
                }
            )
        hours = loc.get("opening_times") or {}
        entry = {
            "id": f"ocpi:{loc.get('party_id', '')}:{loc['id']}",
            "name": {"zh": loc.get("name") or loc["id"], "en": loc.get("name") or loc["id"]},
            "location": {"lat": float(loc["coordinates"]["latitude"]), "lng": float(loc["coordinates"]["longitude"])},
            "address": {"zh": loc.get("address", ""), "en": loc.get("address", "")},
            "opening_hours": "24/7" if hours.get("twentyfourseven", True) else "Mo-Su 08:00-20:00",
            "operator": (loc.get("operator") or {}).get("name"),
            "fee": True,
            "evses": evses,
        }
        out.append(("charger", msgspec.convert(entry, AmenityContent)))
    return out
