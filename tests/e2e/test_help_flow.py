"""Issue 16 through the phone app, end to end on the real server: a visitor files a complaint from the help
button, the venue's staff answer and resolve it from their case inbox, the visitor rates it; an SOS is one tap
in the help sheet, with the phone's location, and rings in the staff inbox."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Phone, live_account

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

VENUE = "changzhou-museum"
HERE = {"latitude": 31.8106, "longitude": 119.9656, "accuracy": 15}


async def sign_in(phone: Phone, account: dict, lang: str = "zh") -> None:
    await phone.context.add_cookies([{"name": "cx_token", "value": account["token"], "url": phone.base_url}])
    await phone.open("/")
    await phone.page.evaluate(f"localStorage.setItem('cx.lang', '{lang}'); localStorage.setItem('cx.signedIn', '1')")


async def test_a_case_is_filed_answered_resolved_and_rated_in_the_app(browser, live_server_url):
    visitor = await live_account(live_server_url, "tourist", name="求助游客")
    staff = await live_account(live_server_url, "staff", venues=(VENUE,), name="博物馆值班")
    me = await Phone(live_server_url).start(browser)
    desk = await Phone(live_server_url).start(browser)
    try:
        await sign_in(me, visitor)
        await me.open(f"/venues/{VENUE}")
        await me.page.get_by_test_id("help-button").click()
        await me.page.get_by_test_id("help-sheet").wait_for()
        assert await me.page.get_by_test_id("call-110").get_attribute("href") == "tel:110"
        assert await me.page.get_by_test_id("call-120").get_attribute("href") == "tel:120"
        await me.page.get_by_test_id("call-venue").wait_for()  # the venue's own number
        await me.page.get_by_test_id("help-file").click()
        await me.page.get_by_test_id("help-form").wait_for()
        # the venue the visitor stood at is chosen once the venue list has come
        await me.page.wait_for_function(f"document.querySelector('[data-testid=help-venue]')?.value === '{VENUE}'")
        await me.page.get_by_test_id("help-text").fill("寄存处多收了十元 overcharged at the cloakroom")
        await me.page.get_by_test_id("help-submit").click()
        await me.page.wait_for_url("**/help/*")
        case_id = me.page.url.rsplit("/", 1)[1].split("?")[0]
        assert "待受理" in await me.page.get_by_test_id("case-status").inner_text()

        await sign_in(desk, staff)
        await desk.open("/cases/inbox")
        item = desk.page.locator(f"[data-testid=inbox-case][href='/help/{case_id}']")
        await item.wait_for()
        await item.click()
        await desk.page.get_by_test_id("move-acknowledged").click()
        await desk.page.wait_for_function(
            "document.querySelector('[data-testid=case-status]')?.textContent.includes('处理中')"
        )
        await desk.page.get_by_test_id("case-reply").fill("已退还十元，请到服务台领取")
        await desk.page.get_by_test_id("case-send").click()
        await desk.page.get_by_test_id("case-message").first.wait_for()
        await desk.page.get_by_test_id("move-resolved").click()
        await desk.page.wait_for_function(
            "document.querySelector('[data-testid=case-status]')?.textContent.includes('已办结')"
        )

        await me.page.reload()
        await me.page.get_by_test_id("case-rate").wait_for()
        assert "已退还十元" in await me.page.get_by_test_id("case-message").first.inner_text()
        await me.page.locator("[data-testid=rate-stars] .van-rate__item").nth(3).click()
        await me.page.get_by_test_id("rate-submit").click()
        await me.page.get_by_test_id("case-rated").wait_for()
        assert "4" in await me.page.get_by_test_id("case-rated").inner_text()

        async with httpx.AsyncClient(base_url=live_server_url) as http:
            seen = (await http.get(f"/api/v1/cases/{case_id}", headers=visitor["headers"])).json()
        assert seen["status"] == "resolved" and seen["rating"]["stars"] == 4
        assert [m["author_role"] for m in seen["messages"]] == ["staff"]
        assert not me.errors and not desk.errors, me.errors + desk.errors
    finally:
        await me.context.close()
        await desk.context.close()


async def test_sos_is_one_tap_in_the_help_sheet_and_rings_in_the_staff_inbox(browser, live_server_url):
    visitor = await live_account(live_server_url, "tourist", name="救援游客")
    staff = await live_account(live_server_url, "staff", venues=(VENUE,), name="博物馆值班")
    me = await Phone(live_server_url).start(browser)
    desk = await Phone(live_server_url).start(browser)
    try:
        await sign_in(desk, staff)
        await desk.open("/cases/inbox")
        await desk.page.get_by_test_id("inbox-live").wait_for()  # the stream is open

        await me.context.grant_permissions(["geolocation"], origin=live_server_url)
        await me.context.set_geolocation(HERE)
        await sign_in(me, visitor)
        await me.open(f"/venues/{VENUE}")
        await me.page.get_by_test_id("help-button").click()
        await me.page.get_by_test_id("sos").click()
        await me.page.wait_for_url("**/help/*")
        case_id = me.page.url.rsplit("/", 1)[1].split("?")[0]
        await me.page.get_by_test_id("case-head").wait_for()
        assert "tel:110" in await me.page.get_by_test_id("case-head").inner_html()

        sos = desk.page.locator(f"[data-testid=inbox-case][href='/help/{case_id}']")
        await sos.wait_for(timeout=5000)  # no reload: the stream rang
        assert "inbox-item--sos" in (await sos.get_attribute("class") or "")
        async with httpx.AsyncClient(base_url=live_server_url) as http:
            seen = (await http.get(f"/api/v1/cases/{case_id}", headers=staff["headers"])).json()
        assert seen["kind"] == "sos" and seen["priority"] == "urgent" and seen["assigned_to"]["venue_slug"] == VENUE
        assert seen["location"]["lat"] == pytest.approx(31.8106) and seen["location"]["lng"] == pytest.approx(119.9656)
        assert not me.errors and not desk.errors, me.errors + desk.errors
    finally:
        await me.context.close()
        await desk.context.close()
