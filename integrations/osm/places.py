"""OSM elements to places: the tags we read (`amenity`, names, `opening_hours`, `wheelchair`,
`changing_table`, `fee`, `unisex`, `operator`, `capacity`, `socket:*`) and what they become."""

from __future__ import annotations

from typing import Any

import msgspec

KINDS = {"toilets": "toilet", "charging_station": "charger", "parking": "parking"}
DEFAULT_NAMES = {"toilet": "公共厕所", "charger": "充电站", "parking": "停车场"}
SOCKETS = {"gb_dc": "gbt_dc", "gb_ac": "gbt_ac", "type2": "type2", "type2_combo": "ccs2", "chademo": "chademo"}


class OsmSocket(msgspec.Struct, frozen=True):
    """`count` charging points of one socket type (`socket:<key>=<count>`, `socket:<key>:output`)."""

    evse_id: str
    connector: str  # gbt_dc | gbt_ac | type2 | ccs2 | chademo
    max_kw: float
    count: int


class OsmPlace(msgspec.Struct, frozen=True):
    kind: str  # toilet | charger | parking
    id: str  # "osm:<type>/<id>"
    name_zh: str
    name_en: str
    lat: float
    lng: float
    opening_hours: str  # the tag as given (OSM syntax, unchecked), "24/7" when absent
    wheelchair: bool | None
    baby_changing: bool | None
    fee: bool | None
    unisex: bool | None
    operator: str | None
    spaces: int | None
    sockets: list[OsmSocket]


def _yes(value: Any) -> bool | None:
    if value is None:
        return None
    return str(value).lower() in {"yes", "true", "limited", "designated"}


def read_elements(elements: list[dict]) -> list[OsmPlace]:
    """OSM elements (Overpass JSON `elements`, or GeoJSON features flattened to {id, lat, lon, tags});
    elements that are none of our kinds, or have no position, are skipped."""
    out = []
    for el in elements:
        tags = el.get("tags") or {}
        amenity = tags.get("amenity")
        kind = KINDS.get(amenity or "")
        lat = el.get("lat", (el.get("center") or {}).get("lat"))
        lng = el.get("lon", (el.get("center") or {}).get("lon"))
        if kind is None or lat is None or lng is None:
            continue
        name = tags.get("name:zh") or tags.get("name") or DEFAULT_NAMES[kind]
        sockets = []
        for key, plug in SOCKETS.items():
            count = tags.get(f"socket:{key}")
            if count and str(count).isdigit() and int(count) > 0:
                kw = tags.get(f"socket:{key}:output", "").lower().replace("kw", "").strip()
                sockets.append(
                    OsmSocket(
                        evse_id=f"osm:{el.get('type', 'node')}/{el['id']}:{key}",
                        connector=plug,
                        max_kw=float(kw)
                        if kw.replace(".", "", 1).isdigit()
                        else (60.0 if "dc" in plug or plug == "ccs2" else 7.0),
                        count=int(count),
                    )
                )
        out.append(
            OsmPlace(
                kind=kind,
                id=f"osm:{el.get('type', 'node')}/{el['id']}",
                name_zh=name,
                name_en=tags.get("name:en") or name,
                lat=float(lat),
                lng=float(lng),
                opening_hours=tags.get("opening_hours") or "24/7",
                wheelchair=_yes(tags.get("wheelchair")),
                baby_changing=_yes(tags.get("changing_table")),
                fee=_yes(tags.get("fee")),
                unisex=_yes(tags.get("unisex")),
                operator=tags.get("operator"),
                spaces=int(tags["capacity"]) if str(tags.get("capacity", "")).isdigit() and kind == "parking" else None,
                sockets=sockets,
            )
        )
    return out


def geojson_to_elements(collection: dict) -> list[dict]:
    """A GeoJSON FeatureCollection (as overpass-turbo or osmtogeojson export it) flattened to OSM
    elements; only Point features are kept."""
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
