"""Editors' picks and the staff member's today (issue 21, items 3 and 6), end to end in Debian's Chromium on the
real server: a marketer makes a picks list on the phone (title in zh and en, items found by search, reordered,
previewed) and sends it to review, a second marketer publishes it, home shows it in zh and en; a staff
member sees their venue by name with today's figures and the open cases.

Run: `.venv/bin/pytest -m e2e tests/e2e/test_featured.py`. CX_SCREENSHOTS=<dir> also saves screenshots
(390×844: zh, en and large text).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Phone, live_account
from tests.e2e.test_phone_quality import AXE, AXE_RUN

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")
MUSEUM = "changzhou-museum"


async def shot(phone: Phone, name: str, full_page: bool = False) -> None:
    if SHOTS:  # Playwright creates the folder
        await phone.page.screenshot(path=str(Path(SHOTS) / f"featured-{name}.png"), full_page=full_page)


async def sign_in(phone: Phone, account: dict, *, en: bool = False, large: bool = False) -> None:
    await phone.context.add_cookies([{"name": "cx_token", "value": account["token"], "url": phone.base_url}])
    await phone.open("/")
    await phone.page.evaluate(
        f"""() => {{
        localStorage.setItem('cx.signedIn', '1')
        localStorage.setItem('cx.lang', '{"en" if en else "zh"}')
        localStorage.setItem('cx.largeText', '{"1" if large else "0"}')
    }}"""
    )


async def no_serious_violations(phone: Phone) -> None:
    """axe-core on the screen as it is: nothing serious or critical."""
    await phone.page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = await phone.page.evaluate(AXE_RUN)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in serious
    )


async def add_by_search(page, q: str, kind: str, slug: str) -> None:
    await page.get_by_test_id("picks-search").locator("input").fill(q)
    await page.get_by_test_id(f"add-{kind}-{slug}").click()


async def test_a_marketer_makes_picks_a_second_publishes_and_home_shows_them(phone: Phone, live_server_url) -> None:
    author = await live_account(live_server_url, "marketer", name="市场部甲")
    reviewer = await live_account(live_server_url, "marketer", name="市场部乙")
    page = phone.page
    await sign_in(phone, author)
    await phone.open("/marketer")
    await page.get_by_role("tab", name="编辑推荐").click()
    await page.get_by_test_id("marketer-new").click()
    await page.get_by_test_id("picks-form").wait_for()
    tag = uuid.uuid4().hex[:6]
    await page.get_by_test_id("title-zh").locator("input").fill(f"周末去哪儿{tag}")
    await page.get_by_test_id("title-en").locator("input").fill(f"Where to this weekend {tag}")
    await add_by_search(page, "常州博物馆", "venue", MUSEUM)
    await add_by_search(page, "hongmei", "venue", "hongmei-park")
    await add_by_search(page, "青果巷", "venue", "qingguo-lane")
    await page.get_by_test_id("picked-2").get_by_text("青果巷").wait_for()
    assert "3" in await page.get_by_test_id("picks-count").inner_text()
    # reorder: 青果巷 to the top, 红梅公园 out
    await page.get_by_test_id("up-2").click()
    await page.get_by_test_id("up-1").click()
    await page.get_by_test_id("remove-2").click()
    await page.get_by_test_id("picked-0").get_by_text("青果巷").wait_for()
    await page.get_by_test_id("picked-0").locator("input[name=note_zh_0]").fill("先从东口进")
    await page.get_by_test_id("picked-0").locator("input[name=note_en_0]").fill("Enter from the east end")
    preview = page.get_by_test_id("picks-preview")
    await preview.get_by_text("先从东口进").wait_for()
    await page.get_by_test_id("preview-en").click()
    await preview.get_by_text("Changzhou Museum").wait_for()
    await preview.get_by_text("Enter from the east end").wait_for()
    await shot(phone, "editor-zh", full_page=True)
    await page.get_by_test_id("picks-search").locator("input").fill("")
    await page.evaluate("window.scrollTo(0, 0)")
    await no_serious_violations(phone)
    await page.get_by_test_id("editor-save").click()
    await page.wait_for_url(re.compile(r"/marketer/featured/\d+$"))
    item_id = int(page.url.rsplit("/", 1)[1])
    assert await page.get_by_test_id("editor-state").inner_text() == "草稿"
    await page.get_by_test_id("editor-move-in_review").click()
    await page.get_by_test_id("editor-history").get_by_text("草稿 → 待审核").wait_for()

    # the second marketer publishes it from their phone
    await phone.context.clear_cookies()
    await sign_in(phone, reviewer)
    await phone.open(f"/marketer/featured/{item_id}")
    await page.get_by_test_id("editor-move-published").click()
    await page.get_by_test_id("editor-state").get_by_text("已发布").wait_for()
    async with httpx.AsyncClient(base_url=live_server_url, headers=reviewer["headers"]) as http:
        saved = (await http.get(f"/api/v1/admin/featured/{item_id}")).json()
        log = (await http.get(f"/api/v1/admin/featured/{item_id}/transitions")).json()
    assert [i["slug"] for i in saved["items"]] == ["qingguo-lane", MUSEUM]
    assert saved["items"][0]["note"] == {"zh": "先从东口进", "en": "Enter from the east end"}
    assert [(m["to_state"], m["user_id"]) for m in log] == [("in_review", author["id"]), ("published", reviewer["id"])]

    # home, in zh, then en, then with large text
    await phone.open("/")
    picks = page.get_by_test_id("home-picks")
    await picks.get_by_text(f"周末去哪儿{tag}").wait_for()
    assert await picks.get_by_role("heading").inner_text() == "编辑推荐"
    first = picks.get_by_test_id("pick-venue-qingguo-lane")
    assert "青果巷" in await first.inner_text() and "先从东口进" in await first.inner_text()
    assert await picks.locator("img").count() >= 2
    await picks.scroll_into_view_if_needed()
    await shot(phone, "home-zh")
    await no_serious_violations(phone)
    await page.evaluate("localStorage.setItem('cx.lang', 'en')")
    await phone.open("/")
    await picks.get_by_text(f"Where to this weekend {tag}").wait_for()
    assert await picks.get_by_role("heading").inner_text() == "Editors' picks"
    assert "Changzhou Museum" in await picks.get_by_test_id(f"pick-venue-{MUSEUM}").inner_text()
    await picks.scroll_into_view_if_needed()
    await shot(phone, "home-en")
    await page.evaluate("localStorage.setItem('cx.largeText', '1')")
    await phone.open("/")
    await picks.get_by_text(f"Where to this weekend {tag}").wait_for()
    await picks.scroll_into_view_if_needed()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await shot(phone, "home-large")
    # the editor, in English and with large text: nothing wider than the phone
    for name, large in (("editor-en", "0"), ("editor-large", "1")):
        await page.evaluate(f"localStorage.setItem('cx.largeText', '{large}')")
        await phone.open(f"/marketer/featured/{item_id}")
        await page.get_by_test_id("picked-1").get_by_text("Changzhou Museum").wait_for()
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await shot(phone, name)
    assert not phone.errors, phone.errors


async def test_the_staff_screen_shows_names_and_todays_figures(phone: Phone, live_server_url) -> None:
    staff = await live_account(live_server_url, "staff", venues=(MUSEUM, "qingguo-lane"), name="馆员")
    tourist = await live_account(live_server_url, "tourist", name="游客")
    async with httpx.AsyncClient(base_url=live_server_url) as http:
        filed = await http.post(
            "/api/v1/cases",
            json={"kind": "question", "text": "请问寄存处在哪里？", "venue_slug": MUSEUM},
            headers=tourist["headers"],
        )
        assert filed.status_code == 201, filed.text
        walk_in = await http.post(  # three walk-ins at the lane: its figures are not all zero
            "/api/v1/gov/walk-ins",
            json={"venue_slug": "qingguo-lane", "count": 3, "direction": "in"},
            headers=staff["headers"],
        )
        assert walk_in.status_code in (200, 201), walk_in.text
        lane = (
            await http.get("/api/v1/scans/counts", params={"venue": "qingguo-lane"}, headers=staff["headers"])
        ).json()
        assert lane["entries_today"] >= 3 and lane["occupancy"] >= 3, lane
        counts = (await http.get("/api/v1/scans/counts", params={"venue": MUSEUM}, headers=staff["headers"])).json()
        open_cases = 0
        for status in ("open", "acknowledged", "escalated"):
            res = await http.get("/api/v1/cases", params={"venue": MUSEUM, "status": status}, headers=staff["headers"])
            open_cases += res.json()["total"]
    page = phone.page
    for name, en, large in (("zh", False, False), ("en", True, False), ("large", False, True)):
        await sign_in(phone, staff, en=en, large=large)
        await phone.open("/me")
        museum = page.get_by_test_id(f"staff-venue-{MUSEUM}")
        await museum.get_by_test_id("staff-venue-name").wait_for()
        names = [await n.inner_text() for n in await page.get_by_test_id("staff-venue-name").all()]
        assert names == (
            ["Changzhou Museum", "Qingguo Lane Historic District"] if en else ["常州博物馆", "青果巷历史文化街区"]
        ), names
        body = await page.get_by_test_id("staff-today").inner_text()
        assert MUSEUM not in body and "qingguo-lane" not in body
        assert await museum.get_by_test_id("staff-entries").inner_text() == str(counts["entries_today"])
        assert await museum.get_by_test_id("staff-inside").inner_text() == str(counts["occupancy"])
        assert re.match(r"^\d+", await museum.get_by_test_id("staff-bookings").inner_text())
        lane_card = page.get_by_test_id("staff-venue-qingguo-lane")
        assert await lane_card.get_by_test_id("staff-entries").inner_text() == str(lane["entries_today"])
        assert await lane_card.get_by_test_id("staff-inside").inner_text() == str(lane["occupancy"])
        cases = await museum.get_by_test_id("staff-cases").inner_text()
        want = (f"{open_cases} open case" + ("s" if open_cases != 1 else "")) if en else f"{open_cases} 件待处理"
        assert want in cases, cases
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        await page.get_by_test_id("staff-today").scroll_into_view_if_needed()
        await shot(phone, f"staff-{name}")
        if name == "zh":
            await no_serious_violations(phone)
    await page.get_by_test_id(f"staff-venue-{MUSEUM}").get_by_test_id("staff-cases").click()
    await page.wait_for_url(re.compile(r"/cases/inbox$"))
    assert not phone.errors, phone.errors
