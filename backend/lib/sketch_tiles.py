"""The sketch basemap's tiles, served by the app itself when no tile provider is configured (integrations/tiles,
docs/decisions.md "Maps"): `GET /tiles/{z}/{x}/{y}.png`, drawn with Pillow off the event loop (lib/offload) and
kept by the browser for a day."""

from __future__ import annotations

import re

from litestar import Response, get
from litestar.exceptions import NotFoundException

from backend.lib import offload
from backend.lib.auth import PUBLIC
from integrations.tiles import render_tile, valid_tile

_Y = re.compile(r"^(\d{1,7})(@2x)?\.png$")


@get("/tiles/{z:int}/{x:int}/{y:str}", opt=PUBLIC, include_in_schema=False, name="sketch_tile")
async def sketch_tile(z: int, x: int, y: str) -> Response[bytes]:
    """One 256×256 PNG tile of the sketch basemap (Web Mercator XYZ), or 512×512 as `{y}@2x.png`."""
    found = _Y.match(y)
    if found is None or not valid_tile(z, x, int(found.group(1))):
        raise NotFoundException("no such tile")
    body = await offload.cpu(render_tile, z, x, int(found.group(1)), 2 if found.group(2) else 1)
    return Response(body, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"})
