"""CAP 1.2 alerts (OASIS Common Alerting Protocol, as profiled by China's GB/T 35965.1), parsed safely.

`parse_cap(xml)` reads the XML with defusedxml (no entity expansion, no external entities, no DTDs),
checks the elements the profile requires and returns a plain `CapAlert`; anything else raises
`CapInvalid` naming what is wrong. `CapArea.contains(lat, lng)` says whether a point lies in the
area's polygons or circles (WGS-84, CAP's "lat,lon" pairs); geocodes are matched by the caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

NS = "urn:oasis:names:tc:emergency:cap:1.2"
STATUS = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPE = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPE = {"Public", "Restricted", "Private"}
URGENCY = {"Immediate", "Expected", "Future", "Past", "Unknown"}
SEVERITY = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
CERTAINTY = {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
MAX_BYTES = 512 * 1024
EARTH_RADIUS_KM = 6371.0088


class CapInvalid(ValueError):
    def __init__(self, field_name: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field_name
        self.detail = detail


@dataclass(frozen=True)
class CapArea:
    description: str
    polygons: list[list[tuple[float, float]]] = field(default_factory=list)  # [(lat, lng), ...]
    circles: list[tuple[float, float, float]] = field(default_factory=list)  # (lat, lng, radius_km)
    geocodes: list[tuple[str, str]] = field(default_factory=list)  # (valueName, value)

    def contains(self, lat: float, lng: float) -> bool:
        for lat0, lng0, radius_km in self.circles:
            if _haversine_km(lat, lng, lat0, lng0) <= radius_km:
                return True
        return any(_in_polygon(lat, lng, ring) for ring in self.polygons)


@dataclass(frozen=True)
class CapInfo:
    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str
    description: str
    instruction: str
    sender_name: str
    effective: datetime | None
    expires: datetime | None
    areas: list[CapArea]
    categories: tuple[str, ...] = ()  # CAP <category>s: Met (weather), Safety, Fire, Health, ...


@dataclass(frozen=True)
class CapAlert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: str
    infos: list[CapInfo]

    def info(self, lang: str = "zh") -> CapInfo:
        """The info block in `lang` (zh-CN, en-US, ...), else the first."""
        for info in self.infos:
            if info.language.lower().startswith(lang):
                return info
        return self.infos[0]


def _haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _in_polygon(lat: float, lng: float, ring: list[tuple[float, float]]) -> bool:
    """Even-odd ray casting on the plane (fine at a city's scale, away from the poles and the antimeridian)."""
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        yi, xi = ring[i]
        yj, xj = ring[j]
        if (yi > lat) != (yj > lat) and lng < (xj - xi) * (lat - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def _text(parent: Element, name: str, required: bool = False, where: str = "alert") -> str:
    el = parent.find(f"{{{NS}}}{name}")
    value = (el.text or "").strip() if el is not None else ""
    if required and not value:
        raise CapInvalid(f"{where}.{name}", f"<{name}> is required in <{where}>")
    return value


def _choice(parent: Element, name: str, allowed: set[str], where: str) -> str:
    value = _text(parent, name, True, where)
    if value not in allowed:
        raise CapInvalid(f"{where}.{name}", f"<{name}> must be one of {', '.join(sorted(allowed))}")
    return value


def _time(value: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise CapInvalid(where, f"{where} must be a CAP date-time like 2026-07-01T14:00:00+08:00") from None
    if parsed.tzinfo is None:
        raise CapInvalid(where, f"{where} needs a time-zone offset")
    return parsed


def _pair(raw: str, where: str) -> tuple[float, float]:
    try:
        lat_s, lng_s = raw.split(",")
        lat, lng = float(lat_s), float(lng_s)
    except ValueError:
        raise CapInvalid(where, f"{where}: {raw!r} is not a lat,lon pair") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or not (math.isfinite(lat) and math.isfinite(lng)):
        raise CapInvalid(where, f"{where}: {raw!r} is outside -90..90, -180..180")
    return lat, lng


def _area(el: Element) -> CapArea:
    polygons, circles, geocodes = [], [], []
    for poly in el.findall(f"{{{NS}}}polygon"):
        ring = [_pair(p, "area.polygon") for p in (poly.text or "").split()]
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise CapInvalid("area.polygon", "a polygon needs at least 4 pairs, the first equal to the last")
        polygons.append(ring)
    for circle in el.findall(f"{{{NS}}}circle"):
        parts = (circle.text or "").split()
        if len(parts) != 2:
            raise CapInvalid("area.circle", "a circle is 'lat,lon radius_km'")
        lat, lng = _pair(parts[0], "area.circle")
        try:
            radius = float(parts[1])
        except ValueError:
            raise CapInvalid("area.circle", "the circle's radius must be a number of km") from None
        if not (0 <= radius <= 20000) or not math.isfinite(radius):
            raise CapInvalid("area.circle", "the circle's radius must be 0..20000 km")
        circles.append((lat, lng, radius))
    for geo in el.findall(f"{{{NS}}}geocode"):
        name, value = _text(geo, "valueName", True, "geocode"), _text(geo, "value", True, "geocode")
        geocodes.append((name, value))
    if not (polygons or circles or geocodes):
        raise CapInvalid("area", "an <area> needs a <polygon>, <circle> or <geocode>")
    return CapArea(_text(el, "areaDesc", True, "area"), polygons, circles, geocodes)


def _info(el: Element) -> CapInfo:
    where = "info"
    if el.find(f"{{{NS}}}category") is None:
        raise CapInvalid("info.category", "<category> is required in <info>")
    areas = [_area(a) for a in el.findall(f"{{{NS}}}area")]
    if not areas:
        raise CapInvalid("info.area", "an <info> needs at least one <area>")
    effective, expires = _text(el, "effective"), _text(el, "expires")
    return CapInfo(
        language=_text(el, "language") or "en-US",
        event=_text(el, "event", True, where),
        urgency=_choice(el, "urgency", URGENCY, where),
        severity=_choice(el, "severity", SEVERITY, where),
        certainty=_choice(el, "certainty", CERTAINTY, where),
        headline=_text(el, "headline"),
        description=_text(el, "description"),
        instruction=_text(el, "instruction"),
        sender_name=_text(el, "senderName"),
        effective=_time(effective, "info.effective") if effective else None,
        expires=_time(expires, "info.expires") if expires else None,
        areas=areas,
        categories=tuple(c.text.strip() for c in el.findall(f"{{{NS}}}category") if c.text and c.text.strip()),
    )


def parse_cap(xml: bytes | str) -> CapAlert:
    if isinstance(xml, str):
        xml = xml.encode()
    if len(xml) > MAX_BYTES:
        raise CapInvalid("body", f"a CAP alert may be at most {MAX_BYTES} bytes")
    try:
        root = SafeET.fromstring(xml, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise CapInvalid("body", f"refused XML construct: {type(exc).__name__}") from None
    except SafeET.ParseError as exc:
        raise CapInvalid("body", f"not well-formed XML: {exc}") from None
    if root.tag != f"{{{NS}}}alert":
        raise CapInvalid("alert", f'the root element must be <alert xmlns="{NS}">')
    infos = [_info(i) for i in root.findall(f"{{{NS}}}info")]
    if not infos:
        raise CapInvalid("alert.info", "an alert needs at least one <info>")
    return CapAlert(
        identifier=_text(root, "identifier", True),
        sender=_text(root, "sender", True),
        sent=_time(_text(root, "sent", True), "alert.sent"),
        status=_choice(root, "status", STATUS, "alert"),
        msg_type=_choice(root, "msgType", MSG_TYPE, "alert"),
        scope=_choice(root, "scope", SCOPE, "alert"),
        references=_text(root, "references"),
        infos=infos,
    )
