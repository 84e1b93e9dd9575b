from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import Parameter

from backend.lib import galleries
from backend.lib.auth import PUBLIC
from backend.lib.galleries import with_gallery
from backend.lib.geo import parse_point
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page
from backend.venues.schemas import Category, District, VenueOut, VenueSort
from backend.venues.services import catalog

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]


class VenueController(Controller):
    path = "/venues"
    tags = ["venues"]
    opt = PUBLIC

    @get("/")
    async def list_venues(
        self,
        request: Request[Any, Any, State],
        category: Category | None = None,
        district: District | None = None,
        q: Annotated[str | None, Parameter(max_length=100, description="text in name, address or tags")] = None,
        near: Annotated[str | None, Parameter(description="LAT,LNG (WGS-84): nearest first")] = None,
        radius_m: Annotated[float | None, Parameter(gt=0, le=1_000_000, description="with near")] = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: LangParam = None,
        sort: Annotated[
            VenueSort | None,
            Parameter(description="distance (needs near), popular (most visitors lately), calm (calmest now)"),
        ] = None,
    ) -> Page[VenueOut]:
        """Venues of the city, filtered; with `near`, ordered by geodesic distance unless `sort` says otherwise."""
        point = parse_point(near) if near is not None else None
        return await catalog.list(
            lang=request_lang(request, lang),
            category=category,
            district=district,
            q=q,
            near=point,
            radius_m=radius_m,
            limit=limit,
            offset=offset,
            sort=sort,
        )

    @get("/{slug:str}")
    async def get_venue(self, request: Request[Any, Any, State], slug: str, lang: LangParam = None) -> VenueOut:
        """One venue, with its live status."""
        chosen = request_lang(request, lang)
        out = await catalog.get(slug, chosen)
        return with_gallery(out, await galleries.gallery("venues", out.slug, chosen))
