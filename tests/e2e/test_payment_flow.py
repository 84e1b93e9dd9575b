"""Paying for a booking in the phone app, end to end in Debian's Chromium on the real server, with the
end-to-end deployment's own Stripe stand-in (`live_stripe`, tests/conftest.py: its hosted page has a
"支付 Pay" button that completes the payment, sends the signed webhook to the server and redirects to
the success URL).

Book 中华恐龙园 (¥260, booking required) for two visitors and see the total follow the visitors
(¥260.00 × 2 = ¥520.00); the booking is held for payment with a countdown and "去支付 ¥520.00"; pay
on the stand-in's page, come back to "正在确认支付…" (the webhook held back a moment) and then
"支付成功" (confirmed, 已支付) once it arrives; cancel,
with the confirm dialog saying the ¥520.00 will be refunded, and see "已退款 ¥520.00". A second test
leaves the payment page without paying: the places are still held and "Pay" is offered again.

Run: `make test`, or `.venv/bin/pytest -m e2e tests/e2e`.
"""

from __future__ import annotations

import re

import anyio
import pytest

from tests.e2e.conftest import Phone
from tests.e2e.test_booking_flow import register, resident_id

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

PARK = "china-dinosaur-park"  # ¥260 a person, booking required, open daily 09–17
BOOKING_URL = re.compile(r"/bookings/[0-9a-f-]{36}(\?|$)")


async def choose_an_open_time(phone: Phone) -> None:
    """On the venue page: a day after today with open times, its first open time, then "book"."""
    page = phone.page
    await page.get_by_test_id("slot-picker").wait_for(state="visible")
    await page.wait_for_function(
        "[...document.querySelectorAll('[data-testid=day]')].every(d => d.dataset.state !== 'loading')"
    )
    today = await page.get_by_test_id("day").first.get_attribute("data-date")
    day = page.locator(f"[data-testid=day][data-state=open]:not([data-date='{today}'])").first
    await day.click()
    slot = page.locator("[data-testid=slot][data-status=open]").first
    await slot.wait_for(state="visible")
    await slot.click()
    await page.get_by_test_id("book").click()
    await page.get_by_test_id("booking-form").wait_for(state="visible")


async def book_two(phone: Phone) -> str:
    """Register, book the park for two visitors (checking the total on the way); the booking's URL."""
    page = phone.page
    await phone.open("/me")
    await register(phone)
    await page.get_by_test_id("profile").wait_for(state="visible")
    await phone.open(f"/venues/{PARK}")
    await choose_an_open_time(phone)
    assert "中华恐龙园" in await page.get_by_test_id("booking-summary").inner_text()

    total = page.get_by_test_id("booking-total")
    assert await page.get_by_test_id("booking-calc").inner_text() == "¥260.00 × 1 ="
    assert await page.get_by_test_id("booking-total-amount").inner_text() == "¥260.00"

    await page.get_by_test_id("visitor-name").nth(0).fill("张小明")
    await page.get_by_test_id("visitor-id-number").nth(0).fill(resident_id("19900307"))
    await page.get_by_test_id("add-visitor").click()
    # the total follows the visitors at once
    await page.wait_for_function(
        "document.querySelector('[data-testid=booking-total-amount]')?.innerText === '¥520.00'"
    )
    assert await page.get_by_test_id("booking-calc").inner_text() == "¥260.00 × 2 ="
    assert await total.get_attribute("data-total-fen") == "52000"
    assert "¥260.00 × 2 = ¥520.00" in " ".join((await total.inner_text()).split())
    await page.get_by_test_id("visitor-name").nth(1).fill("李四海")
    await page.get_by_test_id("visitor-id-number").nth(1).fill(resident_id("19851111"))

    await page.get_by_test_id("submit-booking").click()
    detail = page.get_by_test_id("booking-detail")
    await detail.wait_for(state="visible")
    assert await detail.get_attribute("data-status") == "pending_payment"
    assert await page.get_by_test_id("booking-headline").inner_text() == "名额已保留，等待支付"
    assert re.search(r"\d\d:\d\d", await page.get_by_test_id("hold-countdown").inner_text())
    assert await page.get_by_test_id("booking-amount").inner_text() == "¥520.00"
    pay = page.get_by_test_id("pay")
    assert " ".join((await pay.inner_text()).split()) == "去支付 ¥520.00"
    return page.url.split("?")[0]


def app_errors(phone: Phone) -> list[str]:
    """Console errors of our own pages (not of the stand-in's pay page, which has no favicon)."""
    return [e for e in phone.errors if phone.base_url in e or not re.search(r"@ https?://", e)]


