"""The phone app (PWA) as a visitor's phone sees it: Debian's Chromium, driven by Playwright, on the
real server (`live_server_url` starts `changxiang run` with the city's content and the built PWA).

Run: `make test` (builds pwa/dist and installs Chromium), or `.venv/bin/pytest -m e2e tests/e2e`.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CJK, PHONE, Phone

# anyio runs these tests and the suite's async fixtures (on which `live_server_url` rests) in one
# event loop, so Playwright's async API is used.
pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture(scope="module")
def some_venue(live_server_url: str) -> dict:
    res = httpx.get(f"{live_server_url}/api/v1/venues", params={"limit": 1, "lang": "zh"}, timeout=10)
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert items, "the content has no venues"
    return items[0]


async def test_venue_list_renders_chinese_cards(phone: Phone) -> None:
    await phone.open("/venues")
    cards = phone.page.get_by_test_id("venue-card")
    await cards.first.wait_for(state="visible")
    assert await cards.count() >= 1
    name = await phone.page.get_by_test_id("venue-name").first.inner_text()
    assert CJK.search(name), f"expected a Chinese venue name, got {name!r}"
    assert await phone.html("lang") == "zh-CN"
    assert await phone.page.locator("main#main").count() == 1


async def test_manifest_is_installable(playwright, live_server_url: str, tmp_path: Path) -> None:
    # Chrome never offers installation in an incognito profile, which is what a plain Playwright
    # context is; a persistent profile is a normal one.
    context = await playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        headless=True,
        args=CHROMIUM_ARGS,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
    )
    try:
        page = context.pages[0] if context.pages else await context.new_page()
        await page.goto(live_server_url + "/", wait_until="load")
        await page.get_by_test_id("venue-card").first.wait_for(state="visible")
        cdp = await page.context.new_cdp_session(page)
        manifest = await cdp.send("Page.getAppManifest")
        assert manifest.get("errors", []) == [], manifest.get("errors")
        assert manifest["url"].endswith("/manifest.webmanifest")
        result = await cdp.send("Page.getInstallabilityErrors")
        assert result["installabilityErrors"] == [], result["installabilityErrors"]
    finally:
        await context.close()


async def test_screens_have_no_console_errors(phone: Phone, some_venue: dict) -> None:
    for path, ready in [
        ("/", "venue-card"),
        ("/venues", "venue-card"),
        (f"/venues/{some_venue['slug']}", "venue-title"),
        ("/me", "form-phone"),  # phone and SMS code first where the server can send codes (issue 21)
        ("/bookings", "bookings-login"),
        ("/no/such/page", None),
    ]:
        await phone.open(path)
        if ready:
            await phone.page.get_by_test_id(ready).first.wait_for(state="visible")
        else:
            await phone.page.get_by_role("heading", level=1).wait_for(state="visible")
        await phone.page.wait_for_load_state("networkidle")
    assert phone.errors == []


async def test_switching_to_english(phone: Phone) -> None:
    await phone.open("/")
    await phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    await phone.page.get_by_test_id("lang-toggle").click()
    await phone.page.get_by_role("heading", name="Browse by category").wait_for(state="visible")
    assert await phone.html("lang") == "en"
    nav = phone.page.get_by_role("navigation", name="Main navigation")
    assert await nav.get_by_role("link", name="Venues").is_visible()
    # the API is asked in English too, and the choice survives a reload
    async with phone.page.expect_response(lambda r: "/api/v1/venues" in r.url and "lang=en" in r.url):
        await phone.page.reload()
    await phone.page.get_by_role("heading", name="Browse by category").wait_for(state="visible")
    assert phone.errors == []


async def test_deep_link_renders_the_venue(phone: Phone, some_venue: dict) -> None:
    await phone.open(f"/venues/{some_venue['slug']}")
    title = phone.page.get_by_test_id("venue-title")
    await title.wait_for(state="visible")
    assert await title.inner_text() == some_venue["name"]
    href = await phone.page.get_by_test_id("navigate").get_attribute("href")
    assert href.startswith("https://uri.amap.com/marker?position=")
    if some_venue["reservation_required"]:
        # booking needs a time: the button waits until one is chosen in the slot picker
        await phone.page.get_by_test_id("slot-picker").wait_for(state="visible")
        assert await phone.page.get_by_test_id("book").is_disabled()
    else:
        await phone.page.get_by_test_id("no-booking").wait_for(state="visible")
    assert phone.errors == []


async def test_large_text_mode_persists(phone: Phone) -> None:
    await phone.open("/me")
    switch = phone.page.get_by_role("switch")
    await switch.wait_for(state="visible")
    await switch.click()
    assert "cx-large" in await phone.html("className")
    await phone.page.reload()
    await phone.page.get_by_role("switch").wait_for(state="visible")
    assert "cx-large" in await phone.html("className")
    assert await phone.page.get_by_role("switch").get_attribute("aria-checked") == "true"


async def test_venue_list_works_offline_after_one_visit(phone: Phone) -> None:
    await phone.open("/venues")
    await phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    # wait until the service worker is active, then load once more through it (a page whose
    # navigation began while the worker was still activating is never claimed by it)
    await phone.page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await phone.page.reload()
    await phone.page.wait_for_function("navigator.serviceWorker.controller != null")
    await phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    await phone.page.wait_for_load_state("networkidle")
    await phone.context.set_offline(True)
    try:
        await phone.page.reload()
        await phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
        assert CJK.search(await phone.page.get_by_test_id("venue-name").first.inner_text())
        # a server page (not the app shell) cannot be had offline: the bilingual offline page
        await phone.open("/healthz")
        await phone.page.get_by_role("heading", name="You are offline").wait_for(state="visible")
    finally:
        await phone.context.set_offline(False)


async def test_register_shows_the_profile(phone: Phone) -> None:
    email = f"e2e-{uuid.uuid4().hex[:10]}@changxiang.test"
    await phone.open("/me")
    await phone.page.get_by_test_id("mode-register").click()
    form = phone.page.get_by_test_id("form-register")
    await form.get_by_label("昵称").fill("常州游客")
    await form.get_by_label("邮箱").fill(email)
    await form.get_by_label("密码").fill("correct-horse-9")
    await form.locator("button[type=submit]").click()
    profile = phone.page.get_by_test_id("profile")
    await profile.wait_for(state="visible")
    assert "常州游客" in await profile.inner_text() and email in await profile.inner_text()
    await phone.page.reload()  # the session outlives a reload
    await profile.wait_for(state="visible")
    assert phone.errors == []
