"""Search and the guide in the phone app, end to end in Debian's Chromium on the real server: the home
search box searches everything (pinyin initials find 红梅公园, results grouped by kind, a tap opens the
place), and the guide, asked "附近哪里有无障碍厕所" at a Changzhou location, answers with cited, real
toilets — the same the finder lists — whose citation links open them.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e/test_guide_search.py`.
Set CX_SCREENSHOTS=<dir> to also save screenshots (zh, en).
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CENTRE = {"latitude": 31.7795, "longitude": 119.9561}
SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)


async def test_home_search_finds_everything_by_pinyin_initials(phone: Phone) -> None:
    page = phone.page
    await phone.open("/")
    box = page.locator("#home-search")
    await box.fill("hmgy")
    await box.press("Enter")
    await page.wait_for_url("**/search?q=hmgy")
    first = page.get_by_test_id("search-hit").first
    await first.wait_for()
    assert (await first.locator(".search-hit__title").inner_text()) == "红梅公园"
    groups = page.get_by_test_id("search-group")
    assert "场馆景点" in await groups.first.inner_text()
    await shot(phone, "search-zh")
    await first.click()
    await page.wait_for_url("**/venues/hongmei-park")
    assert not phone.errors, phone.errors


async def test_the_guide_cites_real_accessible_toilets_near_the_visitor(phone: Phone, live_server_url: str) -> None:
    page = phone.page
    await phone.context.grant_permissions(["geolocation"])
    await phone.context.set_geolocation(CENTRE)
    await phone.open("/guide")
    await page.get_by_test_id("guide-input").fill("附近哪里有无障碍厕所")
    await page.get_by_role("checkbox").check()
    async with page.expect_response(lambda r: "/api/v1/guide/ask" in r.url) as asked:
        await page.get_by_test_id("guide-ask").click()
    assert (await asked.value).ok
    cards = page.get_by_test_id("guide-citation")
    await cards.first.wait_for()
    shown = [await cards.nth(i).locator(".guide__ctitle").inner_text() for i in range(await cards.count())]
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        finder = await http.get(
            "/api/v1/amenities",
            params={
                "near": f"{CENTRE['latitude']},{CENTRE['longitude']}",
                "kind": "toilet",
                "wheelchair": "true",
                "limit": 3,
            },
        )
    names = [i["name"] for i in finder.json()["items"]]
    assert [s.split("\n")[0] for s in shown] == names
    answer = await page.get_by_test_id("guide-answer").inner_text()
    assert names[0] in answer and "米" in answer
    assert await page.locator(".guide__cite").count() >= 1  # [1] in the answer links to its source
    await shot(phone, "guide-zh")
    await cards.first.click()
    await page.wait_for_url("**/nearby?kind=toilet")
    assert not phone.errors, phone.errors


async def test_the_guide_in_english_says_when_it_knows_nothing(phone: Phone) -> None:
    page = phone.page
    await phone.open("/")
    await page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await phone.open("/guide")
    await page.get_by_test_id("guide-input").fill("How does a quantum computer work?")
    await page.get_by_test_id("guide-ask").click()
    answer = page.get_by_test_id("guide-answer")
    await answer.wait_for()
    assert "found nothing" in await answer.inner_text()
    assert await page.get_by_test_id("guide-citation").count() == 0
    await shot(phone, "guide-en-nothing")
    assert not phone.errors, phone.errors
