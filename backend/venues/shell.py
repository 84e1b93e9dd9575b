"""A venue's page (`/venues/{slug}`) is the app shell, with its hero picture preloaded: the picture is the
page's largest paint, and without the hint the browser learns its URL only after the script and the venue's
API call (issue 21: Lighthouse performance on the venue page)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, head
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler

from backend.lib.auth import PUBLIC
from backend.lib.problems import DomainError
from backend.lib.web_shell import Shell, picture_preload
from backend.venues.services import catalog


def venue_page_routes(shell: Shell) -> list[HTTPRouteHandler]:
    @get("/venues/{slug:str}", include_in_schema=False, opt=PUBLIC, name="venue_page")
    async def venue_page(slug: str) -> Response[Any]:
        head = ""
        try:
            record = await catalog.record(slug)
        except DomainError:  # the catalogue's store is down: the page still loads, without the hint
            record = None
        images = list(record.row.get("images") or []) if record else []
        if images:
            head = picture_preload(str(images[0]), "100vw")  # VenueThumb `big`: the hero spans the screen
        page = shell.response(head)
        if page is None:
            raise NotFoundException()
        return page

    @head("/venues/{slug:str}", include_in_schema=False, opt=PUBLIC, name="venue_page_head")
    async def venue_page_head(slug: str) -> Response[None]:
        """What the shell's GET would say, without it (link checkers, and the fallback answered HEAD before)."""
        if shell.response() is None:
            raise NotFoundException()
        return Response(None, media_type="text/html", headers={"Cache-Control": "no-cache"})

    return [venue_page, venue_page_head]
