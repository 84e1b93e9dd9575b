from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from backend.lib.auth import PUBLIC
from backend.lib.i18n import request_lang
from backend.opendata.schemas import CatalogueOut
from backend.opendata.services import opendata

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]


class OpenDataController(Controller):
    path = "/opendata"
    tags = ["open data"]
    opt = PUBLIC

    @get("/")
    async def catalogue(self, request: Request, lang: LangParam = None) -> Response[CatalogueOut]:
        """The catalogue (DCAT-style): every dataset with its licence, update frequency and formats."""
        base = str(request.base_url).rstrip("/") + "/api/v1/opendata"
        return Response(
            opendata.catalogue(request_lang(request, lang), base), headers={"Cache-Control": "public, max-age=300"}
        )

    @get("/{file:str}", media_type="application/octet-stream")
    async def dataset(self, request: Request, file: str, lang: LangParam = None) -> Response[bytes]:
        """One dataset: `venues.json`, `amenities.csv`, `daily_visitors.geojson`, ..."""
        name, _, ext = file.rpartition(".")
        body, media = await opendata.export(name, ext, request_lang(request, lang))
        return Response(
            body,
            media_type=media,
            headers={
                "Cache-Control": "public, max-age=60",
                "Content-Disposition": f'inline; filename="{file}"',
                "Access-Control-Allow-Origin": "*",
            },
        )
