"""What the phone app needs to know about this deployment, from settings only: `GET /api/v1/config`.

- `map`: where the basemap's tiles come from (CHANGXIANG_MAP_TILES, an XYZ template; unset: the sketch basemap
  this app draws at `/tiles/{z}/{x}/{y}.png`, integrations/tiles), the datum they are drawn in (`gcj02`: the
  app converts every WGS-84 position with the GCJ-02 transform before placing it), attribution and zooms;
- `payments.mode`: `live`, `test` (Stripe test keys or the bundled stand-in: the app says no real money
  moves) or `off` (no keys: the pay button explains);
- `phone_sign_in`: whether `POST /auth/sms-code` can send (an SMS provider, or development's console).

Also the Content-Security-Policy's extra image source: a tile provider on another origin
(`tile_image_source`), added by lib/security_headers.py.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import Request, Response, get
from litestar.datastructures import State

from backend.lib.auth import PUBLIC
from backend.settings import Settings

SKETCH_TILES = "/tiles/{z}/{x}/{y}{r}.png"  # {r}: Leaflet's "@2x" on a screen of more than one pixel per point
SKETCH_ATTRIBUTION = "示意底图 Sketch map · 常享"
SKETCH_MAX_ZOOM = 18


class MapConfig(msgspec.Struct):
    tiles: str  # an XYZ template: {z}, {x}, {y}, and {s} for one of `subdomains`
    subdomains: str
    coords: Literal["wgs84", "gcj02"]
    attribution: str
    min_zoom: int
    max_zoom: int
    sketch: bool  # our own sketch basemap (no provider configured): water and a grid, no streets


class PaymentsConfig(msgspec.Struct):
    mode: Literal["live", "test", "off"]


class ClientConfig(msgspec.Struct):
    map: MapConfig
    payments: PaymentsConfig
    phone_sign_in: bool


def payments_mode(settings: Settings) -> Literal["live", "test", "off"]:
    key = settings.stripe_secret_key
    if not key or not settings.stripe_webhook_secret:
        return "off"
    return "test" if key.startswith(("sk_test_", "rk_test_")) else "live"


def client_config(settings: Settings) -> ClientConfig:
    coords: Literal["wgs84", "gcj02"] = "gcj02" if settings.map_coords == "gcj02" else "wgs84"
    if settings.map_tiles:
        tiles = MapConfig(
            tiles=settings.map_tiles,
            subdomains=settings.map_subdomains,
            coords=coords,
            attribution=settings.map_attribution,
            min_zoom=3,
            max_zoom=settings.map_max_zoom,
            sketch=False,
        )
    else:
        tiles = MapConfig(
            tiles=SKETCH_TILES,
            subdomains="",
            coords="wgs84",
            attribution=SKETCH_ATTRIBUTION,
            min_zoom=3,
            max_zoom=SKETCH_MAX_ZOOM,
            sketch=True,
        )
    return ClientConfig(
        map=tiles,
        payments=PaymentsConfig(mode=payments_mode(settings)),
        phone_sign_in=bool(settings.sms_api_url or settings.dev),
    )


def tile_image_source(settings: Settings) -> str | None:
    """The CSP source for a tile provider on another origin (`https://*.tianditu.gov.cn` for a template with
    `{s}` in its host), or None when tiles are this app's own."""
    template = settings.map_tiles
    if not template or template.startswith("/"):
        return None
    parts = urlsplit(template.replace("{s}", "s"))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.netloc
    raw_host = urlsplit(template).netloc
    if "{s}" in raw_host:
        host = "*." + host.split(".", 1)[1] if "." in host else host
    return f"{parts.scheme}://{host}"


@get("/config", opt=PUBLIC, tags=["ops"], sync_to_thread=False)
def get_client_config(request: Request[Any, Any, State]) -> Response[ClientConfig]:
    """This deployment as the phone app needs it: the basemap's tile source and datum, whether payments run
    live, in test mode or not at all, whether phone sign-in can send codes."""
    return Response(client_config(request.app.state.settings), headers={"Cache-Control": "public, max-age=300"})
