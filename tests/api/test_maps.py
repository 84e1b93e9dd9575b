"""The basemap (issue 21): GET /config says where tiles come from (CHANGXIANG_MAP_TILES, or our sketch basemap at
/tiles/) and in which datum; the sketch tiles are PNGs of Changzhou's water drawn off the event loop; a provider
on another origin joins the Content-Security-Policy's img-src; the tile stand-in serves the same tiles."""

from __future__ import annotations

import io

import httpx
import msgspec
import pytest
from PIL import Image

from backend.lib.client_config import client_config, tile_image_source
from backend.lib.security_headers import app_headers
from backend.settings import get_settings
from integrations.tiles import lat_lng_to_pixel, render_tile
from integrations.tiles.standin import TileStandIn

pytestmark = pytest.mark.anyio


def tile_of(lat: float, lng: float, z: int) -> tuple[int, int]:
    px, py = lat_lng_to_pixel(lat, lng, z)
    return int(px // 256), int(py // 256)


async def test_config_says_sketch_tiles_test_payments_and_phone_sign_in(client):
    res = await client.get("/api/v1/config")
    assert res.status_code == 200 and "max-age" in res.headers["cache-control"]
    body = res.json()
    assert body["map"] == {
        "tiles": "/tiles/{z}/{x}/{y}{r}.png",
        "subdomains": "",
        "coords": "wgs84",
        "attribution": "示意底图 Sketch map · 常享",
        "min_zoom": 3,
        "max_zoom": 18,
        "sketch": True,
    }
    assert body["payments"] == {"mode": "test"}  # the suite's Stripe keys are sk_test_
    assert body["phone_sign_in"] is True


async def test_sketch_tiles_are_pngs_with_the_citys_water(client):
    x, y = tile_of(31.7705, 119.955, 14)  # the Grand Canal in the old town
    res = await client.get(f"/tiles/14/{x}/{y}.png")
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    assert "max-age=86400" in res.headers["cache-control"]
    image = Image.open(io.BytesIO(res.content)).convert("RGB")
    assert image.size == (256, 256)
    colours = {image.getpixel((i, j)) for i in range(0, 256, 4) for j in range(0, 256, 4)}
    assert any(b > r + 20 for r, _g, b in colours)  # some water (blue over red)
    far = Image.open(io.BytesIO(render_tile(14, *tile_of(31.86, 120.30, 14)))).convert("RGB")
    assert not any(b > r + 20 for r, _g, b in far.getdata())  # dry land: no water drawn


async def test_a_2x_tile_is_the_same_map_at_twice_the_pixels(client):
    """Phones ask for `{y}@2x.png` (Leaflet's {r}): 512 px of the same place, so the map is sharp on a screen of
    more than one pixel per point (Lighthouse: image-size-responsive)."""
    x, y = tile_of(31.7705, 119.955, 14)
    res = await client.get(f"/tiles/14/{x}/{y}@2x.png")
    assert res.status_code == 200 and res.headers["content-type"] == "image/png"
    sharp = Image.open(io.BytesIO(res.content)).convert("RGB")
    plain = Image.open(io.BytesIO((await client.get(f"/tiles/14/{x}/{y}.png")).content)).convert("RGB")
    assert sharp.size == (512, 512) and plain.size == (256, 256)
    same = sharp.resize((256, 256), Image.Resampling.BOX)
    pairs = zip(same.getdata(), plain.getdata(), strict=True)
    diff = sum(abs(a - b) for p, q in pairs for a, b in zip(p, q, strict=True))
    assert diff / (256 * 256 * 3) < 12  # the same drawing (palettes are quantised separately)


@pytest.mark.parametrize(
    "path",
    [
        "/tiles/12/3420/1660@3x.png",
        "/tiles/2/0/0.png",
        "/tiles/19/0/0.png",
        "/tiles/12/5000/1660.png",
        "/tiles/12/3420/x.png",
        "/tiles/12/1/1.jpg",
    ],
)
async def test_what_is_no_tile_is_404_not_the_app(client, path):
    res = await client.get(path)
    assert res.status_code == 404 and res.headers["content-type"].startswith("application/problem+json")


def test_a_configured_provider_is_in_the_config_and_the_csp():
    settings = msgspec.structs.replace(
        get_settings(),
        map_tiles="https://t{s}.tianditu.gov.cn/DataServer?T=vec_w&x={x}&y={y}&l={z}&tk=KEY",
        map_subdomains="01234567",
        map_attribution="天地图 Tianditu",
    )
    config = client_config(settings)
    assert config.map.tiles.startswith("https://t{s}.tianditu.gov.cn/") and config.map.sketch is False
    assert config.map.coords == "wgs84"  # CGCS2000: within a metre of WGS-84
    assert tile_image_source(settings) == "https://*.tianditu.gov.cn"
    csp = dict(app_headers(settings))[b"content-security-policy"].decode()
    assert "img-src 'self' data: blob: https://*.tianditu.gov.cn;" in csp
    assert "connect-src 'self';" in csp  # images only: nothing else may reach the provider

    amap = msgspec.structs.replace(settings, map_tiles="https://tiles.example.cn/{z}/{x}/{y}.png", map_coords="gcj02")
    assert client_config(amap).map.coords == "gcj02"
    assert tile_image_source(amap) == "https://tiles.example.cn"
    assert tile_image_source(get_settings()) is None  # the sketch is same-origin


def test_the_tile_standin_serves_and_counts():
    standin = TileStandIn()
    standin.start()
    try:
        x, y = tile_of(31.78, 119.95, 12)
        res = httpx.get(standin.template.format(z=12, x=x, y=y))
        assert res.status_code == 200 and res.content == render_tile(12, x, y)
        assert httpx.get(f"{standin.base_url}/30/0/0.png").status_code == 404
        assert standin.requests == [(12, x, y)]
    finally:
        standin.stop()
