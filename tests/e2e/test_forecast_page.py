"""Crowd forecasts in the phone app (issue 19), end to end in Debian's Chromium at phone size on the real
server: the venue page's forecast chart, its best times and "预计 … 后较舒适", each slot's expected level in
the picker (zh, en, large text); and a disrupted booking's offer in "my bookings", taken with one tap.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_forecast_page.py`. CX_SCREENSHOTS=<dir> also saves screenshots.
"""

from __future__ import annotations

import os
import re
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import run_cli
from tests.e2e.conftest import CJK, Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

VENUE = "liyang-museum"  # books by slot, Tu–Su 09–17; no other end-to-end test opens it
SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"forecast-{name}.png"), full_page=False)


@pytest.fixture(scope="module")
def with_history(e2e_deployment) -> None:
    """The end-to-end deployment's simulated history for the venue, through the real CLI."""
    run_cli("simulate-history", "--days", "120", "--venue", VENUE, env=e2e_deployment.env)


async def _venue_page(phone: Phone) -> None:
    await phone.open(f"/venues/{VENUE}")
    forecast = phone.page.get_by_test_id("venue-forecast")
    await forecast.wait_for(state="visible")
    await phone.page.get_by_test_id("forecast-chart").wait_for(state="visible")
    await phone.page.get_by_test_id("best-times").wait_for(state="visible")
    await forecast.scroll_into_view_if_needed()


async def test_the_venue_page_shows_the_forecast_chart_best_times_and_slot_levels(
    phone: Phone, live_server_url: str, with_history: None
) -> None:
    page = phone.page
    await _venue_page(phone)
    # the first day may be today with only its remaining hours (the suite runs at any time of day): the
    # second listed day is a whole opening day. Seven days ahead hold six opening days of a museum closed
    # on Mondays, five once today's hours are over (seen on CI in the evening)
    days = page.get_by_test_id("forecast-day")
    assert await days.count() >= 5
    await days.nth(1).click()
    assert await days.nth(1).get_attribute("aria-pressed") == "true"
    bars = page.get_by_test_id("forecast-bar")
    assert await bars.count() >= 6, "an hour a bar, within the opening hours"
    levels = {await bars.nth(i).get_attribute("data-level") for i in range(await bars.count())}
    assert levels <= {"comfortable", "fairly_comfortable", "normal", "fairly_crowded", "crowded", "full"}
    suggestion = await page.get_by_test_id("forecast-suggestion").inner_text()
    assert re.search(r"预计 \d\d:\d\d 后较舒适|预计全天舒适|错峰", suggestion), suggestion
    best = page.get_by_test_id("best-time")
    assert 1 <= await best.count() <= 3
    assert re.search(r"\d\d:\d\d–\d\d:\d\d", await best.first.inner_text())
    # the chart's figures are there for a screen reader too
    assert await page.locator("[data-testid=forecast-chart] li").count() == await bars.count()
    # the page never gets wider than the phone
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "venue-zh")

    # the slot picker shows each slot's expected level, on a day the forecast covers
    await page.get_by_test_id("slot-picker").scroll_into_view_if_needed()
    await page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=day]')].every(d => d.dataset.state !== 'loading')"
    )
    # a whole day the forecast covers: from its third listed day on (never today, which has only its remaining
    # slots, fewer than four after 14:00; the forecast's list may start today or tomorrow)
    dates = [await days.nth(i).get_attribute("data-date") for i in range(await days.count())]
    assert max(dates) > (date.today() + timedelta(days=2)).isoformat(), dates
    open_day = page.locator(", ".join(f"[data-testid=day][data-state=open][data-date='{d}']" for d in dates[2:])).first
    await open_day.click()
    await page.get_by_test_id("slot-level").first.wait_for(state="visible")
    assert await page.get_by_test_id("slot-level").count() >= 4
    await shot(phone, "slots-zh")

    # English, and large text
    await page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await page.reload()
    await _venue_page(phone)
    text = await page.get_by_test_id("venue-forecast").inner_text()
    assert "Expected crowds" in text and not CJK.search(await page.get_by_test_id("forecast-suggestion").inner_text())
    await shot(phone, "venue-en")
    await page.evaluate("localStorage.setItem('cx.largeText', '1')")
    await page.reload()
    await _venue_page(phone)
    assert await phone.html("className") and "cx-large" in await phone.html("className")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "venue-large")
    assert not phone.errors, phone.errors


async def test_a_disrupted_booking_is_rebooked_with_one_tap_in_my_bookings(
    phone: Phone, live_server_url: str, with_history: None
) -> None:
    from tests.e2e.test_booking_flow import resident_id

    tourist = await live_account(live_server_url, "tourist", name="改期游客")
    staff = await live_account(live_server_url, "staff", venues=(VENUE,))
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        day = date.today() + timedelta(days=2)
        while day.weekday() == 0:
            day += timedelta(days=1)
        slots = (await http.get(f"/api/v1/venues/{VENUE}/slots", params={"date": day.isoformat()})).json()["items"]
        slot = next(s for s in slots if s["status"] == "open")
        person = {"name": "常州游客", "id_type": "resident_id", "id_number": resident_id()}
        res = await http.post(
            "/api/v1/reservations",
            headers=tourist["headers"],
            json={"slot_id": slot["id"], "visitors": [person]},
        )
        assert res.status_code == 201, res.text
        booking = res.json()
        res = await http.patch(
            f"/api/v1/venues/{VENUE}/slots/{slot['id']}", headers=staff["headers"], json={"status": "closed"}
        )
        assert res.status_code == 200, res.text

    page = phone.page
    await phone.context.add_cookies([{"name": "cx_token", "value": tourist["token"], "url": phone.base_url}])
    await phone.open("/")
    await page.evaluate("localStorage.setItem('cx.signedIn', '1')")  # the app's hint that a session cookie is set
    await phone.open("/bookings")
    offer = page.get_by_test_id("offer")
    await offer.wait_for(state="visible")
    assert "关闭了您预约的时段" in await offer.inner_text()
    choices = page.get_by_test_id("offer-choice")
    kinds = [await choices.nth(i).get_attribute("data-kind") for i in range(await choices.count())]
    assert kinds[-1] == "refund" and "move" in kinds
    await shot(phone, "offers-zh")
    await page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await page.reload()
    await offer.wait_for(state="visible")
    assert "closed the time you booked" in await offer.inner_text()
    await shot(phone, "offers-en")
    await page.evaluate("localStorage.setItem('cx.largeText', '1')")
    await page.reload()
    await offer.wait_for(state="visible")
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "offers-large")
    move = page.locator("[data-testid=offer-choice][data-kind=move]").first
    async with page.expect_response(lambda r: "/accept" in r.url) as accepted:
        await move.click()
    assert (await accepted.value).ok
    await offer.wait_for(state="detached")
    async with httpx.AsyncClient(base_url=live_server_url, timeout=20) as http:
        view = (await http.get(f"/api/v1/reservations/{booking['id']}", headers=tourist["headers"])).json()
    assert view["status"] == "confirmed" and view["slot"]["id"] != slot["id"]
    assert not phone.errors, phone.errors