async def test_pay_then_cancel_and_get_refunded(phone: Phone, live_stripe) -> None:
    page = phone.page
    booking_url = await book_two(phone)
    booking_id = booking_url.rsplit("/", 1)[1]

    # "Pay": POST …/checkout, then off to the payment page
    def is_checkout(r) -> bool:
        return r.method == "POST" and f"/api/v1/reservations/{booking_id}/checkout" in r.url

    async with page.expect_request(is_checkout):
        await page.get_by_test_id("pay").click()
    await page.wait_for_url(re.compile(r"/checkout/cs_"))
    session_id = re.search(r"/checkout/(cs_[A-Za-z0-9_]+)", page.url).group(1)
    assert "¥520.00" in await page.locator("body").inner_text()

    # pay on the stand-in's page; it redirects back to ?paid=1. Its webhook is held back here, as
    # if it arrived a moment after the redirect: the page says it is confirming and keeps asking.
    webhook_url, live_stripe.webhook_url = live_stripe.webhook_url, None
    try:
        await page.get_by_role("button", name="支付 Pay").click()
        await page.wait_for_url(re.compile(rf"/bookings/{booking_id}\?paid=1"))
        detail = page.get_by_test_id("booking-detail")
        await detail.wait_for(state="visible")
        await page.get_by_text("正在确认支付…").wait_for(state="visible")
        assert await detail.get_attribute("data-status") == "pending_payment"
        assert await page.get_by_test_id("pay").count() == 0  # no second payment meanwhile
    finally:
        live_stripe.webhook_url = webhook_url
    payload = live_stripe.event("checkout.session.completed", session_id)
    assert await anyio.to_thread.run_sync(live_stripe.deliver, payload) == 200
    await page.wait_for_function(
        "document.querySelector('[data-testid=booking-detail]')?.dataset.status === 'confirmed'"
    )
    assert await page.get_by_test_id("booking-headline").inner_text() == "支付成功"
    assert "¥520.00" in await page.get_by_test_id("paid-text").inner_text()
    badge = detail.get_by_test_id("payment-badge")
    assert await badge.get_attribute("data-payment") == "paid"
    assert await badge.inner_text() == "已支付"
    assert await page.get_by_test_id("payment-status").inner_text() == "已支付"
    assert await page.get_by_test_id("pay").count() == 0

    # my bookings: the card says confirmed and paid
    await page.get_by_test_id("all-bookings").click()
    card = page.get_by_test_id("upcoming").get_by_test_id("booking-card").first
    await card.wait_for(state="visible")
    text = await card.inner_text()
    assert "已确认" in text and "已支付" in text and "¥520.00" in text

    # cancel: the dialog says the money goes back; the answer and the booking show the refund
    await page.goto(booking_url)
    await page.get_by_test_id("cancel-booking").click()
    dialog = page.get_by_role("dialog")
    await dialog.wait_for(state="visible")
    assert "¥520.00" in await dialog.inner_text() and "退回" in await dialog.inner_text()
    await page.get_by_role("button", name="确定取消").click()
    await page.wait_for_function(
        "document.querySelector('[data-testid=booking-detail]')?.dataset.status === 'cancelled'"
    )
    refund = page.get_by_test_id("refund-status")
    await refund.wait_for(state="visible")
    assert await refund.inner_text() == "已退款 ¥520.00"
    assert await refund.get_attribute("data-refund") == "succeeded"
    listed = page.get_by_test_id("payment-details").get_by_test_id("refund").first
    await listed.wait_for(state="visible")
    assert "已退款 ¥520.00" in await listed.inner_text()
    # the payment section refreshes from the server after the cancel answer: wait for it
    await page.wait_for_function(
        "document.querySelector('[data-testid=payment-status]')?.innerText.trim() === '已退款'"
    )

    # … and in my bookings, under "past and cancelled"
    await page.get_by_test_id("all-bookings").click()
    past = page.get_by_test_id("past").get_by_test_id("booking-card").first
    await past.wait_for(state="visible")
    text = await past.inner_text()
    assert "已取消" in text and "已退款" in text
    assert app_errors(phone) == []


async def test_leaving_the_payment_page_keeps_the_hold(phone: Phone) -> None:
    page = phone.page
    await book_two(phone)
    await page.get_by_test_id("pay").click()
    await page.wait_for_url(re.compile(r"/checkout/cs_"))
    await page.get_by_role("button", name="取消 Cancel").click()
    await page.wait_for_url(re.compile(r"/bookings/[0-9a-f-]{36}\?payment=cancelled"))
    detail = page.get_by_test_id("booking-detail")
    await detail.wait_for(state="visible")
    assert await detail.get_attribute("data-status") == "pending_payment"
    await page.get_by_test_id("payment-left").wait_for(state="visible")
    assert await page.get_by_test_id("hold-countdown").is_visible()
    # paying again resumes the open session
    await page.get_by_test_id("pay").click()
    await page.wait_for_url(re.compile(r"/checkout/cs_"))
    assert app_errors(phone) == []
