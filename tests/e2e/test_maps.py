"""The basemap end to end (issue 21), in Debian's Chromium under the server's real Content-Security-Policy: a
server configured with a tile provider (CHANGXIANG_MAP_TILES, here the local stand-in) draws nearby, the venue
page, a tour and the governance dashboard on that provider's tiles, and asks nothing of any other host; without one,
the app's own sketch tiles. No test reaches the internet.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_maps.py`. CX_SCREENSHOTS=<dir> also saves the screens.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from integrations.tiles.standin import TileStandIn
from tests.e2e.conftest import Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")
CENTRE = {"latitude": 31.7795, "longitude": 119.9561}


@pytest.fixture(scope="module")
def tiles():
    standin = TileStandIn()
    standin.start()
    yield standin
    standin.stop()


@pytest.fixture(scope="module")
def mapped_server(e2e_deployment, tiles):
    """A second server of the end-to-end deployment whose basemap is the stand-in provider."""
    server = e2e_deployment.start_server(
        "e2e-mapped", CHANGXIANG_MAP_TILES=tiles.template, CHANGXIANG_MAP_ATTRIBUTION="Stand-in tiles"
    )
    yield server.url
    server.stop()


async def open_phone(browser, base: str, **context) -> Phone:
    phone = await Phone(base).start(browser, strict_csp=True)
    if context:
        await phone.context.grant_permissions(["geolocation"], origin=base)
        await phone.context.set_geolocation(context["geolocation"])
    return phone


def hosts_asked(phone: Phone) -> set[str]:
    return {urlsplit(u).netloc for u in phone.asked}


async def watch_requests(phone: Phone) -> None:
    phone.asked = []
    phone.page.on("request", lambda r: phone.asked.append(r.url) if r.url.startswith("http") else None)


async def test_maps_draw_the_configured_providers_tiles_and_ask_no_one_else(browser, mapped_server, tiles):
    phone = await open_phone(browser, mapped_server, geolocation=CENTRE)
    await watch_requests(phone)
    try:
        before = len(tiles.requests)
        await phone.open("/nearby?kind=toilet")
        page = phone.page
        await page.locator("[data-testid=finder-map] img.leaflet-tile-loaded").first.wait_for()
        for _ in range(50):  # the screen's tiles arrive one by one (no eval under the strict policy)
            if await page.locator("[data-testid=finder-map] img.leaflet-tile-loaded").count() >= 4:
                break
            await page.wait_for_timeout(200)
        assert await page.locator("[data-testid=finder-map] img.leaflet-tile-loaded").count() >= 4
        assert len(tiles.requests) > before  # the provider was asked for tiles
        assert all(10 <= z <= 18 for z, _x, _y in tiles.requests[before:])
        src = await page.locator("[data-testid=finder-map] img.leaflet-tile").first.get_attribute("src")
        assert src.startswith(tiles.base_url + "/")
        assert "Stand-in tiles" in await page.locator(".leaflet-control-attribution").inner_text()
        await page.get_by_test_id("marker").first.wait_for()
        if SHOTS:
            await page.screenshot(path=str(Path(SHOTS) / "map-nearby-standin.png"))

        await phone.open("/venues/changzhou-museum")
        small = page.get_by_test_id("venue-map")
        await small.wait_for(state="attached")
        # under the fold: no map code or tiles with the page (Lighthouse), the map comes when scrolled near
        assert await small.locator("img.leaflet-tile").count() == 0
        await small.scroll_into_view_if_needed()
        await small.locator("img.leaflet-tile-loaded").first.wait_for()
        assert await small.get_by_test_id("marker").count() == 1

        await phone.open("/tours/qingguo-lane-walk")  # the walking line and the numbered stops on the tiles
        tour_map = page.locator(".tour__map")
        await tour_map.locator("img.leaflet-tile-loaded").first.wait_for()
        await tour_map.locator("path.leaflet-interactive, svg path").first.wait_for()
        stops = await tour_map.get_by_test_id("marker").count()
        groups = await tour_map.get_by_test_id("map-cluster").all()
        clustered = sum([int(await c.get_attribute("data-count")) for c in groups])
        assert stops + clustered == 5

        gov = await live_account(mapped_server, "governance")
        await phone.context.add_cookies([{"name": "cx_token", "value": gov["token"], "url": mapped_server}])
        await phone.page.evaluate("localStorage.setItem('cx.signedIn', '1')")
        await phone.open("/gov")
        await page.locator("[data-testid=gov-map] img.leaflet-tile-loaded").first.wait_for()
        await page.get_by_test_id("gov-marker").first.wait_for()
        if SHOTS:
            await page.get_by_test_id("gov-map").scroll_into_view_if_needed()
            await page.screenshot(path=str(Path(SHOTS) / "map-gov-standin.png"))

        assert hosts_asked(phone) <= {urlsplit(mapped_server).netloc, urlsplit(tiles.base_url).netloc}
        assert not phone.errors, phone.errors  # the policy let the provider's images in, and nothing failed
    finally:
        await phone.context.close()


async def test_without_a_provider_the_app_draws_its_own_sketch_tiles(browser, live_server_url):
    phone = await open_phone(browser, live_server_url, geolocation=CENTRE)
    await watch_requests(phone)
    try:
        await phone.open("/nearby?kind=toilet")
        tile = phone.page.locator("[data-testid=finder-map] img.leaflet-tile-loaded").first
        await tile.wait_for()
        assert (await tile.get_attribute("src")).startswith("/tiles/")  # the app's own origin
        region = phone.page.get_by_test_id("finder-map").locator("[role=region]")
        assert await region.get_attribute("data-sketch") == "1"
        assert hosts_asked(phone) == {urlsplit(live_server_url).netloc}
        assert not phone.errors, phone.errors
    finally:
        await phone.context.close()
