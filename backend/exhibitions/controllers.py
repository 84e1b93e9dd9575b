"""Cloud exhibitions over HTTP. Everything here is public and readable from any origin
(`Access-Control-Allow-Origin: *`, preflight answered): IIIF viewers on other sites load our Manifests."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, route
from litestar.datastructures import ResponseHeader
from litestar.params import Parameter
from litestar.plugins.problem_details import ProblemDetailsException
from litestar.response import File, Redirect

from backend.exhibitions import image_service
from backend.exhibitions.schemas import ExhibitionOut
from backend.exhibitions.services import exhibitions
from backend.lib import galleries
from backend.lib.auth import PUBLIC
from backend.lib.galleries import with_gallery
from backend.lib.i18n import request_lang
from backend.lib.pagination import Limit, Offset, Page
from backend.lib.problems import DomainError, problem
from backend.settings import Settings

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


IMAGE_JSON_LD = f'application/ld+json;profile="{image_service.IMAGE_CONTEXT}"'
IMAGE_HEADERS = {
    "Cache-Control": "public, max-age=2592000",  # 30 days: a picture is replaced under a new item key
    "Access-Control-Allow-Origin": "*",
    "Link": f'<{image_service.PROTOCOL}/3/{image_service.PROFILE}.json>;rel="profile"',
}


def _iiif_problem(exc: DomainError) -> ProblemDetailsException:
    """A refusal of the image service, readable by viewers on any origin."""
    return problem(exc.status, exc.code, exc.detail, headers={"Access-Control-Allow-Origin": "*"})


class ImageServiceController(Controller):
    """The IIIF Image API 3.0 (level 1) over the exhibitions' pictures (backend/exhibitions/image_service.py):
    not a JSON API of ours, so outside the OpenAPI schema; docs/exhibitions.md describes it."""

    path = "/iiif"
    opt = PUBLIC
    include_in_schema = False

    @get("/{identifier:str}")
    async def base_uri(self, identifier: str) -> Redirect:
        """The image's base URI redirects to its info.json (§2.2)."""
        return Redirect(f"/iiif/{quote(identifier, safe='~')}/info.json", status_code=303)

    @get("/{identifier:str}/info.json")
    async def info(self, request: Request, identifier: str) -> Response[dict[str, Any]]:
        """What the image is and which tiles and sizes it is served in."""
        settings: Settings = request.app.state.settings
        try:
            src = image_service.source_of(settings.content_dir, identifier)
            width, height = await image_service.size_of(src)
        except DomainError as exc:
            raise _iiif_problem(exc) from None
        json_ld = "application/ld+json" in request.headers.get("accept", "")
        return Response(
            image_service.info(base_url(request), identifier, width, height),
            media_type=IMAGE_JSON_LD if json_ld else "application/json",
            headers={**IMAGE_HEADERS, "Cache-Control": "public, max-age=86400"},
        )

    @get("/{identifier:str}/{region:str}/{size:str}/{rotation:str}/{filename:str}")
    async def image(
        self, request: Request, identifier: str, region: str, size: str, rotation: str, filename: str
    ) -> Response[Any]:
        """One region of the image at one size: a tile, a thumbnail or the whole picture."""
        settings: Settings = request.app.state.settings
        try:
            src = image_service.source_of(settings.content_dir, identifier)
            width, height = await image_service.size_of(src)
            wanted = image_service.parse_request(region, size, rotation, filename, width, height)
        except DomainError as exc:
            raise _iiif_problem(exc) from None
        found = await image_service.image(src, identifier, wanted, settings.media_cache_dir)
        media_type = image_service.FORMATS[wanted.format]
        if isinstance(found, bytes):
            return Response(found, media_type=media_type, headers=IMAGE_HEADERS)
        return File(found, content_disposition_type="inline", media_type=media_type, headers=IMAGE_HEADERS)

    @route(
        ["/{identifier:str}/info.json", "/{identifier:str}/{region:str}/{size:str}/{rotation:str}/{filename:str}"],
        http_method="OPTIONS",
    )
    async def cors_preflight(self, request: Request) -> Response[None]:
        return preflight(request)
