from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import Parameter

from backend.lib import galleries
from backend.lib.auth import PUBLIC
from backend.lib.galleries import with_gallery
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page
from backend.tours.schemas import PoiOut, TourOut
from backend.tours.services import tours

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]


class TourController(Controller):
    path = "/tours"
    tags = ["tours"]
    opt = PUBLIC

    @get("/")
    async def list_tours(
        self, request: Request, limit: Limit = 20, offset: Offset = 0, lang: LangParam = None
    ) -> Page[TourOut]:
        """Published guided tours, each with its ordered stops, walking line and narration."""
        return await tours.list(request_lang(request, lang), limit=limit, offset=offset)

    @get("/{slug:str}")
    async def get_tour(self, request: Request, slug: str, lang: LangParam = None) -> TourOut:
        """One published tour."""
        chosen = request_lang(request, lang)
        out = await tours.get(slug, chosen)
        return with_gallery(out, await galleries.gallery("tours", out.slug, chosen))


class PoiController(Controller):
    path = "/pois"
    tags = ["tours"]
    opt = PUBLIC

    @get("/{poi_id:str}")
    async def get_poi(self, request: Request, poi_id: str, lang: LangParam = None) -> PoiOut:
        """A point of interest: the page a readable-building plaque's QR code opens."""
        return await tours.poi(poi_id, request_lang(request, lang))
