"""Timed-entry booking in the phone app, end to end in Debian's Chromium on the real server: choose a
day and a time at a venue, enter a visitor (the ID number is checked as it is typed), book, find the
booking in "my bookings" (also offline), and cancel it. Also: a visitor who is not logged in is sent
to log in and comes back to the form they had filled in.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e`.
"""

from __future__ import annotations

import itertools
import re
import uuid

import pytest

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

MUSEUM = "changzhou-museum"  # free, booking required, Tu–Su 09–17, closed on Mondays
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


_serial = itertools.count(1)


def resident_id(born: str = "19900307") -> str:
    """A valid resident ID number (天宁区 320402), different on every call of the run. (Not random: the
    test runner reseeds `random` for every test, and two tests drawing the same number at one venue and
    day would make the second a `duplicate_visitor`.)"""
    first17 = f"320402{born}{next(_serial) % 1000:03d}"
    return first17 + CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def with_wrong_check_char(number: str) -> str:
    wrong = next(c for c in CHECK if c != number[-1])
    return number[:17] + wrong


async def register(phone: Phone, name: str = "常州游客") -> str:
    email = f"e2e-book-{uuid.uuid4().hex[:10]}@changxiang.test"
    await phone.page.get_by_test_id("mode-register").click()
    form = phone.page.get_by_test_id("form-register")
    await form.get_by_label("昵称").fill(name)
    await form.get_by_label("邮箱").fill(email)
    await form.get_by_label("密码").fill("correct-horse-9")
    await form.locator("button[type=submit]").click()
    return email


async def choose_a_time(phone: Phone) -> None:
    """On the venue page: a day with open times (not today, whose times may run out), its first open time."""
    await phone.page.get_by_test_id("slot-picker").wait_for(state="visible")
    days = phone.page.get_by_test_id("day")
    await phone.page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=day]')].every(d => d.dataset.state !== 'loading')"
    )
    # the strip scrolls by itself: the page never gets wider than the phone
    assert await phone.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    open_days = phone.page.locator("[data-testid=day][data-state=open]")
    assert await open_days.count() >= 1
    # a Monday is shown as closed ("闭馆") in the strip
    states = [await days.nth(i).get_attribute("data-state") for i in range(await days.count())]
    assert "closed" in states, states
    today = await days.first.get_attribute("data-date")
    day = phone.page.locator(f"[data-testid=day][data-state=open]:not([data-date='{today}'])")
    await day.first.click()
    assert await day.first.get_attribute("aria-pressed") == "true"
    slot = phone.page.locator("[data-testid=slot][data-status=open]").first
    await slot.wait_for(state="visible")
    assert re.search(r"余 \d+", await slot.inner_text())
    await slot.click()
    book = phone.page.get_by_test_id("book")
    assert await book.is_enabled()
    assert re.search(r"预约 \d\d:\d\d–\d\d:\d\d", await book.inner_text())
    await book.click()
    await phone.page.get_by_test_id("booking-form").wait_for(state="visible")


