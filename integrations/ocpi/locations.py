"""OCPI 2.2 Locations to charging places: one EVSE a charging point, its most powerful connector of a
standard we know (power from `max_electric_power` in W), opening times in OSM syntax."""

from __future__ import annotations

import msgspec

PLUGS = {
    "GBT_DC": "gbt_dc",
    "GBT_AC": "gbt_ac",
    "IEC_62196_T2": "type2",
    "IEC_62196_T2_COMBO": "ccs2",
    "CHADEMO": "chademo",
}


class OcpiEvse(msgspec.Struct, frozen=True):
    evse_id: str
    connector: str  # gbt_dc | gbt_ac | type2 | ccs2 | chademo
    max_kw: float


class OcpiLocation(msgspec.Struct, frozen=True):
    id: str  # "ocpi:<party_id>:<id>"
    name: str
    lat: float
    lng: float
    address: str
    opening_hours: str  # OSM syntax
    operator: str | None
    evses: list[OcpiEvse]


def read_locations(locations: list[dict]) -> list[OcpiLocation]:
    """OCPI 2.2 Location objects; EVSEs with no connector of a known standard are left out."""
    out = []
    for loc in locations:
        evses = []
        for evse in loc.get("evses") or []:
            plugs = [c for c in evse.get("connectors") or [] if c.get("standard") in PLUGS]
            if not plugs:
                continue
            best = max(plugs, key=lambda c: c.get("max_electric_power") or 0)
            evses.append(
                OcpiEvse(
                    evse_id=evse.get("evse_id") or evse["uid"],
                    connector=PLUGS[best["standard"]],
                    max_kw=max(1.0, (best.get("max_electric_power") or 7000) / 1000),
                )
            )
        hours = loc.get("opening_times") or {}
        out.append(
            OcpiLocation(
                id=f"ocpi:{loc.get('party_id', '')}:{loc['id']}",
                name=loc.get("name") or loc["id"],
                lat=float(loc["coordinates"]["latitude"]),
                lng=float(loc["coordinates"]["longitude"]),
                address=loc.get("address", ""),
                opening_hours="24/7" if hours.get("twentyfourseven", True) else "Mo-Su 08:00-20:00",
                operator=(loc.get("operator") or {}).get("name"),
                evses=evses,
            )
        )
    return out
