"""The phone app (PWA) as a visitor's phone sees it: Debian's Chromium, driven by Playwright, on the
real server (`live_server_url` starts `changxiang run` with the city's content and the built PWA).

Run: `make test` (builds pwa/dist and installs Chromium), or `.venv/bin/pytest -m e2e tests/e2e`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), "Debian's Chromium is missing: `make chromium` installs it"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Phone:
    """A fresh phone-sized browser context and page that records console errors."""

    def __init__(self, browser, base_url: str) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN"
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda msg: self.errors.append(f"console.{msg.type}: {msg.text} @ {msg.location.get('url')}")
            if msg.type == "error"
            else None,
        )
        self.page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def open(self, path: str) -> None:
        self.page.goto(self.base_url + path, wait_until="domcontentloaded")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def phone(browser, live_server_url: str) -> Iterator[Phone]:
    p = Phone(browser, live_server_url)
    yield p
    p.close()


@pytest.fixture(scope="module")
def some_venue(live_server_url: str) -> dict:
    import httpx

    res = httpx.get(f"{live_server_url}/api/v1/venues", params={"limit": 1, "lang": "zh"}, timeout=10)
    assert res.status_code == 200, res.text
    items = res.json()["items"]
    assert items, "the content has no venues"
    return items[0]


def test_venue_list_renders_chinese_cards(phone: Phone) -> None:
    phone.open("/venues")
    cards = phone.page.get_by_test_id("venue-card")
    cards.first.wait_for(state="visible")
    assert cards.count() >= 1
    name = phone.page.get_by_test_id("venue-name").first.inner_text()
    assert CJK.search(name), f"expected a Chinese venue name, got {name!r}"
    assert phone.page.evaluate("document.documentElement.lang") == "zh-CN"
    assert phone.page.locator("main#main").count() == 1


def test_manifest_is_installable(phone: Phone) -> None:
    phone.open("/")
    phone.page.wait_for_load_state("load")
    cdp = phone.page.context.new_cdp_session(phone.page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest.get("errors", []) == [], manifest.get("errors")
    assert manifest["url"].endswith("/manifest.webmanifest")
    result = cdp.send("Page.getInstallabilityErrors")
    assert result["installabilityErrors"] == [], result["installabilityErrors"]


def test_screens_have_no_console_errors(phone: Phone, some_venue: dict) -> None:
    for path, ready in [
        ("/", "venue-card"),
        ("/venues", "venue-card"),
        (f"/venues/{some_venue['slug']}", "venue-title"),
        ("/me", "form-login"),
        ("/no/such/page", None),
    ]:
        phone.open(path)
        if ready:
            phone.page.get_by_test_id(ready).first.wait_for(state="visible")
        else:
            phone.page.get_by_role("heading", level=1).wait_for(state="visible")
        phone.page.wait_for_load_state("networkidle")
    assert phone.errors == []


def test_switching_to_english(phone: Phone) -> None:
    phone.open("/")
    phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    phone.page.get_by_test_id("lang-toggle").click()
    phone.page.get_by_role("heading", name="Browse by category").wait_for(state="visible")
    assert phone.page.evaluate("document.documentElement.lang") == "en"
    nav = phone.page.get_by_role("navigation", name="Main navigation")
    assert nav.get_by_role("link", name="Venues").is_visible()
    # the API is asked in English too, and the choice survives a reload
    with phone.page.expect_response(lambda r: "/api/v1/venues" in r.url and "lang=en" in r.url):
        phone.page.reload()
    phone.page.get_by_role("heading", name="Browse by category").wait_for(state="visible")
    assert phone.errors == []


def test_deep_link_renders_the_venue(phone: Phone, some_venue: dict) -> None:
    phone.open(f"/venues/{some_venue['slug']}")
    title = phone.page.get_by_test_id("venue-title")
    title.wait_for(state="visible")
    assert title.inner_text() == some_venue["name"]
    nav_link = phone.page.get_by_test_id("navigate")
    assert nav_link.get_attribute("href").startswith("https://uri.amap.com/marker?position=")
    assert phone.page.get_by_test_id("book").is_disabled()
    assert phone.errors == []


def test_large_text_mode_persists(phone: Phone) -> None:
    phone.open("/me")
    switch = phone.page.get_by_role("switch")
    switch.wait_for(state="visible")
    switch.click()
    assert "cx-large" in phone.page.evaluate("document.documentElement.className")
    phone.page.reload()
    phone.page.get_by_role("switch").wait_for(state="visible")
    assert "cx-large" in phone.page.evaluate("document.documentElement.className")
    assert phone.page.get_by_role("switch").get_attribute("aria-checked") == "true"


def test_venue_list_works_offline_after_one_visit(phone: Phone) -> None:
    phone.open("/venues")
    phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    # wait until the service worker controls the page, then load once more through it
    phone.page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    phone.page.reload()
    phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
    phone.page.wait_for_load_state("networkidle")
    phone.context.set_offline(True)
    try:
        phone.page.reload()
        phone.page.get_by_test_id("venue-card").first.wait_for(state="visible")
        assert CJK.search(phone.page.get_by_test_id("venue-name").first.inner_text())
    finally:
        phone.context.set_offline(False)
