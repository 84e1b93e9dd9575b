"""Toilets, chargers and car parks: the nearest that fit, fast at city and country scale; operators'
live status feeds. Loading content files and imported places is `backend.amenities.loading`.

The nearest are found through the per-process grid index (`backend.amenities.index`): it hands over
the candidates from the rings of cells around the point, which are ranked here by the spherical
distance, with exact WGS-84 geodesics only where the order is still open (`backend.lib.geo.rank_nearest`).
Cost grows with the answer, not with the data. Live status (EVSE status, free spaces) is read from the
database for the answer only.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from opening_hours import OpeningHours, ParserError  # type: ignore[attr-defined]  # the stub omits ParserError; the extension has it

from backend.amenities.index import AmenityRecord
from backend.amenities.index import index as index  # re-exported: app.py builds and starts it
from backend.amenities.schemas import (
    AmenityOut,
    AmenityPage,
    StatusFeedIn,
    StatusFeedOut,
)
from backend.amenities.tables import Amenity, Evse, OperatorKey
from backend.lib.clock import clock
from backend.lib.geo import Point, distance_m, rank_nearest
from backend.lib.i18n import Lang, pick
from backend.lib.problems import Forbidden, InvalidInput, Unauthenticated
from backend.settings import get_settings

log = logging.getLogger("changxiang.amenities")

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


_hours_cache: dict[str, OpeningHours | None] = {}


def parsed_hours(text: str) -> OpeningHours | None:
    """The OSM `opening_hours` text parsed (cached per text), or None when it is not OSM syntax."""
    if text not in _hours_cache:
        try:
            _hours_cache[text] = OpeningHours(text)
        except ParserError:
            _hours_cache[text] = None
    return _hours_cache[text]


def is_open(text: str, local_naive: datetime) -> bool:
    hours = parsed_hours(text)
    return bool(hours and hours.is_open(local_naive))


_open_at: tuple[datetime | None, dict[str, bool]] = (None, {})  # the last minute asked, and its answers


def open_now_at(local_naive: datetime) -> Callable[[str], bool]:
    """`is_open` at one moment (a minute), asked once per opening-hours text for every answer of that
    minute: places share a handful of texts, and a busy minute brings thousands of answers."""
    global _open_at
    if _open_at[0] != local_naive:
        _open_at = (local_naive, {})
    known = _open_at[1]

    def open_now(text: str) -> bool:
        answer = known.get(text)
        if answer is None:
            answer = known[text] = is_open(text, local_naive)
        return answer

    return open_now


# Up to this many places, each place's template is kept once made (a city's few thousand: answers cost no
# construction). Past it (a country's index), templates are made per answer and dropped with it: kept,
# they would pile up by the hundred thousand in the collector's oldest generation, and each full
# collection would walk them all while every request waits (issue 22; lib/heap.py).
KEEP_TEMPLATES_UP_TO = 20_000


def _template(rec: AmenityRecord, lang: Lang) -> AmenityOut:
    """The parts of a place's answer that never change, in `lang` (a toilet's attributes too: nothing of
    it is live); kept on the place while the index is city-sized (`KEEP_TEMPLATES_UP_TO`)."""
    row = rec.row
    attributes: dict[str, Any] = {}
    if rec.kind == "toilet":
        attributes = {
            "wheelchair": row["wheelchair"],
            "baby_changing": row["baby_changing"],
            "fee": row["fee"],
            "unisex": row["unisex"],
            "gender": row["gender"],
        }
    template = AmenityOut(
        id=rec.ext_id,
        kind=rec.kind,
        name=pick(row["name_zh"], row["name_en"], lang),
        location=rec.point,
        address=pick(row["address_zh"], row["address_en"], lang),
        opening_hours=row["opening_hours"],
        open_now=False,
        attributes=attributes,
    )
    if len(index.records) <= KEEP_TEMPLATES_UP_TO:
        rec.templates[lang] = template
    return template


_encode = msgspec.json.Encoder().encode
_OPEN_NOW = b'"open_now":'


def _toilet_json(rec: AmenityRecord, lang: Lang, open_now: Callable[[str], bool], distance_m: float) -> bytes:
    """A toilet's answer as JSON, exactly as `msgspec` encodes its `AmenityOut`: the place's fragments
    in `lang` (made once and kept on the place: bytes, which the collector never scans, so they are kept
    at country scale too) around its open-now flag and its distance."""
    fragments = rec.templates.get(("json", lang))
    if fragments is None:
        whole = _encode(_template(rec, lang))  # open_now false; no distance, no status: the end is `}`
        at = whole.index(b"," + _OPEN_NOW + b"false,") + 1 + len(_OPEN_NOW)
        fragments = rec.templates[("json", lang)] = (
            whole[:at],
            whole[at + len(b"false") : -1] + b',"distance_m":',
            rec.row["opening_hours"],  # beside the fragments: one place in memory less to visit per answer
        )
    head, tail, hours = fragments
    # `%.1f` writes what msgspec writes for `round(distance_m, 1)`: both round the exact value correctly
    return b"%b%b%b%.1f}" % (head, b"true" if open_now(hours) else b"false", tail, distance_m)


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
    async def nearest(self, *, lang: Lang, **query: Any) -> AmenityPage:
        """The nearest places that fit (`_find`'s query), as the page's struct."""
        ranked, total, live, local_now = await self._find(**query)
        items = await self._out([rec for _, rec in ranked], [d for d, _ in ranked], lang, local_now, live)
        return AmenityPage(items=items, total=total)

    async def nearest_json(self, *, lang: Lang, **query: Any) -> bytes:
        """The same page as `nearest`, as its JSON (the API's answer): a toilet's answer is spliced from
        its place's encoded fragments (`_toilet_json`), so the hot read builds no struct per item and the
        page is encoded once, here; chargers and car parks, which carry live status, go through `_out`."""
        ranked, total, live, local_now = await self._find(**query)
        others = [(d, rec) for d, rec in ranked if rec.kind != "toilet"]
        structs = iter(
            await self._out([rec for _, rec in others], [d for d, _ in others], lang, local_now, live) if others else ()
        )
        open_now = open_now_at(local_now)
        parts = [
            _toilet_json(rec, lang, open_now, dist) if rec.kind == "toilet" else _encode(next(structs))
            for dist, rec in ranked
        ]
        return b'{"items":[%b],"total":%d}' % (b",".join(parts), total)

    async def _find(
        self,
        *,
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
    ) -> tuple[list[tuple[float, AmenityRecord]], int, dict[int, list[tuple[str, datetime | None]]] | None, datetime]:
        """(the places ranked nearest first with their geodesic distances, the total, the live EVSE
        statuses read for the filter or None, the city's local time to the minute)."""
        if (connector or min_kw is not None or available is not None) and kind not in (None, "charger"):
            raise InvalidInput(
                "filter_needs_charger", "connector, min_kw and available are for kind=charger", field="kind"
            )
        await index.refresh()
        kinds = [kind] if kind else ["toilet", "charger", "parking"]
        if connector or min_kw is not None or available is not None:
            kinds = ["charger"]
        local_now = clock.city_minute()

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
        filtered = bool(connector) or (wheelchair, baby_changing, free, open_now, min_kw) != (None,) * 5
        pool = index.candidates(kinds, near, radius_m, want, accept if filtered else None)
        live = await self._live([r.id for _, r in pool]) if available is not None else {}
        if available is not None:
            now = clock.now()
            max_age = timedelta(seconds=get_settings().status_max_age_s)
            pool = [
                (d, r)
                for d, r in pool
                if (_charger_status(live.get(r.id, []), now, max_age) == "available") == available
            ]
        if radius_m is None and available is None:  # the index handed over only places that can still rank
            exact = sorted([(distance_m(near, r.point), i) for i, (_, r) in enumerate(pool)])
            return [(d, pool[i][1]) for d, i in exact[:limit]], min(limit, len(exact)), None, local_now
        ranked, total = rank_nearest(near, [(r.point, r) for _, r in pool], radius_m, limit, [d for d, _ in pool])
        if radius_m is None:
            total = len(ranked)
        return ranked, total, live or None, local_now

    async def _live(self, ids: list[int]) -> dict[int, list[tuple[str, datetime | None]]]:
        live: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for e in await Evse.select(Evse.amenity, Evse.status, Evse.status_at).where(Evse.amenity.is_in(chunk)):
                live[e["amenity"]].append((e["status"], e["status_at"]))
        return live

    async def _out(
        self,
        recs: list[AmenityRecord],
        distances: list[float],
        lang: Lang,
        local_now: datetime,
        live: dict[int, list[tuple[str, datetime | None]]] | None,
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
        now = clock.now()
        max_age = timedelta(seconds=get_settings().status_max_age_s)
        out = []
        open_now_of = open_now_at(local_now)
        for rec, dist in zip(recs, distances, strict=True):
            row = rec.row
            template = rec.templates.get(lang) or _template(rec, lang)
            open_now = open_now_of(row["opening_hours"])
            if rec.kind == "toilet":  # nothing live: the template's attributes are the answer's
                out.append(msgspec.structs.replace(template, open_now=open_now, distance_m=round(dist, 1)))
                continue
            attributes: dict[str, Any]
            status = None
            if rec.kind == "charger":
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
                msgspec.structs.replace(
                    template, open_now=open_now, attributes=attributes, distance_m=round(dist, 1), status=status
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
        operator: str = row["operator"]
        return operator

    async def status_feed(self, api_key: str | None, feed: StatusFeedIn) -> StatusFeedOut:
        operator = await self.operator_for(api_key)
        if not feed.evses and not feed.parking:
            raise InvalidInput("empty_feed", "send evses and/or parking", field="evses")
        rejected: list[str] = []
        accepted = 0
        now = clock.now()
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
