"""The event calendar (活动日历) in the phone app, end to end in Debian's Chromium on the real server:
this month's list, category chips, the month grid, an event page with schema.org Event JSON-LD,
"add to calendar" and "book", English, articles, and the marketer screen moving an item.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_calendar.py`. CX_SCREENSHOTS=<dir> also saves screenshots.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from backend.lib.clock import clock
from tests.e2e.conftest import CJK, Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]
SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"calendar-{name}.png"), full_page=False)


async def test_browse_the_calendar_open_an_event_and_add_it(phone: Phone) -> None:
    page = phone.page
    await phone.open("/events")
    items = page.get_by_test_id("event-list").locator("li")
    await items.first.wait_for()
    assert await items.count() >= 5
    assert CJK.search(await items.first.inner_text())
    await shot(phone, "list-zh")

    async with page.expect_response(lambda r: "/api/v1/events?" in r.url and "category=night_tour" in r.url):
        await page.get_by_test_id("chip-night_tour").click()
    await page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=event-list] .ev__cat')]"
        ".every(e => e.textContent.includes('夜游'))"
    )
    assert await page.get_by_test_id("chip-night_tour").get_attribute("aria-pressed") == "true"

    await page.get_by_test_id("toggle-view").click()
    await page.locator(".month__grid").wait_for()
    assert await page.locator(".month__cell.has-events").count() >= 1
    await shot(phone, "month-zh")

    await phone.open("/events/new-year-concert-2027")
    await page.get_by_test_id("event-detail").wait_for()
    ld = json.loads(await page.locator("#event-jsonld").text_content())
    assert ld["@type"] == "Event" and ld["name"] == "2027常州新年音乐会"
    assert ld["startDate"].startswith("2026-12-31T19:30") and ld["eventStatus"].endswith("EventScheduled")
    assert ld["location"]["name"] == "常州大剧院"
    # its zones sell from ¥120 to ¥480: the page says "from" the cheapest, and so does its structured data
    offers = ld["offers"]
    assert (offers["@type"], offers["lowPrice"], offers["highPrice"]) == ("AggregateOffer", "120.00", "480.00")
    assert offers["priceCurrency"] == "CNY"
    assert await page.get_by_test_id("event-price").inner_text() == "¥120 起"
    href = await page.get_by_test_id("add-to-calendar").get_attribute("href")
    res = await phone.context.request.get(phone.base_url + href)
    assert res.ok and Calendar.from_ical(await res.body()).walk("VEVENT")
    book = page.get_by_test_id("book")
    assert await book.get_attribute("href") == "/venues/changzhou-grand-theatre"
    await shot(phone, "detail-zh")

    await page.get_by_test_id("lang-toggle").click()
    await page.get_by_role("heading", name="Changzhou New Year Concert 2027").wait_for()
    await page.wait_for_function(
        "() => JSON.parse(document.querySelector('#event-jsonld').textContent).inLanguage === 'en'"
    )
    await shot(phone, "detail-en")
    await phone.open("/events")
    await items.first.wait_for()
    assert not CJK.search(await page.get_by_test_id("range-month").inner_text())
    await shot(phone, "list-en")
    await page.get_by_test_id("toggle-view").click()
    await page.locator(".month__grid").wait_for()
    await shot(phone, "month-en")

    await phone.open("/articles")
    await page.get_by_test_id("article-list").locator("li").first.wait_for()
    await shot(phone, "articles-en")
    await page.get_by_test_id("article-list").locator("a").first.click()
    await page.get_by_test_id("article").wait_for()
    await shot(phone, "article-en")
    assert phone.errors == []


async def test_marketer_publishes_a_draft_from_the_phone(phone: Phone, live_server_url: str) -> None:
    marketer = await live_account(live_server_url, "marketer")
    api = phone.context.request
    login = await api.post(
        f"{live_server_url}/api/v1/auth/login", data={"email": marketer["email"], "password": marketer["password"]}
    )
    assert login.ok
    start = (clock.now() + timedelta(days=2)).replace(microsecond=0)
    slug = f"e2e-{uuid.uuid4().hex[:8]}"
    # the context's request carries the session cookie like the app's own pages do, so it says where it
    # comes from as they do: a cookie-signed write without the app's Origin is refused (lib/csrf.py)
    created = await api.post(
        f"{live_server_url}/api/v1/admin/events",
        headers={"Origin": live_server_url},
        data={
            "slug": slug,
            "title": {"zh": "手机发布测试", "en": "Phone publishing test"},
            "category": "lecture",
            "venue_slug": "changzhou-library",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=1)).isoformat(),
        },
    )
    assert created.status == 201
    item_id = (await created.json())["id"]
    assert (await api.get(f"{live_server_url}/api/v1/events/{slug}")).status == 404

    page = phone.page
    await phone.open("/marketer")
    await page.get_by_test_id(f"move-{item_id}-in_review").click()
    async with page.expect_response(lambda r: f"/admin/events/{item_id}/transition" in r.url) as moved:
        await page.get_by_test_id(f"move-{item_id}-published").click()
    assert (await moved.value).ok
    await page.get_by_text("已改为「已发布」").wait_for()
    await shot(phone, "marketer-zh")
    assert (await api.get(f"{live_server_url}/api/v1/events/{slug}")).status == 200
    admin = await api.get(f"{live_server_url}/admin/")
    assert admin.ok

    # the holder's calendar link: made on the Me screen, shown once, and it opens a calendar
    await phone.open("/me")
    await page.get_by_test_id("calendar-link").get_by_role("button").click()
    link = await page.locator("#cal-url").input_value()
    assert "/api/v1/me/calendar.ics?token=" in link
    await shot(phone, "me-calendar-zh")
    feed = await api.get(link)
    assert feed.ok and Calendar.from_ical(await feed.body())["X-WR-CALNAME"]
    assert phone.errors == []
