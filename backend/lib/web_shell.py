"""The web shell around the API: the PWA's files (hashed assets cached for a year, the shell never), its
client-side routes answered with the shell, and content/media with `Range` for players."""

from __future__ import annotations

import html
import logging
import mimetypes
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.static_files import create_static_files_router

from backend.lib.auth import PUBLIC
from backend.lib.byte_ranges import media_files
from backend.lib.problems import http_to_problem

log = logging.getLogger("changxiang")

NON_APP_PREFIXES = ("/api/", "/schema", "/healthz", "/readyz", "/metrics", "/assets/", "/media/", "/tiles/", "/iiif/")


# The widths every /media/ picture is served in (/media/w/{width}/…; media/pictures.py makes them), as the
# PWA names them in `srcset` (pwa/src/pictures.js).
PICTURE_WIDTHS = (320, 640, 960, 1280)
_MEDIA_PICTURE = re.compile(r"^/media/(?!w/)([A-Za-z0-9._~/-]+\.(?:webp|png|jpe?g))\Z", re.IGNORECASE)


def picture_preload(url: str, sizes: str) -> str:
    """`<link rel=preload>` for the picture a screen shows first (its largest paint), with the same `srcset`
    and `sizes` as its <img>, so the browser fetches it with the page instead of after the script and the API
    call that name it. '' for anything that is not a /media/ picture."""
    m = _MEDIA_PICTURE.match(url or "")
    if not m:
        return ""
    srcset = ", ".join(f"/media/w/{w}/{m[1]} {w}w" for w in PICTURE_WIDTHS)
    return (
        f'<link rel="preload" as="image" href="{html.escape(url)}" imagesrcset="{html.escape(srcset)}" '
        f'imagesizes="{html.escape(sizes)}" fetchpriority="high">'
    )


class Shell:
    """The app shell (pwa/dist/index.html), read once per build, answered with extra `<head>` lines where a
    route knows what its screen will fetch first."""

    def __init__(self, index: Path) -> None:
        self.index = index
        self._cached: tuple[float, str] | None = None

    def _text(self) -> str | None:
        try:
            mtime = self.index.stat().st_mtime
        except OSError:
            return None
        if self._cached is None or self._cached[0] != mtime:
            self._cached = (mtime, self.index.read_text(encoding="utf-8"))
        return self._cached[1]

    def response(self, head: str = "") -> Response[Any] | None:
        text = self._text()
        if text is None:
            return None
        if head:
            text = text.replace("</head>", f"  {head}\n  </head>", 1)
        return Response(text, media_type="text/html", headers={"Cache-Control": "no-cache"})


def spa_fallback(shell: Shell) -> Callable[[Request[Any, Any, Any], NotFoundException], Response[Any]]:
    """Client-side routes (`/venues/x`) get the app shell; API and asset misses stay problem+json."""

    def handler(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
        path = request.url.path
        last = path.rsplit("/", 1)[-1]
        if request.method in ("GET", "HEAD") and not path.startswith(NON_APP_PREFIXES) and "." not in last:
            page = shell.response()
            if page is not None:
                return page
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
