"""Tours' texts and campaigns on the marketers' phone screens (issue 21, item 6), end to end in Debian's Chromium
on the real server: a marketer edits a tour's title (zh and en side by side, a preview) and sends it to review, a
second marketer publishes it and the public tour shows the new title in both languages; a marketer creates a
voucher campaign (money in yuan, times picked in the city's zone and shown the Chinese way), the server's
validators answer next to their field, a second marketer publishes it and `GET /campaigns` lists it with its
face value in fen.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_marketer_tours_campaigns.py`. CX_SCREENSHOTS=<dir> also saves
screenshots (390×844: zh, en and large text).
"""

from __future__ import annotations

import os
import re
import sqlite3
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.conftest import Phone, live_account
from tests.e2e.test_featured import no_serious_violations, sign_in
from tests.e2e.test_marketer_editor import pick

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")


async def shot(phone: Phone, name: str, full_page: bool = False) -> None:
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / f"editor-{name}.png"), full_page=full_page)


async def look_in_other_modes(phone: Phone, path: str, testid: str, name: str) -> None:
    """The same screen in English, then with large text: nothing wider than the phone."""
    page = phone.page
    for suffix, en, large in (("en", "en", "0"), ("large", "zh", "1")):
        await page.evaluate(f"localStorage.setItem('cx.lang', '{en}'); localStorage.setItem('cx.largeText', '{large}')")
        await phone.open(path)
        await page.get_by_test_id(testid).wait_for()
        await page.get_by_test_id("editor-state").wait_for()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await shot(phone, f"{name}-{suffix}", full_page=True)
    await page.evaluate("localStorage.setItem('cx.lang', 'zh'); localStorage.setItem('cx.largeText', '0')")


async def _a_first_stop(database_url: str, tour_id: int) -> None:
    """What `changxiang load-content` gives a tour from content/tours.toml: a stop (a tour goes public with
    its stops, 409 `tour_has_no_stops` before), written into the deployment's database as a factory would."""
    sql = (
        "INSERT INTO tour_stops (tour, position, poi, text_zh, text_en) "
        "SELECT {}, 1, id, '第一站', 'First stop' FROM pois ORDER BY id LIMIT 1"
    )
    if database_url.startswith("postgres"):
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(sql.format("$1"), tour_id)
        finally:
            await conn.close()
        return
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
        db.execute(sql.format("?"), (tour_id,))


async def test_a_marketer_edits_a_tours_title_and_a_second_publishes_it(
    phone: Phone, live_server_url, e2e_deployment
) -> None:
    author = await live_account(live_server_url, "marketer", name="市场部甲")
    reviewer = await live_account(live_server_url, "marketer", name="市场部乙")
    tag = uuid.uuid4().hex[:6]
    slug = f"e2e-tour-{tag}"
    async with httpx.AsyncClient(base_url=live_server_url, headers=author["headers"]) as http:
        res = await http.post(
            "/api/v1/admin/tours",
            json={"slug": slug, "title": {"zh": f"旧标题{tag}", "en": f"Old title {tag}"}, "duration_min": 45},
        )
        assert res.status_code == 201, res.text
        tour_id = res.json()["id"]
    await _a_first_stop(e2e_deployment.env["DATABASE_URL"], tour_id)

    page = phone.page
    await sign_in(phone, author)
    await phone.open("/marketer")
    await page.get_by_role("tab", name="导览").click()
    await page.get_by_test_id(f"edit-{tour_id}").click()
    await page.wait_for_url(re.compile(rf"/marketer/tours/{tour_id}$"))
    await page.get_by_test_id("editor-state").wait_for()
    title_zh = page.get_by_test_id("title-zh").locator("input")
    assert await title_zh.input_value() == f"旧标题{tag}"
    await title_zh.fill(f"青果巷夜游{tag}")
    await page.get_by_test_id("title-en").locator("input").fill(f"Qingguo Lane by night {tag}")
    await page.locator("textarea[name=summary_zh]").fill("沿着老巷走一圈")
    await page.locator("textarea[name=summary_en]").fill("A walk round the old lane")
    preview = page.get_by_test_id("editor-preview")
    await preview.get_by_text(f"青果巷夜游{tag}").wait_for()
    await preview.get_by_text("约 45 分钟").wait_for()
    await preview.get_by_role("button", name="English").click()
    await preview.get_by_text(f"Qingguo Lane by night {tag}").wait_for()
    # the server's validators answer next to their field: 0 minutes is too short (the phone doesn't check it)
    duration = page.get_by_test_id("duration").locator("input")
    await duration.fill("0")
    await page.get_by_test_id("editor-save").click()
    await page.get_by_test_id("duration").get_by_text("这一项不符合要求").wait_for()
    # Chromium itself logs the refused request ("Failed to load resource: … 400"): expected, and only that
    assert all("400 (Bad Request)" in e for e in phone.errors), phone.errors
    phone.errors.clear()
    await duration.fill("50")
    await page.evaluate("window.scrollTo(0, 0)")
    await no_serious_violations(phone)
    await shot(phone, "tour-zh", full_page=True)
    await page.get_by_test_id("editor-save").click()
    await page.get_by_test_id("editor-move-in_review").wait_for()
    await page.get_by_test_id("editor-move-in_review").click()
    await page.get_by_test_id("editor-history").get_by_text("草稿 → 待审核").wait_for()

    await phone.context.clear_cookies()
    await sign_in(phone, reviewer)
    await phone.open(f"/marketer/tours/{tour_id}")
    await page.get_by_test_id("editor-move-published").click()
    await page.get_by_test_id("editor-state").get_by_text("已发布").wait_for()
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        zh = (await http.get(f"/api/v1/tours/{slug}", params={"lang": "zh"})).json()
        en = (await http.get(f"/api/v1/tours/{slug}", params={"lang": "en"})).json()
        log = (await http.get(f"/api/v1/admin/tours/{tour_id}/transitions", headers=reviewer["headers"])).json()
    assert (zh["title"], zh["summary"], zh["duration_min"]) == (f"青果巷夜游{tag}", "沿着老巷走一圈", 50)
    assert (en["title"], en["summary"]) == (f"Qingguo Lane by night {tag}", "A walk round the old lane")
    assert [(m["to_state"], m["user_id"]) for m in log] == [("in_review", author["id"]), ("published", reviewer["id"])]
    await look_in_other_modes(phone, f"/marketer/tours/{tour_id}", "editor-form", "tour")
    assert not phone.errors, phone.errors


