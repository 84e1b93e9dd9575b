"""Tickets in the phone app, end to end (issue 18), in Debian's Chromium on the real server: pick two seats
on the zoomable map of a performance, name the audience (a senior recognised from the ID), see each
ticket's price, the total, the entry window and the cancellation deadline before booking, pay on the
Stripe stand-in's page, go from the booking straight to the code and find both seats on the pass; then
play an online show (hls.js where the browser lacks HLS) and seek in it.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e/test_tickets_flow.py`.
"""

from __future__ import annotations

import re

import anyio
import httpx
import pytest

from tests.e2e.conftest import Phone
from tests.e2e.test_booking_flow import register, resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


async def a_seated_event(base: str) -> str:
    """An event on sale with a seat map (content/tickets.toml), from the API as a visitor would find it."""
    async with httpx.AsyncClient(base_url=base, timeout=20) as http:
        events = (await http.get("/api/v1/events", params={"category": "performance", "limit": 100})).json()
        for item in events["items"]:
            detail = (await http.get(f"/api/v1/events/{item['slug']}")).json()
            performances = (detail.get("ticketing") or {}).get("performances", [])
            if any(p["seat_map"] and p["status"] == "open" for p in performances):
                return item["slug"]
    raise AssertionError("no seated performance on sale in content/tickets.toml")


async def test_pick_two_seats_pay_and_find_them_on_the_pass(phone: Phone, live_stripe) -> None:
    page = phone.page
    await phone.open("/me")
    await register(phone)
    await page.get_by_test_id("profile").wait_for(state="visible")
    await phone.open(f"/events/{await a_seated_event(phone.base_url)}")
    await page.get_by_test_id("event-tickets").wait_for(state="visible")
    await page.get_by_test_id("buy-tickets").first.click()

    seat_map = page.get_by_test_id("seat-map")
    await seat_map.wait_for(state="visible")
    await page.get_by_test_id("zoom-in").click()
    assert await seat_map.locator("svg").get_attribute("data-scale") == "1.5"
    await page.get_by_test_id("zoom-reset").click()
    # two free seats side by side in zone B, tapped on the map
    first = seat_map.locator("[data-zone=B][data-status=free]").nth(30)
    seat_id = int(await first.get_attribute("data-seat"))
    await first.dispatch_event("click")
    await seat_map.locator(f"[data-seat='{seat_id + 1}']").dispatch_event("click")
    assert await seat_map.locator("[data-seat].seat--picked").count() == 2
    await page.get_by_test_id("hold-picked").click()
    await page.get_by_test_id("held").wait_for(state="visible")
    labels = [await s.inner_text() for s in await page.get_by_test_id("held-seat").all()]
    assert len(labels) == 2 and all(re.search(r"\d+排\d+座", x) for x in labels)

    await page.get_by_test_id("visitor-name").nth(0).fill("陈老伯")
    await page.get_by_test_id("visitor-id-number").nth(0).fill(resident_id("19580101"))
    await page.get_by_test_id("visitor-name").nth(1).fill("陈小明")
    await page.get_by_test_id("visitor-id-number").nth(1).fill(resident_id("19950505"))
    total = page.get_by_test_id("quote-total")
    await total.wait_for(state="visible")
    types = [await x.get_attribute("data-type") for x in await page.get_by_test_id("quote-line").all()]
    assert types == ["senior", "adult"], "the 60-plus visitor is a senior without asking"
    assert await page.get_by_test_id("entry-note").inner_text() == "可提前 30 分钟入场"
    assert "前可免费取消" in await page.get_by_test_id("cancel-deadline").inner_text()
    fen = int(await total.get_attribute("data-total-fen"))
    await page.get_by_test_id("submit-booking").click()

    detail = page.get_by_test_id("booking-detail")
    await detail.wait_for(state="visible")
    assert await detail.get_attribute("data-status") == "pending_payment"
    assert await page.get_by_test_id("booking-amount").inner_text() == f"¥{fen / 100:.2f}"
    booking_id = page.url.split("?")[0].rsplit("/", 1)[1]
    await page.get_by_test_id("pay").click()
    await page.wait_for_url(re.compile(r"/checkout/cs_"))
    await page.get_by_role("button", name="支付 Pay").click()
    await page.wait_for_url(re.compile(rf"/bookings/{booking_id}\?paid=1"))
    await page.wait_for_function(
        "document.querySelector('[data-testid=booking-detail]')?.dataset.status === 'confirmed'", timeout=30_000
    )
    # one tap from the booking to the code; the pass names both visitors with their seats
    await page.get_by_test_id("show-code").click()
    await page.wait_for_url(re.compile(r"/pass$"))
    await page.get_by_test_id("pass-visitor").first.wait_for(state="visible")
    on_pass = [await v.inner_text() for v in await page.get_by_test_id("pass-visitor").all()]
    for label in labels:
        assert any(label in line for line in on_pass), (label, on_pass)
    assert any("长者票" in line for line in on_pass)
    assert "可提前 30 分钟入场" in await page.get_by_test_id("entry-early").first.inner_text()
    # the performance is days ahead: the pass says nothing is valid today rather than showing a code
    none_today = page.get_by_test_id("pass-none-today")
    await none_today.wait_for(state="visible")
    assert "今天没有可用的入场凭证" in await none_today.inner_text()
    await page.get_by_test_id("pass-show-anyway").click()
    await page.wait_for_function("document.querySelector('[data-testid=pass-qr]')?.dataset.code?.length > 0")
    assert not phone.errors or all("favicon" in e for e in phone.errors), phone.errors


async def test_play_an_online_show_and_seek(phone: Phone) -> None:
    page = phone.page
    await phone.open("/shows")
    await page.get_by_test_id("show-item").first.wait_for(state="visible")
    await phone.open("/shows/jiangnan-sizhu-online")
    player = page.get_by_test_id("show-player")
    await player.wait_for(state="visible")
    await page.wait_for_function("document.querySelector('[data-testid=show-player]').readyState >= 1", timeout=30_000)
    assert round(await player.evaluate("v => v.duration")) == 24
    await player.evaluate("v => { v.muted = true; v.currentTime = 13 }")
    await page.wait_for_function(
        "(() => { const v = document.querySelector('[data-testid=show-player]'); "
        "return !v.seeking && v.currentTime >= 12 && v.readyState >= 2 })()",
        timeout=30_000,
    )
    await player.evaluate("v => v.play()")
    start = await player.evaluate("v => v.currentTime")
    await anyio.sleep(1.5)
    assert await player.evaluate("v => v.currentTime") > start, "it plays on from where it was sought"
