"""The web shell around the API: the PWA's files (hashed assets cached for a year, the shell never), its
client-side routes answered with the shell, and content/media with `Range` for players."""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.response import File
from litestar.static_files import create_static_files_router

from backend.lib.auth import PUBLIC
from backend.lib.byte_ranges import media_files
from backend.lib.problems import http_to_problem

log = logging.getLogger("changxiang")

NON_APP_PREFIXES = ("/api/", "/schema", "/healthz", "/readyz", "/metrics", "/assets/", "/media/", "/tiles/")


def spa_fallback(index: Path) -> Callable[[Request[Any, Any, Any], NotFoundException], Response[Any]]:
    """Client-side routes (`/venues/x`) get the app shell; API and asset misses stay problem+json."""

    def handler(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
        path = request.url.path
        last = path.rsplit("/", 1)[-1]
        if (
            request.method in ("GET", "HEAD")
            and index.is_file()
            and not path.startswith(NON_APP_PREFIXES)
            and "." not in last
        ):
            return File(
                index, content_disposition_type="inline", media_type="text/html", headers={"Cache-Control": "no-cache"}
            )
        return http_to_problem(exc).to_response(request)

    return handler


mimetypes.add_type("audio/ogg", ".opus")  # Ogg Opus tour narration (content/make_audio.py)


def media_routes(content_dir: Path) -> list[Any]:
    """content/media (tour audio, exhibition images) as static files at /media, answering `Range` (206) so
    players can seek; any site may load them (IIIF viewers)."""
    media = content_dir / "media"
    if not media.is_dir():
        return []
    return [media_files("/media", media, "media", {"Access-Control-Allow-Origin": "*"}, max_age=86_400)]


def pwa_routes(dist: Path) -> list[Any]:
    if not (dist / "index.html").is_file():
        log.warning("PWA build missing at %s: run `make pwa`", dist)
        return []
    routes: list[Any] = []
    if (dist / "assets").is_dir():
        routes.append(
            create_static_files_router(
                path="/assets",
                directories=[dist / "assets"],
                opt=PUBLIC,
                include_in_schema=False,
                cache_control=CacheControlHeader(public=True, max_age=31_536_000, immutable=True),
                name="pwa_assets",
            )
        )
    routes.append(
        create_static_files_router(
            path="/",
            directories=[dist],
            html_mode=True,
            opt=PUBLIC,
            include_in_schema=False,
            name="pwa",
            cache_control=CacheControlHeader(no_cache=True),
        )
    )
    return routes
