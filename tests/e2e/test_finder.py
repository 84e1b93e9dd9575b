"""The finder (附近, /nearby) in the phone app, end to end in Debian's Chromium on the real server:
nearest toilets from the visitor's position (granted geolocation), the wheelchair filter, DC fast
chargers, the hand-off to map apps (WGS-84 for AMap, GCJ-02 for Apple Maps), English names, and the
last results offline.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e/test_finder.py`.
Set CX_SCREENSHOTS=<dir> to also save screenshots of the screen (zh, en, large text).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.coords import wgs84_to_gcj02
from tests.e2e.conftest import CJK, Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CENTRE = {"latitude": 31.7795, "longitude": 119.9561}
SHOTS = os.environ.get("CX_SCREENSHOTS")


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    rad = math.pi / 180
    x = (b[1] - a[1]) * rad * math.cos(a[0] * rad) * 6371008.8
    y = (b[0] - a[0]) * rad * 6371008.8
    return math.hypot(x, y)


def is_amenities(kind: str):
    return lambda r: "/api/v1/amenities?" in r.url and f"kind={kind}" in r.url


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:  # Playwright creates the folder
        await phone.page.screenshot(path=str(Path(SHOTS) / f"nearby-{name}.png"), full_page=False)


async def distances(phone: Phone) -> list[float]:
    items = phone.page.get_by_test_id("amenity")
    return [float(await items.nth(i).get_attribute("data-distance")) for i in range(await items.count())]


async def test_find_toilets_chargers_and_navigate(phone: Phone) -> None:
    page = phone.page
    await phone.context.grant_permissions(["geolocation"])
    await phone.context.set_geolocation(CENTRE)

    async with page.expect_response(is_amenities("toilet")) as first:
        await phone.open("/nearby")
    assert (await first.value).ok
    await (
        page.get_by_test_id("locate").or_(page.locator("[data-testid=location-note][data-state=here]")).first.wait_for()
    )
    if await page.get_by_test_id("locate").count():
        await page.get_by_test_id("locate").click()
    await page.locator("[data-testid=location-note][data-state=here]").wait_for()
    items = page.get_by_test_id("amenity")
    await items.nth(4).wait_for(state="visible")
    await page.wait_for_load_state("networkidle")

    # ≥ 5 toilets, nearest first, each with its distance and walking time
    ds = await distances(phone)
    assert len(ds) >= 5 and ds == sorted(ds), ds
    first_text = await items.first.inner_text()
    assert re.search(r"\d+ m|\d+(\.\d)? km", await items.first.get_by_test_id("distance").inner_text())
    assert re.search(r"步行约 \d+ 分钟", first_text), first_text
    # the map (issue 21): a labelled region with real tiles (the sketch basemap here), the nearest ten as
    # numbered 44 px markers or clusters of them; Enter on a marker brings its result into view
    region = page.get_by_test_id("finder-map").locator("[role=region]")
    assert "附近" in (await region.get_attribute("aria-label") or "")
    await page.locator("[data-testid=finder-map] img.leaflet-tile-loaded").first.wait_for()
    markers, clusters = page.get_by_test_id("marker"), page.get_by_test_id("map-cluster")
    await markers.first.wait_for()
    clustered = sum([int(await c.get_attribute("data-count")) for c in await clusters.all()])
    assert await markers.count() + clustered == min(10, await items.count())
    for c in await clusters.all():  # its numbers ("3·5·7") or its count ("5处"), never a bare "5" like a pin's
        label, n = "".join((await c.inner_text()).split()), await c.get_attribute("data-count")
        assert re.fullmatch(r"\d+(·\d+)+", label) or label == f"{n}处", label
    box = await markers.first.bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    number = (await markers.last.inner_text()).strip()
    await markers.last.focus()
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement?.dataset.n") == number
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "zh")

    # wheelchair accessible only: the request says so and every result carries the badge
    chip = page.get_by_test_id("chip-wheelchair")
    async with page.expect_request(lambda r: is_amenities("toilet")(r) and "wheelchair=true" in r.url) as req:
        await chip.click()
    assert parse_qs(urlsplit((await req.value).url).query)["wheelchair"] == ["true"]
    assert await chip.get_attribute("aria-pressed") == "true"
    await page.wait_for_load_state("networkidle")
    await items.first.wait_for(state="visible")
    n = await items.count()
    assert n >= 1
    assert await page.locator("[data-testid=amenity] [data-testid=badge-wheelchair]").count() == n

    # chargers, DC fast: connector badges of ≥ 60 kW
    async with page.expect_response(is_amenities("charger")):
        await page.get_by_test_id("kind-charger").click()
    async with page.expect_request(lambda r: is_amenities("charger")(r) and "connector=gbt_dc" in r.url) as req:
        await page.get_by_test_id("chip-dc").click()
    query = parse_qs(urlsplit((await req.value).url).query)
    assert query["min_kw"] == ["60"], query
    await page.wait_for_load_state("networkidle")
    await items.first.wait_for(state="visible")
    assert await page.locator("[data-testid=amenity]:not(:has([data-testid=connector]))").count() == 0
    kws = [
        float(
            await page.get_by_test_id("amenity")
            .nth(i)
            .locator("[data-testid=connector][data-type=gbt_dc]")
            .first.get_attribute("data-kw")
        )
        for i in range(await items.count())
    ]
    assert kws and min(kws) >= 60, kws
    assert re.search(r"国标直流 \d+ kW", await items.first.inner_text())
    await shot(phone, "zh-chargers")

    # navigate: AMap and Baidu get WGS-84, Apple Maps GCJ-02 (a few hundred metres off)
    await items.first.get_by_test_id("navigate").click()
    sheet = page.get_by_test_id("nav-sheet")
    await sheet.wait_for(state="visible")
    await page.wait_for_timeout(400)  # the sheet slides in
    await shot(phone, "zh-navigate")
    amap = await sheet.locator("[data-app=amap]").get_attribute("href")
    apple = await sheet.locator("[data-app=apple]").get_attribute("href")
    baidu = await sheet.locator("[data-app=baidu]").get_attribute("href")
    google = await sheet.locator("[data-app=google]").get_attribute("href")
    assert amap.startswith("https://uri.amap.com/marker?") and "coordinate=wgs84" in amap and "callnative=1" in amap
    assert "coord_type=wgs84" in baidu
    lng, lat = (float(v) for v in parse_qs(urlsplit(amap).query)["position"][0].split(","))
    assert parse_qs(urlsplit(google).query)["query"] == [f"{lat:.6f},{lng:.6f}"]
    alat, alng = (float(v) for v in parse_qs(urlsplit(apple).query)["ll"][0].split(","))
    glat, glng = wgs84_to_gcj02(lat, lng)
    assert abs(alat - glat) < 1e-5 and abs(alng - glng) < 1e-5, (apple, glat, glng)
    assert 200 < metres((lat, lng), (alat, alng)) < 900
    await sheet.get_by_role("button", name="取消").click()
    await sheet.wait_for(state="hidden")

    # English: the names come back in English
    async with page.expect_response(lambda r: is_amenities("charger")(r) and "lang=en" in r.url):
        await page.get_by_test_id("lang-toggle").click()
    await page.wait_for_load_state("networkidle")
    name = await items.first.get_by_test_id("amenity-name").inner_text()
    assert name and not CJK.search(name), name
    assert re.search(r"\d+ min walk", await items.first.inner_text())
    await page.get_by_test_id("kind-toilet").click()
    await page.wait_for_load_state("networkidle")
    await shot(phone, "en")
    assert phone.errors == []


async def test_without_location_falls_back_to_the_city_centre(phone: Phone) -> None:
    page = phone.page
    await phone.open("/nearby?kind=parking")
    note = page.get_by_test_id("location-note")
    await note.wait_for(state="visible")
    assert "市中心" in await note.inner_text()
    items = page.get_by_test_id("amenity")
    await items.first.wait_for(state="visible")
    assert await page.get_by_test_id("locate").is_visible()
    # coach bays: a client-side filter on coach_spaces
    await page.get_by_test_id("chip-coach").click()
    await page.wait_for_load_state("networkidle")
    n = await items.count()
    assert n >= 1
    assert await page.locator("[data-testid=amenity] [data-testid=badge-coach]").count() == n
    # large text mode: nothing wider than the phone
    await page.evaluate("localStorage.setItem('cx.largeText', '1')")
    await phone.open("/nearby")
    await items.first.wait_for(state="visible")
    await page.wait_for_load_state("networkidle")
    assert await page.evaluate("document.documentElement.classList.contains('cx-large')")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "large")
    assert phone.errors == []
