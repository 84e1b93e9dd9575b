"""Paying out of the box (issue 21): a development server (`make run` sets CHANGXIANG_DEV=1) with no Stripe keys
starts the bundled Stripe stand-in itself, in test mode, so a newcomer can pay for a paid venue; the app says
no real money moves. Real keys switch it off (the suite's other servers have keys: their config says so).

Run: `.venv/bin/pytest -m e2e tests/e2e/test_payments_test_mode.py`.
"""

from __future__ import annotations

import re

import httpx
import msgspec
import pytest

from backend.lib.client_config import payments_mode
from backend.settings import get_settings
from tests.e2e.conftest import Phone
from tests.e2e.test_payment_flow import book_two

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


@pytest.fixture(scope="module")
def dev_server(e2e_deployment):
    """A development server of the end-to-end deployment without any Stripe setting (as on a fresh clone)."""
    server = e2e_deployment.start_server(
        "e2e-dev", CHANGXIANG_DEV="1", STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET="", STRIPE_API_BASE=""
    )
    yield server
    server.stop()


async def test_a_fresh_development_server_pays_through_its_own_stand_in(browser, dev_server) -> None:
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{dev_server.url}/api/v1/config")).json()["payments"] == {"mode": "test"}
    assert "TEST MODE" in dev_server.log_path.read_text()
    phone = await Phone(dev_server.url).start(browser)
    try:
        page = phone.page
        booking_url = await book_two(phone)
        await page.get_by_test_id("test-mode").wait_for()
        assert "不会真实扣款" in await page.get_by_test_id("test-mode").inner_text()
        await page.get_by_test_id("pay").click()
        await page.wait_for_url(re.compile(r"/checkout/cs_"))
        assert page.url.startswith("http://127.0.0.1:")  # the bundled stand-in, on this machine
        await page.get_by_role("button", name="支付 Pay").click()
        await page.wait_for_url(re.compile(re.escape(booking_url) + r"\?paid=1"))
        detail = page.get_by_test_id("booking-detail")
        await page.wait_for_function(
            "document.querySelector('[data-testid=booking-detail]')?.dataset.status === 'confirmed'"
        )
        assert await detail.get_attribute("data-status") == "confirmed"
    finally:
        await phone.context.close()


def test_real_keys_switch_the_bundled_stand_in_off(e2e_deployment) -> None:
    server = e2e_deployment.start_server("e2e-dev-keys", CHANGXIANG_DEV="1")  # the deployment's own keys
    try:
        assert "TEST MODE" not in server.log_path.read_text()
    finally:
        server.stop()
    live = msgspec.structs.replace(get_settings(), stripe_secret_key="sk_live_x", stripe_webhook_secret="whsec_x")
    assert payments_mode(live) == "live"
    assert payments_mode(msgspec.structs.replace(live, stripe_secret_key=None)) == "off"
