"""Loading amenities: content files (content/*.toml) and places read by integrations.osm (Overpass
JSON, GeoJSON) and integrations.ocpi (OCPI 2.2 Locations), upserted by id with their EVSEs; a re-run
changes nothing."""

from __future__ import annotations

import hashlib
import time
from typing import Any

import msgspec
from litestar.stores.base import Store

from backend.amenities.index import VERSION_KEY
from backend.amenities.schemas import AmenityContent
from backend.amenities.services import parsed_hours
from backend.amenities.tables import Amenity, Evse
from backend.lib.clock import clock
from backend.venues.schemas import LoadReport
from integrations.ocpi import OcpiLocation
from integrations.osm import OsmPlace


def _columns(kind: str, item: AmenityContent, source: str) -> dict[str, Any]:
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
        if parsed_hours(item.opening_hours) is None:
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
            values[Amenity.updated_at] = clock.now()
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


def parse_amenity_content(kind: str, raw: list[dict[str, Any]]) -> list[tuple[str, AmenityContent]]:
    out = []
    for entry in raw:
        try:
            out.append((kind, msgspec.convert(entry, AmenityContent)))
        except msgspec.ValidationError as exc:
            raise ValueError(f"{kind} {entry.get('id', '?')}: {exc}") from None
    return out


def osm_amenities(places: list[OsmPlace]) -> list[tuple[str, AmenityContent]]:
    """OpenStreetMap places (integrations.osm) as amenity content; opening hours that are not valid OSM
    syntax become "off"."""
    out = []
    for place in places:
        entry = {
            "id": place.id,
            "name": {"zh": place.name_zh, "en": place.name_en},
            "location": {"lat": place.lat, "lng": place.lng},
            "opening_hours": place.opening_hours if parsed_hours(place.opening_hours) is not None else "off",
            "wheelchair": place.wheelchair,
            "baby_changing": place.baby_changing,
            "fee": place.fee,
            "unisex": place.unisex,
            "operator": place.operator,
            "evses": [msgspec.structs.asdict(socket) for socket in place.sockets],
            "spaces": place.spaces,
        }
        out.append((place.kind, msgspec.convert(entry, AmenityContent)))
    return out


def ocpi_amenities(locations: list[OcpiLocation]) -> list[tuple[str, AmenityContent]]:
    """OCPI locations (integrations.ocpi) as charger content; charging is never free."""
    out = []
    for loc in locations:
        entry = {
            "id": loc.id,
            "name": {"zh": loc.name, "en": loc.name},
            "location": {"lat": loc.lat, "lng": loc.lng},
            "address": {"zh": loc.address, "en": loc.address},
            "opening_hours": loc.opening_hours,
            "operator": loc.operator,
            "fee": True,
            "evses": [msgspec.structs.asdict(evse) for evse in loc.evses],
        }
        out.append(("charger", msgspec.convert(entry, AmenityContent)))
    return out
