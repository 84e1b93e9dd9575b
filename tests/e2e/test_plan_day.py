"""A composed day in the phone app (issue 20, 2), end to end on the real server in Debian's Chromium at
phone size: the timeline, then dropping a visit and swapping another, each a new plan the page moves to
(zh, en, large text).

Run: `.venv/bin/pytest -m e2e tests/e2e/test_plan_day.py`. CX_SCREENSHOTS=<dir> also saves screenshots.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

SHOTS = os.environ.get("CX_SCREENSHOTS")
CENTRE = {"lat": 31.7797, "lng": 119.9554}


def next_saturday() -> date:
    today = date.today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7)


async def _plan(base: str) -> dict:
    body = {
        "date": next_saturday().isoformat(),
        "start": CENTRE,
        "start_time": "09:00",
        "end_time": "17:00",
        "interests": ["museum", "memorial_hall"],
    }
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        res = await http.post("/api/v1/plans", json=body)
    assert res.status_code == 201, res.text
    return res.json()


async def _titles(phone: Phone) -> list[str]:
    items = phone.page.locator("[data-testid=plan-item]:not([data-kind=break]) .tl__title")
    return [t.strip() for t in await items.all_inner_texts()]


async def test_drop_and_swap_a_visit_on_the_phone(phone: Phone, live_server_url: str) -> None:
    plan = await _plan(live_server_url)
    visits = [i["title"] for i in plan["items"] if i["kind"] != "break"]
    assert len(visits) >= 3
    await phone.open(f"/plans/{plan['id']}")
    await phone.page.get_by_test_id("plan-timeline").wait_for()
    assert await _titles(phone) == visits
    if SHOTS:
        await phone.page.screenshot(path=str(Path(SHOTS) / "plan-zh.png"))

    # drop the second visit: a new plan without it, the others as they were
    await phone.page.get_by_test_id("plan-drop").nth(1).click()
    await phone.page.wait_for_url(lambda url: plan["id"] not in url)
    await phone.page.wait_for_function(
        f"document.querySelectorAll('[data-testid=plan-drop]').length === {len(visits) - 1}"
    )
    assert await _titles(phone) == visits[:1] + visits[2:]

    # swap the first: planned again without it
    await phone.page.get_by_test_id("plan-swap").first.click()
    await phone.page.wait_for_function(
        "(t) => document.querySelector('[data-testid=plan-item]:not([data-kind=break]) .tl__title')?.innerText.trim()"
        " !== t",
        arg=visits[0],
    )
    assert visits[0] not in await _titles(phone)
    assert phone.errors == []

    for name, script in (
        ("en", "localStorage.setItem('cx.lang', 'en')"),
        ("large", "localStorage.setItem('cx.largeText', '1')"),
    ):
        await phone.page.evaluate(script)
        await phone.page.reload()
        await phone.page.get_by_test_id("plan-swap").first.wait_for()
        if name == "en":
            assert await phone.page.get_by_test_id("plan-swap").first.inner_text() == "Swap"
        if SHOTS:
            await phone.page.get_by_test_id("plan-swap").first.scroll_into_view_if_needed()
            await phone.page.screenshot(path=str(Path(SHOTS) / f"plan-edit-{name}.png"))
