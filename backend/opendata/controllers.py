from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter
from litestar.response import Stream

from backend.lib.auth import PUBLIC
from backend.lib.i18n import request_lang
from backend.opendata.crowd_levels import FEED_MAX_AGE_S, CrowdFeed, crowd_feed
from backend.opendata.schemas import CatalogueOut
from backend.opendata.services import opendata

CHUNK = 64 * 1024


def _chunks(body: bytes) -> Iterator[bytes]:
    """A large file goes out in slices, so the compression middleware gzips it a slice at a time and
    other requests (and /healthz) are served between the slices instead of waiting for the whole."""
    view = memoryview(body)
    for start in range(0, len(body), CHUNK):
        yield bytes(view[start : start + CHUNK])


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
    async def dataset(self, request: Request, file: str, lang: LangParam = None) -> Stream:
        """One dataset: `venues.json`, `amenities.csv`, `daily_visitors.geojson`, ..."""
        name, _, ext = file.rpartition(".")
        body, media = await opendata.export(name, ext, request_lang(request, lang))
        return Stream(
            _chunks(body),
            media_type=media,
            headers={
                "content-type": media,  # a Stream's own media_type gives way to the route's
                "Cache-Control": "public, max-age=60",
                "Content-Disposition": f'inline; filename="{file}"',
                "Access-Control-Allow-Origin": "*",
            },
        )


class CrowdFeedController(Controller):
    """The small feed map apps poll (issue 19): every venue's comfort level now and for the next hours."""

    path = "/opendata/feeds"
    tags = ["open data"]
    opt = PUBLIC

    @get(
        "/crowd-levels",
        media_type="application/json",
        responses={
            200: ResponseSpec(data_container=CrowdFeed, description="The levels", generate_examples=False),
            304: ResponseSpec(data_container=None, description="Not modified since the ETag sent in If-None-Match"),
        },
    )
    async def crowd_levels(self, request: Request, lang: LangParam = None) -> Response[bytes]:
        """Comfort levels (LB/T 034) per venue: now, the next hours' forecast and when today calms down;
        WGS-84 and GCJ-02. Poll it: `Cache-Control: max-age=60`, and `If-None-Match` with the `ETag` gets a
        304 while nothing changed."""
        body, etag = await crowd_feed.feed(request_lang(request, lang))
        headers = {
            "Cache-Control": f"public, max-age={FEED_MAX_AGE_S}",
            "ETag": etag,
            "Access-Control-Allow-Origin": "*",
            "Vary": "Accept-Language",
        }
        wanted = request.headers.get("if-none-match", "")
        if etag in {tag.strip() for tag in wanted.split(",")} or wanted.strip() == "*":
            return Response(b"", status_code=304, headers=headers)
        return Response(body, headers=headers)
