from __future__ import annotations

import re
from typing import Annotated, Any, cast, get_args

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK
from litestar.types import Scope

from backend.amenities.schemas import CONNECTORS, AmenityPage, Connector, Kind, StatusFeedIn, StatusFeedOut
from backend.amenities.services import amenities
from backend.lib.auth import PUBLIC
from backend.lib.fast_reads import header
from backend.lib.geo import parse_point
from backend.lib.i18n import LANGS, parse_accept_language, request_lang
from backend.lib.pagination import MAX_LIMIT, Limit
from backend.lib.problems import InvalidInput


class AmenityController(Controller):
    path = "/amenities"
    tags = ["finder"]

    @get("/", opt=PUBLIC)
    async def nearest(
        self,
        request: Request[Any, Any, State],
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
    ) -> Response[AmenityPage]:
        """The nearest toilets, chargers or car parks that fit, by geodesic distance (WGS-84)."""
        # the page comes encoded (the finder's hot read: no struct per item, encoded once; issue 22)
        page = await amenities.nearest_json(
            lang=request_lang(request, lang),
            near=parse_point(near),
            kind=kind,
            radius_m=radius_m,
            limit=limit,
            wheelchair=wheelchair,
            baby_changing=baby_changing,
            free=free,
            open_now=open_now,
            connector=connector,
            min_kw=min_kw,
            available=available,
        )
        return cast("Response[AmenityPage]", Response(page, media_type=MediaType.JSON))  # the page, encoded

    @post(
        "/status",
        opt=PUBLIC,
        status_code=HTTP_200_OK,
        raises=[NotAuthorizedException, PermissionDeniedException],  # the operator's key (X-Api-Key)
    )
    async def status(
        self, data: StatusFeedIn, api_key: Annotated[str | None, Parameter(header="X-Api-Key", required=False)] = None
    ) -> StatusFeedOut:
        """An operator's live feed: OCPI 2.2 EVSE statuses and car-park free spaces (X-Api-Key)."""
        return await amenities.status_feed(api_key, data)


# The finder's fast read (lib/fast_reads.py; issue 22): the route above, for a query it parses strictly.
# Whatever it does not vouch for (None) goes on to the route, which answers it (400s with their codes).
NEAREST_QUERY = frozenset(
    ("near", "kind", "radius_m", "limit", "wheelchair", "baby_changing", "free", "open_now")
    + ("connector", "min_kw", "available", "lang")
)
_BOOL = {"true": True, "false": False}
_FLAGS = ("wheelchair", "baby_changing", "free", "open_now", "available")
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,6})(?:\.[0-9]{1,6})?")
_WHOLE = re.compile(r"[1-9][0-9]{0,2}")
_KINDS, _CONNECTORS = frozenset(get_args(Kind)), frozenset(CONNECTORS)


def _decimal(raw: str, low: float, high: float) -> float:
    """A plain decimal in (low, high]; ValueError for anything else."""
    if not _DECIMAL.fullmatch(raw):
        raise ValueError(raw)
    value = float(raw)
    if not low < value <= high:
        raise ValueError(raw)
    return value


async def nearest_fast(scope: Scope, q: dict[str, str]) -> bytes | None:
    """The route's page for a plain query (`lib.fast_reads.plain_query`), or None: let the route answer."""
    try:
        near = parse_point(q["near"])
        flags = {name: _BOOL[q[name]] for name in _FLAGS if name in q}
        if "limit" in q and not _WHOLE.fullmatch(q["limit"]):
            return None
        limit = int(q.get("limit", 20))
        radius_m = _decimal(q["radius_m"], 0, 2_000_000) if "radius_m" in q else None
        min_kw = _decimal(q["min_kw"], -1, 1000) if "min_kw" in q else None
    except (KeyError, ValueError, InvalidInput):
        return None
    kind, connector, lang = q.get("kind"), q.get("connector"), q.get("lang")
    if not 1 <= limit <= MAX_LIMIT or (kind is not None and kind not in _KINDS):
        return None
    if (connector is not None and connector not in _CONNECTORS) or (lang is not None and lang not in LANGS):
        return None
    if lang is None:
        lang = parse_accept_language(header(scope, b"accept-language"))
    return await amenities.nearest_json(
        lang=lang, near=near, kind=kind, radius_m=radius_m, limit=limit, connector=connector, min_kw=min_kw, **flags
    )
