"""The phone quality budget's pass/fail half (issue 10, item 6): on each screen of tests/quality/screens.py,
under the server's strict Content-Security-Policy, axe-core (from pwa/node_modules) finds no serious or
critical accessibility violation, and nothing is refused by the policy. Lighthouse's scores are printed
by `make bench` (bench/lighthouse.py)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import httpx
import pytest

from backend.lib.clock import clock
from tests.e2e.conftest import Phone
from tests.quality.screens import ROOT, present_screens

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

AXE = ROOT / "pwa" / "node_modules" / "axe-core" / "axe.min.js"
AXE_RUN = """async () => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
    resultTypes: ['violations'],
  })
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + n.failureSummary),
  }))
}"""


async def _post(http: httpx.AsyncClient, path: str, **kwargs) -> httpx.Response:
    for _ in range(8):  # the auth endpoints allow a few calls a minute from one address
        res = await http.post(path, **kwargs)
        if res.status_code != 429:
            return res
        await asyncio.sleep(min(30, int(res.headers.get("retry-after") or 10)))
    return res


async def _tourist_with_a_booking(base: str) -> str:
    """A new tourist with a confirmed free booking; returns their session cookie."""
    email, password = f"quality-{uuid.uuid4().hex[:10]}@changxiang.test", "correct-horse-7"
    async with httpx.AsyncClient(base_url=base, timeout=15) as http:
        made = await _post(
            http, "/api/v1/auth/register", json={"email": email, "password": password, "display_name": "李清照"}
        )
        assert made.status_code == 201, made.text
        login = await _post(http, "/api/v1/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        cookie = login.cookies.get("cx_token")
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        for days in range(1, 8):
            day = (clock.city_today() + timedelta(days=days)).isoformat()
            slots = (await http.get("/api/v1/venues/changzhou-museum/slots", params={"date": day})).json()["items"]
            free = [s for s in slots if s["status"] == "open" and s["remaining"] > 0]
            if free:
                from tests.api.reservation_helpers import visitor

                booked = await http.post(
                    "/api/v1/reservations",
                    headers=headers,
                    json={"slot_id": free[-1]["id"], "visitors": [visitor("李清照")]},
                )
                assert booked.status_code == 201, booked.text
                return cookie
    raise AssertionError("no free slot for the pass screen's booking")


@pytest.mark.parametrize("screen", present_screens(), ids=lambda s: s["name"])
async def test_screen_has_no_serious_accessibility_violation_under_the_csp(
    strict_phone: Phone, live_server_url: str, screen: dict
) -> None:
    phone = strict_phone
    if screen["signed_in"]:
        cookie = await _tourist_with_a_booking(live_server_url)
        await phone.context.add_cookies([{"name": "cx_token", "value": cookie, "url": live_server_url}])
        await phone.context.add_init_script("localStorage.setItem('cx.signedIn', '1')")
    policy = (await phone.context.request.get(live_server_url + screen["path"])).headers["content-security-policy"]
    assert "script-src 'self' 'wasm-unsafe-eval';" in policy
    await phone.open(screen["path"])
    if screen["name"] == "pass":
        # the booking is for a later day: the pass says there is nothing valid today, and one tap shows the code
        none_today = phone.page.get_by_test_id("pass-none-today")
        await none_today.or_(phone.page.get_by_test_id("pass-qr")).first.wait_for(state="visible")
        if await none_today.is_visible():
            await phone.page.get_by_test_id("pass-show-anyway").click()
    if screen["ready"]:
        await phone.page.get_by_test_id(screen["ready"]).first.wait_for(state="visible")
    else:
        await phone.page.get_by_role("heading", level=1).first.wait_for(state="visible")
    await phone.page.wait_for_load_state("networkidle")
    assert phone.errors == [], phone.errors  # a script or style the policy refused would be here

    await phone.page.evaluate(AXE.read_text(encoding="utf-8"))
    violations = await phone.page.evaluate(AXE_RUN)
    serious = [v for v in violations if v["impact"] in ("serious", "critical")]
    assert serious == [], "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in serious
    )