async def test_book_see_and_cancel(phone: Phone) -> None:
    page = phone.page
    await phone.open("/me")
    await register(phone)
    await page.get_by_test_id("profile").wait_for(state="visible")

    await phone.open(f"/venues/{MUSEUM}")
    await choose_a_time(phone)
    assert "常州博物馆" in await page.get_by_test_id("booking-summary").inner_text()

    # an ID number with a wrong check character: the mistake shows while typing, before sending
    good = resident_id()
    await page.get_by_test_id("visitor-name").fill("张小明")
    id_field = page.get_by_test_id("visitor-id-number")
    await id_field.fill(with_wrong_check_char(good))
    error = page.get_by_test_id("id-error")
    await error.wait_for(state="visible")
    assert "校验" in await error.inner_text()
    assert await id_field.get_attribute("aria-invalid") == "true"
    described = await id_field.get_attribute("aria-describedby")
    assert described and await page.locator(f"#{described}").is_visible()
    await id_field.fill(good)
    await error.wait_for(state="detached")
    assert await id_field.get_attribute("aria-invalid") == "false"

    def is_booking(r) -> bool:
        return r.method == "POST" and "/api/v1/reservations?" in r.url

    async with page.expect_request(is_booking) as req:
        await page.get_by_test_id("submit-booking").click()
    sent = await req.value
    assert re.fullmatch(r"[0-9a-f-]{36}", sent.headers.get("idempotency-key", "")), sent.headers
    detail = page.get_by_test_id("booking-detail")
    await detail.wait_for(state="visible")
    assert await detail.get_attribute("data-status") == "confirmed"
    assert await page.get_by_test_id("booking-headline").inner_text() == "预约成功"
    text = await detail.inner_text()
    assert "张*明" in text and good not in text  # the full ID number is never shown back
    assert await page.get_by_test_id("cancel-deadline").is_visible()
    booking_url = page.url.split("?")[0]

    # my bookings lists it under "upcoming"
    await page.get_by_test_id("all-bookings").click()
    card = page.get_by_test_id("upcoming").get_by_test_id("booking-card").first
    await card.wait_for(state="visible")
    await page.wait_for_function("document.querySelector('[data-testid=upcoming]')?.innerText.includes('常州博物馆')")
    assert "已确认" in await card.inner_text()
    assert phone.errors == []

    # … and still after going offline (the service worker kept the answer)
    # (a page whose navigation began while the worker was still activating stays uncontrolled, so
    # wait for an active worker and load the page once more: that load goes through it)
    await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    await page.reload()
    await page.wait_for_function("navigator.serviceWorker.controller != null")
    await card.wait_for(state="visible")
    await page.wait_for_load_state("networkidle")
    await phone.context.set_offline(True)
    try:
        await page.reload()
        await card.wait_for(state="visible")
        assert "常州博物馆" in await card.inner_text()
    finally:
        await phone.context.set_offline(False)
    phone.errors.clear()  # requests that failed while offline

    # cancel it (once the browser knows it is online again; the page also retries by itself)
    await page.wait_for_function("navigator.onLine")
    await page.goto(booking_url)
    await page.get_by_test_id("cancel-booking").click(timeout=30_000)
    await page.get_by_role("button", name="确定取消").click()
    await page.wait_for_function(
        "document.querySelector('[data-testid=booking-detail]')?.dataset.status === 'cancelled'"
    )
    assert await page.get_by_test_id("booking-headline").inner_text() == "预约已取消"
    assert await page.get_by_test_id("cancel-booking").count() == 0
    await page.get_by_test_id("all-bookings").click()
    past = page.get_by_test_id("past").get_by_test_id("booking-card").first
    await past.wait_for(state="visible")
    assert "已取消" in await past.inner_text()
    assert phone.errors == []


async def test_logged_out_visitor_logs_in_and_comes_back(phone: Phone) -> None:
    page = phone.page
    await phone.open(f"/venues/{MUSEUM}")
    await choose_a_time(phone)
    await page.get_by_test_id("login-needed").wait_for(state="visible")
    number = resident_id("19851111")
    await page.get_by_test_id("visitor-name").fill("李四海")
    await page.get_by_test_id("visitor-id-number").fill(number)
    form_url = page.url
    await page.get_by_test_id("submit-booking").click()

    # sent to log in, with the way back
    await page.wait_for_url(re.compile(r"/me\?next="))
    await page.get_by_test_id("login-next").wait_for(state="visible")
    await register(phone, "李四海")
    await page.wait_for_url(form_url)
    # the visitor entered before is still there
    await page.get_by_test_id("booking-form").wait_for(state="visible")
    assert await page.get_by_test_id("visitor-name").input_value() == "李四海"
    assert await page.get_by_test_id("visitor-id-number").input_value() == number
    assert await page.get_by_test_id("login-needed").count() == 0

    # remember on this device: the saved traveller is listed masked next time
    await page.get_by_test_id("remember").click()
    await page.get_by_test_id("submit-booking").click()
    detail = page.get_by_test_id("booking-detail")
    await detail.wait_for(state="visible")
    assert await detail.get_attribute("data-status") == "confirmed"
    saved = await page.evaluate("JSON.parse(localStorage.getItem('cx.companions'))")
    assert saved == [{"name": "李四海", "id_type": "resident_id", "id_number": number}]

    # the same person cannot book the same venue twice on one day: the server's answer is shown
    await page.go_back()
    await page.wait_for_url(re.compile(r"/venues/"))
    await page.get_by_test_id("book").click()
    companions = page.get_by_test_id("companions")
    await companions.wait_for(state="visible")
    listed = await companions.inner_text()
    assert "李*海" in listed and f"{number[:3]}***********{number[-4:]}" in listed and number not in listed
    await companions.get_by_role("checkbox").check()
    await page.get_by_test_id("visitor-saved").wait_for(state="visible")
    await page.get_by_test_id("submit-booking").click()
    problem = page.get_by_test_id("form-error")
    await problem.wait_for(state="visible")
    assert await problem.get_attribute("data-code") == "duplicate_visitor"
    phone.errors = [e for e in phone.errors if "409" not in e]  # the refused POST
    assert phone.errors == []