async def test_a_marketer_creates_a_voucher_campaign_and_a_second_publishes_it(phone: Phone, live_server_url) -> None:
    author = await live_account(live_server_url, "marketer", name="市场部甲")
    reviewer = await live_account(live_server_url, "marketer", name="市场部乙")
    tag = uuid.uuid4().hex[:6]
    page = phone.page
    await sign_in(phone, author)
    await phone.open("/marketer")
    await page.get_by_role("tab", name="礼遇活动").click()
    await page.get_by_test_id("marketer-new").click()
    await page.get_by_test_id("campaign-form").wait_for()
    await page.get_by_test_id("title-zh").locator("input").fill(f"茶馆满减券{tag}")
    await page.get_by_test_id("title-en").locator("input").fill(f"Tea house voucher {tag}")
    await page.get_by_test_id("face-value").locator("input").fill("12.5")
    await page.get_by_test_id("min-spend").locator("input").fill("50")
    await page.get_by_test_id("cat-tea_house").check()
    await page.get_by_test_id("quota").locator("input").fill("200")
    await page.get_by_test_id("per-person").locator("input").fill("2")
    await pick(page, "release_at")
    await pick(page, "valid_from")
    await pick(page, "valid_until")
    release = await page.get_by_test_id("dt-release_at").locator("input").input_value()
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 周. \d\d:\d\d", release), release
    preview = page.get_by_test_id("campaign-preview")
    assert await preview.get_by_test_id("preview-value").inner_text() == "满 ¥50.00 减 ¥12.50"
    await preview.get_by_text(f"茶馆满减券{tag}").wait_for()
    await preview.get_by_text("每人限 2 张").wait_for()
    await page.get_by_test_id("preview-en").click()
    await preview.get_by_text(f"Tea house voucher {tag}").wait_for()
    assert await preview.get_by_test_id("preview-value").inner_text() == "¥12.50 off when you spend ¥50.00"
    await page.get_by_test_id("preview-zh").click()

    # checked before sending, next to their field: a lottery needs a closing time for applications
    await page.get_by_test_id("allocation-lottery").check()
    await page.get_by_test_id("editor-save").click()
    await page.get_by_test_id("dt-claim_until").get_by_text("抽签需要报名截止时间").wait_for()
    await page.get_by_test_id("allocation-first_come").check()
    await page.get_by_test_id("quota").locator("input").fill("1")
    await page.get_by_test_id("per-person").get_by_text("每人限领不能超过总量").wait_for()
    await page.get_by_test_id("quota").locator("input").fill("200")
    await page.evaluate("window.scrollTo(0, 0)")
    await no_serious_violations(phone)
    await shot(phone, "campaign-zh", full_page=True)
    await page.get_by_test_id("editor-save").click()
    await page.wait_for_url(re.compile(r"/marketer/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    assert await page.get_by_test_id("editor-state").inner_text() == "草稿"
    await page.get_by_test_id("editor-move-in_review").click()
    await page.get_by_test_id("editor-history").get_by_text("草稿 → 待审核").wait_for()

    await phone.context.clear_cookies()
    await sign_in(phone, reviewer)
    await phone.open(f"/marketer/campaigns/{campaign_id}")
    assert await page.get_by_test_id("face-value").locator("input").input_value() == "12.5"
    await page.get_by_test_id("editor-move-published").click()
    await page.get_by_test_id("editor-state").get_by_text("已发布").wait_for()
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        listed = (await http.get("/api/v1/campaigns", params={"lang": "en", "limit": 200})).json()["items"]
        log = (await http.get(f"/api/v1/admin/campaigns/{campaign_id}/transitions", headers=reviewer["headers"])).json()
    mine = next(c for c in listed if c["id"] == campaign_id)
    assert (mine["title"], mine["kind"], mine["face_value_fen"], mine["min_spend_fen"]) == (
        f"Tea house voucher {tag}",
        "voucher",
        1250,
        5000,
    )
    assert (mine["quota"], mine["per_person"], mine["merchant_categories"]) == (200, 2, ["tea_house"])
    assert [(m["to_state"], m["user_id"]) for m in log] == [("in_review", author["id"]), ("published", reviewer["id"])]
    await look_in_other_modes(phone, f"/marketer/campaigns/{campaign_id}", "campaign-form", "campaign")
    assert not phone.errors, phone.errors


async def test_a_card_campaign_lists_its_venues_and_the_server_checks_the_kind(phone: Phone, live_server_url) -> None:
    """A residents' card: venues picked on the phone, no face value; the list screen shows it under 礼遇活动."""
    author = await live_account(live_server_url, "marketer", name="市场部")
    tag = uuid.uuid4().hex[:6]
    page = phone.page
    await sign_in(phone, author)
    await phone.open("/marketer/campaigns/new")
    await page.get_by_test_id("campaign-form").wait_for()
    await page.get_by_test_id("title-zh").locator("input").fill(f"惠民卡{tag}")
    await page.get_by_test_id("title-en").locator("input").fill(f"Residents' card {tag}")
    await page.get_by_test_id("kind-card").check()
    await page.get_by_test_id("editor-save").click()
    await page.get_by_text("惠民卡至少选择一个场馆").wait_for()
    await page.get_by_test_id("venue-changzhou-museum").check()
    await page.get_by_test_id("venue-qingguo-lane").check()
    await pick(page, "release_at")
    await pick(page, "valid_from")
    await pick(page, "valid_until")
    preview = page.get_by_test_id("campaign-preview")
    assert await preview.get_by_test_id("preview-value").inner_text() == "惠民卡"
    await preview.get_by_text("常州博物馆").wait_for()
    await page.get_by_test_id("editor-save").click()
    await page.wait_for_url(re.compile(r"/marketer/campaigns/\d+$"))
    campaign_id = int(page.url.rsplit("/", 1)[1])
    async with httpx.AsyncClient(base_url=live_server_url, headers=author["headers"]) as http:
        saved = (await http.get(f"/api/v1/admin/campaigns/{campaign_id}")).json()
    assert (saved["kind"], saved["face_value_fen"], saved["card_venue_slugs"]) == (
        "card",
        0,
        ["changzhou-museum", "qingguo-lane"],
    )
    await phone.open("/marketer?kind=campaigns")
    await page.get_by_test_id(f"edit-{campaign_id}").get_by_text(f"惠民卡{tag}").wait_for()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await no_serious_violations(phone)
    await shot(phone, "marketer-list-zh")
    assert not phone.errors, phone.errors


async def test_an_exhibition_page_shows_its_library_gallery(phone: Phone, live_server_url) -> None:
    """The exhibition's own photos (issue 21: `gallery` on GET /exhibitions/{slug}) under its objects."""
    from tests.e2e.test_exhibition_zoom import EXHIBITION
    from tests.e2e.test_media_library import phone_photo

    marketer = await live_account(live_server_url, "marketer", name="市场部")
    where = f"/api/v1/galleries/exhibitions/{EXHIBITION}"
    async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
        photo = await http.post(
            "/api/v1/photos",
            data={"alt_zh": "展厅一角", "alt_en": "A corner of the hall", "credit": "常州文旅"},
            files={"file": ("hall.jpg", phone_photo(), "image/jpeg")},
        )
        assert photo.status_code == 201, photo.text
        before = (await http.get(where)).json()["photo_ids"]
        assert (await http.put(where, json={"photo_ids": [photo.json()["id"]]})).status_code == 200
    try:
        page = phone.page
        await phone.open(f"/exhibitions/{EXHIBITION}")
        gallery = page.get_by_test_id("photo-gallery")
        await gallery.wait_for()
        await gallery.scroll_into_view_if_needed()
        assert await gallery.locator("img").get_attribute("alt") == "展厅一角"
        assert "常州文旅" in await gallery.inner_text()
        await gallery.locator("img.is-in").wait_for()
        await shot(phone, "exhibition-gallery-zh")
        await no_serious_violations(phone)
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    finally:
        async with httpx.AsyncClient(base_url=live_server_url, headers=marketer["headers"], timeout=20) as http:
            assert (await http.put(where, json={"photo_ids": before})).status_code == 200
    assert not phone.errors, phone.errors
