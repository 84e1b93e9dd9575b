from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.status_codes import HTTP_200_OK

from backend.lib.auth import PUBLIC
from backend.lib.geo import Point, parse_point
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset
from backend.search.guide import guide
from backend.search.schemas import GuideAnswer, GuideQuestion, SearchKind, SearchPage
from backend.search.services import search


class SearchController(Controller):
    path = "/search"
    tags = ["search"]
    opt = PUBLIC

    @get("/")
    async def search_everything(
        self,
        request: Request[Any, Any, State],
        q: Annotated[str | None, Parameter(description="words, pinyin (hongmei) or initials (hmgy); ≤ 200")] = None,
        near: Annotated[str | None, Parameter(description="LAT,LNG (WGS-84): adds distance_m")] = None,
        kind: SearchKind | None = None,
        limit: Limit = 20,
        offset: Offset = 0,
        lang: str | None = None,
    ) -> SearchPage:
        """Venues, events, tours, exhibitions, articles, readable buildings and amenities in one list, best
        match first."""
        point = parse_point(near) if near is not None else None
        return await search.search(q, request_lang(request, lang), near=point, kind=kind, limit=limit, offset=offset)


class GuideController(Controller):
    path = "/guide"
    tags = ["search"]
    opt = PUBLIC

    @post("/ask", status_code=HTTP_200_OK)
    async def ask(self, request: Request[Any, Any, State], data: GuideQuestion) -> GuideAnswer:
        """An answer from the city's own data and live figures, with citations; nothing found: says so."""
        near = Point(data.near.lat, data.near.lng) if data.near is not None else None
        return await guide.ask(data.question, request_lang(request, data.lang), near)
