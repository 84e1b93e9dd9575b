from __future__ import annotations

from typing import Annotated, Any, cast

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.enums import MediaType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from backend.amenities.schemas import AmenityPage, Connector, Kind, StatusFeedIn, StatusFeedOut
from backend.amenities.services import amenities
from backend.lib.auth import PUBLIC
from backend.lib.geo import parse_point
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit


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
