"""The supervision dashboard in the phone app, end to end on the real server: every venue's comfort
level on the sketch map and in the list, and a movement at a venue reaching the open page live
(server-sent events), in Chinese and in English."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CJK, Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

VENUE = "wenbi-pagoda"  # instantaneous capacity 150
SHOTS = os.environ.get("CX_SCREENSHOTS")


async def make_user(base: str, *roles: str, venues: tuple[str, ...] = ()) -> dict:
    """An account made through the live server's admin API (no in-process app in end-to-end tests)."""
    return await live_account(base, *roles, venues=venues, name="监管测试")


async def sign_in(phone: Phone, account: dict, lang: str = "zh") -> None:
    await phone.context.add_cookies([{"name": "cx_token", "value": account["token"], "url": phone.base_url}])
    await phone.open("/")
    await phone.page.evaluate(f"localStorage.setItem('cx.lang', '{lang}'); localStorage.setItem('cx.signedIn', '1')")


async def test_dashboard_lists_every_venue_and_updates_live(phone: Phone, live_server_url):
    gov = await make_user(live_server_url, "governance")
    staff = await make_user(live_server_url, "staff", venues=(VENUE,))
    await sign_in(phone, gov)
    await phone.open("/gov")
    rows = phone.page.get_by_test_id("gov-row")
    await rows.first.wait_for()
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        total = (await http.get("/api/v1/venues", params={"limit": 1})).json()["total"]
        assert await rows.count() == total
        # every venue on the map (issue 21): a marker, or counted in a cluster of markers that would overlap
        await phone.page.get_by_test_id("gov-marker").first.wait_for()
        clusters = phone.page.get_by_test_id("map-cluster")
        clustered = sum([int(await c.get_attribute("data-count")) for c in await clusters.all()])
        assert await phone.page.get_by_test_id("gov-marker").count() + clustered == total
        assert CJK.search(await phone.page.get_by_test_id("gov-summary").inner_text())
        row = phone.page.locator(f"[data-testid=gov-row][data-slug={VENUE}]")
        before = await row.get_by_test_id("crowd-badge").get_attribute("data-level")

        res = await http.post(
            "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": VENUE, "count": 140}
        )
        assert res.status_code == 201, res.text
        # no reload: the stream brings the new level to the open page
        await phone.page.wait_for_function(
            f"document.querySelector('[data-testid=gov-row][data-slug={VENUE}] [data-testid=crowd-badge]')"
            "?.dataset.level === 'crowded'"
        )
        assert before != "crowded"
        assert "拥挤" in await row.inner_text()
        await http.post(
            "/api/v1/gov/walk-ins",
            headers=staff["headers"],
            json={"venue_slug": VENUE, "count": 140, "direction": "out"},
        )

    await phone.page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await phone.open("/gov")
    await rows.first.wait_for()
    assert "Crowd supervision" in await phone.page.locator("h1").inner_text()
    assert phone.errors == []


async def test_dashboard_shows_tomorrows_expected_peaks_per_district_and_venue(phone: Phone, live_server_url):
    gov = await make_user(live_server_url, "governance")
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        peaks = (await http.get("/api/v1/gov/forecast/peaks", headers=gov["headers"])).json()
    assert peaks["districts"] and peaks["venues"]
    for lang, title in (("zh", "明日预计高峰"), ("en", "Tomorrow's expected peaks")):
        await sign_in(phone, gov, lang)
        await phone.open("/gov")
        section = phone.page.get_by_test_id("gov-peaks")
        await section.get_by_test_id("gov-peak-district").first.wait_for()
        assert title in await section.inner_text()
        assert await section.get_by_test_id("gov-peak-district").count() == len(peaks["districts"])
        first = section.get_by_test_id("gov-peak-venue").first
        assert await first.get_attribute("data-slug") == peaks["venues"][0]["venue_slug"]
        if SHOTS:
            await section.scroll_into_view_if_needed()
            await phone.page.screenshot(path=str(Path(SHOTS) / f"gov-peaks-{lang}.png"), full_page=False)
    assert phone.errors == []


async def test_dashboard_is_closed_to_tourists(phone: Phone, live_server_url):
    tourist = await make_user(live_server_url, "tourist")
    await sign_in(phone, tourist)
    await phone.open("/gov")
    await phone.page.get_by_test_id("gov-forbidden").wait_for()


async def test_staff_count_walk_ins_at_the_window(phone: Phone, live_server_url):
    venue = "zhou-youguang-library"  # instantaneous capacity 80
    staff = await make_user(live_server_url, "staff", venues=(venue,))
    await sign_in(phone, staff)
    await phone.page.evaluate(f"localStorage.setItem('cx.scan.venue', '{venue}')")
    await phone.open("/scan")
    await phone.page.get_by_test_id("walkin-in").click()
    note = phone.page.get_by_test_id("walkin-note")
    await note.wait_for()
    assert "已登记" in await note.inner_text()
    await phone.page.wait_for_function(
        "document.querySelector('[data-testid=count-entries]')?.textContent.includes('1')"
    )
    await phone.page.get_by_test_id("walkin-out").click()
    await phone.page.wait_for_function(
        "document.querySelector('[data-testid=walkin-note]')?.textContent.includes('已登记')"
    )
