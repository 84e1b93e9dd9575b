"""Cloud exhibitions over HTTP. Everything here is public and readable from any origin
(`Access-Control-Allow-Origin: *`, preflight answered): IIIF viewers on other sites load our Manifests."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, route
from litestar.datastructures import ResponseHeader
from litestar.params import Parameter

from backend.exhibitions.schemas import ExhibitionOut
from backend.exhibitions.services import exhibitions
from backend.lib import galleries
from backend.lib.auth import PUBLIC
from backend.lib.galleries import with_gallery
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page

LangParam = Annotated[str | None, Parameter(description="zh or en (default: Accept-Language, then zh)")]
IIIF_MEDIA_TYPE = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'
CORS_HEADERS = [
    ResponseHeader(name="Access-Control-Allow-Origin", value="*"),
    ResponseHeader(name="Access-Control-Expose-Headers", value="Content-Type, Content-Length"),
]


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def preflight(request: Request) -> Response[None]:
    """CORS preflight: any origin may GET these resources, without credentials."""
    asked = request.headers.get("access-control-request-headers")
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Max-Age": "86400",
    }
    if asked:
        headers["Access-Control-Allow-Headers"] = asked
    if request.headers.get("access-control-request-private-network") == "true":  # Chromium's Private Network Access
        headers["Access-Control-Allow-Private-Network"] = "true"
    return Response(None, status_code=204, headers=headers)


class ExhibitionController(Controller):
    path = "/exhibitions"
    tags = ["exhibitions"]
    opt = PUBLIC
    response_headers = CORS_HEADERS

    @get("/")
    async def list_exhibitions(
        self, request: Request, limit: Limit = 20, offset: Offset = 0, lang: LangParam = None
    ) -> Page[ExhibitionOut]:
        """Published cloud exhibitions (云看展), each with the URL of its IIIF Manifest."""
        return await exhibitions.list(request_lang(request, lang), base_url(request), limit=limit, offset=offset)

    @get("/{slug:str}")
    async def get_exhibition(self, request: Request, slug: str, lang: LangParam = None) -> ExhibitionOut:
        """One published exhibition with its items (label, date, commentary, image size, audio)."""
        chosen = request_lang(request, lang)
        out = await exhibitions.get(slug, chosen, base_url(request))
        return with_gallery(out, await galleries.gallery("exhibitions", out.slug, chosen))

    @get("/{slug:str}/manifest.json")
    async def get_manifest(self, request: Request, slug: str) -> Response[dict[str, Any]]:
        """The exhibition as a IIIF Presentation 3.0 Manifest (both languages as language maps)."""
        manifest = await exhibitions.manifest(slug, base_url(request))
        return Response(manifest, media_type=IIIF_MEDIA_TYPE, headers={"Cache-Control": "public, max-age=300"})

    @route(["/", "/{slug:str}", "/{slug:str}/manifest.json"], http_method="OPTIONS", include_in_schema=False)
    async def cors_preflight(self, request: Request) -> Response[None]:
        return preflight(request)
