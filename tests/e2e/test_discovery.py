"""Discovery and pictures in the phone app (issue 21), end to end in Debian's Chromium on the real server: home
leads with what is open now and calmest (GET /venues?sort=calm, open ones first) and what is on until the end
of the weekend, each with its picture; the venue list sorts by distance from the visitor and says how far each
is; venue pages show the venue's picture (marked as an illustration) at a size the screen needs.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_discovery.py`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.e2e.conftest import Phone

SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:  # Playwright creates the folder
        await phone.page.screenshot(path=str(Path(SHOTS) / f"discovery-{name}.png"), full_page=False)


pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CENTRE = {"latitude": 31.7795, "longitude": 119.9561}


async def loaded_images(page, selector: str) -> int:
    return await page.evaluate(
        f"[...document.querySelectorAll({selector!r})].filter(i => i.complete && i.naturalWidth > 0).length"
    )


async def test_home_leads_with_open_calm_places_and_whats_on(phone: Phone) -> None:
    page = phone.page
    async with page.expect_response(lambda r: "/api/v1/venues?" in r.url and "sort=calm" in r.url) as answer:
        await phone.open("/")
    venues = (await (await answer.value).json())["items"]
    featured = page.get_by_test_id("home-featured").get_by_test_id("venue-card")
    await featured.first.wait_for()
    section = page.get_by_test_id("home-featured")
    names = [await n.inner_text() for n in await section.get_by_test_id("venue-name").all()]
    open_now = [v["name"] for v in venues if v["live"]["status"] != "closed"]
    hint = await page.get_by_test_id("home-calm-hint").inner_text()
    if open_now:
        assert names == open_now[:4]  # the calmest of those open now, in the server's order
        assert re.search(r"\d+", hint)
    else:
        assert names == [v["name"] for v in venues[:4]] and "关门" in hint
    await page.get_by_test_id("home-upcoming").locator("a").first.wait_for()  # a standing series runs every week
    await page.wait_for_load_state("networkidle")
    assert await loaded_images(page, "[data-testid=home-featured] img") == len(names)
    srcs = await page.eval_on_selector_all("[data-testid=home-featured] img", "els => els.map(e => e.currentSrc)")
    assert all("/media/w/320/illustrations/venues/" in s for s in srcs), srcs  # the small size for a 92 px tile
    assert not phone.errors, phone.errors
    await shot(phone, "home-zh")


async def test_the_venue_list_sorts_by_distance_and_shows_it(browser, live_server_url) -> None:
    phone = await Phone(live_server_url).start(browser)
    try:
        await phone.context.grant_permissions(["geolocation"], origin=live_server_url)
        await phone.context.set_geolocation(CENTRE)
        await phone.open("/venues")
        page = phone.page
        await page.get_by_test_id("venue-card").first.wait_for()
        async with page.expect_response(lambda r: "/api/v1/venues?" in r.url and "sort=distance" in r.url) as res:
            await page.get_by_test_id("sort-distance").click()
        items = (await (await res.value).json())["items"]
        distances = [v["distance_m"] for v in items]
        assert distances == sorted(distances) and len(distances) == 20
        assert await page.get_by_test_id("sort-distance").get_attribute("aria-pressed") == "true"
        await page.wait_for_load_state("networkidle")
        first = page.get_by_test_id("venue-card").first
        assert await first.get_by_test_id("venue-name").inner_text() == items[0]["name"]
        assert re.search(r"距您 \d+ m|距您 \d+(\.\d)? km", await first.inner_text())
        assert not phone.errors, phone.errors
        await shot(phone, "venues-zh")
        if SHOTS:  # the same list in English, then in large text
            for key, value, name in (("cx.lang", "en", "venues-en"), ("cx.largeText", "1", "venues-large")):
                await page.evaluate(f"localStorage.setItem('{key}', '{value}')")
                await page.reload()
                await page.get_by_test_id("venue-card").first.wait_for()
                await page.wait_for_load_state("networkidle")
                await shot(phone, name)
    finally:
        await phone.context.close()


async def test_a_venue_page_shows_its_picture_marked_as_an_illustration(phone: Phone) -> None:
    await phone.open("/venues/tianning-pagoda")
    page = phone.page
    hero = page.locator(".detail__hero img")
    await hero.wait_for()
    await page.wait_for_load_state("networkidle")
    assert await loaded_images(page, ".detail__hero img") == 1
    assert "插画" in (await hero.get_attribute("alt"))
    assert "/media/w/" in await hero.evaluate("i => i.currentSrc")  # a responsive size, not the original
    assert await page.locator(".detail__hero .thumb__mark").inner_text() == "插画"
    await shot(phone, "venue-zh")
