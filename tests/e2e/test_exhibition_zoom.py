"""Deep zoom (issue 21) end to end, in Debian's Chromium under the server's real Content-Security-Policy, on a
390×844 phone: an exhibition's object opens in OpenSeadragon (loaded only then), which reads the picture's IIIF
info.json and asks the server for tiles; the + button zooms in and the tiles come at a finer scale factor. The
viewer's buttons are 44 px targets labelled in both languages, and it works in large-text mode.

The zoom test's phone draws one CSS pixel per device pixel: the exhibitions' pictures are 960 px wide, so a
phone of pixel ratio 2 needs the full-resolution tiles already for the whole picture, and zooming in would ask
for nothing finer (the other tests use the usual ratio 2).

Run: `.venv/bin/pytest -m e2e tests/e2e/test_exhibition_zoom.py`. CX_SCREENSHOTS=<dir> also saves the screens.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")
EXHIBITION = "needle-and-paper"
FULL_WIDTH = 960  # the exhibitions' pictures (content/media/exhibitions)
TILE = re.compile(r"/iiif/([a-z0-9-]+~[a-z0-9-]+)/([^/]+)/([^/]+)/0/default\.(jpg|webp)$")


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


def scale_factor(url: str) -> float | None:
    """The scale factor of an image request: the region's width over the size's."""
    m = TILE.search(url.split("?")[0])
    if m is None:
        return None
    region, size = m[2], m[3]
    region_w = FULL_WIDTH if region == "full" else int(region.split(",")[2])
    size_w = int(size.split(",")[0]) if size[0].isdigit() else region_w
    return region_w / size_w


async def open_phone(browser, base: str, *, lang: str = "zh", large: bool = False, scale: int = 2) -> Phone:
    phone = await Phone(base).start(browser, strict_csp=True, device_scale_factor=scale)
    phone.tiles = []
    phone.infos = []

    def seen(response) -> None:
        if "/iiif/" in response.url:
            (phone.infos if response.url.endswith("/info.json") else phone.tiles).append(
                (response.url, response.status)
            )

    phone.page.on("response", seen)
    await phone.open("/")
    await phone.page.evaluate(
        f"localStorage.setItem('cx.lang', '{lang}'); localStorage.setItem('cx.largeText', '{1 if large else 0}')"
    )
    return phone


async def settle(phone: Phone, at_least: int = 1) -> None:
    """Until the viewer has asked for tiles and no new one came for a moment (no eval under the strict policy)."""
    last, quiet = -1, 0
    for _ in range(100):
        count = len(phone.tiles)
        quiet = quiet + 1 if count == last and count >= at_least else 0
        if quiet >= 4:
            return
        last = count
        await phone.page.wait_for_timeout(150)


async def open_viewer(phone: Phone, item: int = 0) -> None:
    page = phone.page
    await phone.open(f"/exhibitions/{EXHIBITION}")
    await page.get_by_test_id("gallery-image").nth(item).click()
    await page.get_by_test_id("zoom-viewer").wait_for()
    await page.locator("[data-testid=zoom-stage][data-ready=true]").wait_for()
    await settle(phone)


async def check_buttons(phone: Phone, labels: dict[str, str], min_px: float) -> None:
    for testid, label in labels.items():
        button = phone.page.get_by_test_id(testid)
        assert await button.get_attribute("aria-label") == label
        box = await button.bounding_box()
        assert box["width"] >= min_px and box["height"] >= min_px, (testid, box)


async def test_an_object_opens_in_deep_zoom_and_plus_fetches_finer_tiles(browser, live_server_url) -> None:
    phone = await open_phone(browser, live_server_url, scale=1)
    page = phone.page
    try:
        await phone.open(f"/exhibitions/{EXHIBITION}")
        await page.get_by_test_id("gallery-image").first.wait_for()
        scripts_before = await page.evaluate(
            "performance.getEntriesByType('resource').map(e => e.name).filter(n => /openseadragon/i.test(n))"
        )
        assert not scripts_before, "OpenSeadragon is loaded before the viewer opens"
        await open_viewer(phone)
        assert [status for _url, status in phone.infos] and all(s == 200 for _u, s in phone.infos)
        assert phone.tiles and all(status == 200 for _url, status in phone.tiles)
        before = {scale_factor(url) for url, _ in phone.tiles} - {None}
        assert before, phone.tiles
        finest_before = min(before)
        await check_buttons(
            phone,
            {"zoom-in": "放大", "zoom-out": "缩小", "zoom-home": "复原", "zoom-close": "关闭"},
            44,
        )
        assert await page.get_by_role("dialog").get_attribute("aria-label") == "放大查看：" + (
            await page.get_by_test_id("zoom-viewer").locator(".dz__label").inner_text()
        )
        await shot(phone, "exhibition-zoom-zh")
        asked = len(phone.tiles)
        await page.get_by_test_id("zoom-in").click()
        await page.wait_for_timeout(700)
        await page.get_by_test_id("zoom-in").click()
        await settle(phone, asked + 1)
        after = [scale_factor(url) for url, _ in phone.tiles[asked:]]
        assert any(sf is not None and sf < finest_before for sf in after), (finest_before, after)
        assert all(status == 200 for _url, status in phone.tiles)
        await shot(phone, "exhibition-zoomed-in-zh")
        await page.get_by_test_id("zoom-home").click()
        await page.get_by_test_id("zoom-out").click()
        await page.get_by_test_id("zoom-close").click()
        await page.get_by_test_id("zoom-viewer").wait_for(state="detached")
        await page.get_by_test_id("gallery-position").wait_for()
        assert not phone.errors, phone.errors
    finally:
        await phone.context.close()


async def test_the_viewer_in_english_and_escape_closes_it(browser, live_server_url) -> None:
    phone = await open_phone(browser, live_server_url, lang="en")
    page = phone.page
    try:
        await open_viewer(phone, item=2)
        await check_buttons(
            phone,
            {"zoom-in": "Zoom in", "zoom-out": "Zoom out", "zoom-home": "Whole picture", "zoom-close": "Close"},
            44,
        )
        assert "Pinch or double-tap" in await page.get_by_test_id("zoom-viewer").inner_text()
        await shot(phone, "exhibition-zoom-en")
        assert await page.locator("#app[inert]").count() == 1  # the page behind takes no focus or taps
        for _ in range(6):  # Tab goes round the viewer's controls
            await page.keyboard.press("Tab")
            assert await page.locator("[data-testid=zoom-viewer]:focus-within").count() == 1
        await page.keyboard.press("Escape")
        await page.get_by_test_id("zoom-viewer").wait_for(state="detached")
        assert await page.locator("#app[inert]").count() == 0
        assert not phone.errors, phone.errors
    finally:
        await phone.context.close()


async def test_the_viewer_in_large_text_mode(browser, live_server_url) -> None:
    phone = await open_phone(browser, live_server_url, large=True)
    page = phone.page
    try:
        await open_viewer(phone, item=1)
        assert "cx-large" in await phone.html("className")
        await check_buttons(phone, {"zoom-in": "放大", "zoom-close": "关闭"}, 56)
        stage = await page.get_by_test_id("zoom-stage").bounding_box()
        assert stage["height"] >= 500  # the picture keeps most of the screen
        await page.get_by_test_id("zoom-in").click()
        await settle(phone)
        await shot(phone, "exhibition-zoom-large")
        assert not phone.errors, phone.errors
    finally:
        await phone.context.close()
