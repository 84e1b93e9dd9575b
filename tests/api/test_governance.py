"""Live occupancy and comfort levels, stops at capacity, walk-ins, platform directives and warnings."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import asyncpg
import pytest

from backend.governance.outbox import OutboxMessage
from backend.lib.clock import CITY_TZ, clock
from backend.occupancy.counts import gate_count_values
from backend.venues.services import catalog
from tests.api.gov_helpers import cap_alert, directive, post_alert, signed_post
from tests.api.reservation_helpers import fresh_slot, slot_at, visitor
from tests.api.test_passes import booked_now, code_of, scan

pytestmark = pytest.mark.anyio


async def occupancy_of(client, headers, slug) -> dict:
    res = await client.get("/api/v1/gov/occupancy", headers=headers)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["generated_at"]
    return next(v for v in body["venues"] if v["venue_slug"] == slug)


async def test_occupancy_needs_the_governance_role(client, make_account):
    tourist = await make_account("tourist")
    assert (await client.get("/api/v1/gov/occupancy")).status_code == 401
    assert (await client.get("/api/v1/gov/occupancy", headers=tourist["headers"])).status_code == 403


async def test_a_party_of_two_moves_occupancy_by_two_and_back(client, make_account):
    venue = "changzhou-three-heroes-memorial"
    gov = await make_account("governance")
    staff = await make_account("staff", venues=(venue,))
    tourist = await make_account("tourist")
    await booked_now(client, tourist, venue, party=2)
    before = await occupancy_of(client, gov["headers"], venue)
    assert set(before) >= {"occupancy", "capacity", "ratio", "comfort_level", "entries_today", "exits_today"}

    res = await scan(client, staff, await code_of(client, tourist), venue, direction="in")
    assert res.json()["result"] == "ok"
    inside = await occupancy_of(client, gov["headers"], venue)
    assert inside["occupancy"] == before["occupancy"] + 2
    assert inside["entries_today"] == before["entries_today"] + 2
    assert inside["ratio"] == pytest.approx(inside["occupancy"] / inside["capacity"], abs=1e-4)
    assert (await client.get(f"/api/v1/venues/{venue}")).json()["live"]["occupancy"] == inside["occupancy"]

    res = await scan(client, staff, await code_of(client, tourist), venue, direction="out")
    assert res.json()["result"] == "ok"
    after = await occupancy_of(client, gov["headers"], venue)
    assert after["occupancy"] == before["occupancy"]
    assert after["exits_today"] == before["exits_today"] + 2


async def test_comfort_levels_follow_the_thresholds():
    from backend.occupancy.services import comfort_level

    assert [comfort_level(r) for r in (0, 0.49, 0.5, 0.69, 0.7, 0.79, 0.8, 0.89, 0.9, 0.99, 1.0, 1.3)] == [
        "comfortable",
        "comfortable",
        "fairly_comfortable",
        "fairly_comfortable",
        "normal",
        "normal",
        "fairly_crowded",
        "fairly_crowded",
        "crowded",
        "crowded",
        "full",
        "full",
    ]


async def test_the_count_resets_at_closing():
    from backend.occupancy.services import window_start
    from backend.venues.services import _record

    rec = _record(
        {
            "slug": "x",
            "name_zh": "x",
            "name_en": "x",
            "address_zh": "",
            "address_en": "",
            "tags": [],
            "lat": 31.78,
            "lng": 119.97,
            "opening_hours": "08:00-17:00",
        }
    )
    noon = datetime(2026, 7, 1, 12, 0, tzinfo=CITY_TZ)
    evening = datetime(2026, 7, 1, 18, 30, tzinfo=CITY_TZ)
    assert window_start(rec, noon) == datetime(2026, 7, 1, 0, 0, tzinfo=CITY_TZ)
    assert window_start(rec, evening) == datetime(2026, 7, 1, 17, 0, tzinfo=CITY_TZ)


async def test_full_venue_refuses_entry_and_same_day_sales_until_it_falls_back(client, make_account):
    venue = "yun-daiying-memorial"  # instantaneous capacity 120
    gov = await make_account("governance")
    staff = await make_account("staff", venues=(venue,))
    tourist = await make_account("tourist")
    other = await make_account("tourist")
    await booked_now(client, tourist, venue, party=1)
    start = await occupancy_of(client, gov["headers"], venue)
    capacity = start["capacity"]

    # walk-ins at the manual window up to 0.8: crowded, reported to the platform
    to_crowded = int(capacity * 0.8) - start["occupancy"]
    res = await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": to_crowded}
    )
    assert res.status_code == 201, res.text
    assert res.json()["crowded"] is True and res.json()["comfort_level"] == "fairly_crowded"
    page = (await client.get(f"/api/v1/venues/{venue}")).json()
    assert page["live"]["crowded"] is True and page["live"]["comfort_level"] == "fairly_crowded"
    incidents = await OutboxMessage.select(OutboxMessage.body).where(OutboxMessage.type == "incident")
    assert any(venue in r["body"] and '"crowding"' in r["body"] for r in incidents)

    # up to 1.0: entry stops at the gate and at the window
    rest = capacity - int(capacity * 0.8)
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": rest})
    assert res.status_code == 201 and res.json()["comfort_level"] == "full"
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": 1})
    assert res.status_code == 409 and res.json()["code"] == "venue_full"
    res = await scan(client, staff, await code_of(client, tourist), venue, direction="in")
    assert res.status_code == 200 and res.json()["result"] == "venue_full"

    # same-day sales stop: a slot later today (the clock's day, inside the booked slot) can't be booked
    slot = await slot_at(client, venue, clock.now() + timedelta(minutes=20))
    assert datetime.fromisoformat(slot["starts_at"]).astimezone(CITY_TZ).date() == clock.city_today()
    res = await client.post(
        "/api/v1/reservations", headers=other["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 409 and res.json()["code"] == "venue_full"

    # people leave: below 1.0 entry and sales resume
    res = await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": 30, "direction": "out"}
    )
    assert res.status_code == 201 and res.json()["comfort_level"] != "full"
    res = await scan(client, staff, await code_of(client, tourist), venue, direction="in")
    assert res.json()["result"] == "ok"
    res = await client.post(
        "/api/v1/reservations", headers=other["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 201, res.text
    # leave the venue as we found it for other tests
    left = (await occupancy_of(client, gov["headers"], venue))["occupancy"] - start["occupancy"]
    await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": left, "direction": "out"}
    )


@asynccontextmanager
async def _another_gate_admitting(slug: str) -> AsyncIterator[None]:
    """Another gate's admission in flight: the count row of the venue's counting window now (not its newest
    row: other tests count people in windows the clock set ahead) has one more inside, written and not yet
    committed (a second connection's open transaction), until the block ends and it commits."""
    url = os.environ["DATABASE_URL"]
    key = gate_count_values(await catalog.record(slug), clock.now(), "in", 1)[0]
    bump = "UPDATE gate_counts SET entries = entries + 1 WHERE count_key = {}"
    if url.startswith("postgres"):
        conn = await asyncpg.connect(url)
        try:
            async with conn.transaction():
                assert await conn.execute(bump.format("$1"), key) == "UPDATE 1"
                yield
        finally:
            await conn.close()
        return
    db = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        db.execute("BEGIN IMMEDIATE")
        assert db.execute(bump.format("?"), (key,)).rowcount == 1
        yield
        db.execute("COMMIT")
    finally:
        db.close()


async def test_a_gate_admitting_at_the_last_place_while_another_does_is_refused(client, make_account):
    """One place left; another gate's admission is written and not yet committed when this gate scans. The
    scan waits for it and is refused at capacity (on PostgreSQL the count row is locked before it is read,
    so the scan does not admit from the count it started with), and the count ends at capacity."""
    venue = "yun-daiying-memorial"  # instantaneous capacity 120
    gov = await make_account("governance")
    staff = await make_account("staff", venues=(venue,))
    tourist = await make_account("tourist")
    await booked_now(client, tourist, venue, party=1)
    code = await code_of(client, tourist)
    start = await occupancy_of(client, gov["headers"], venue)
    capacity, before = start["capacity"], start["occupancy"]
    res = await client.post(
        "/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": capacity - 1 - before}
    )
    assert res.status_code == 201, res.text
    try:
        async with _another_gate_admitting(venue):
            scanning = asyncio.ensure_future(scan(client, staff, code, venue, direction="in"))
            await asyncio.sleep(0.5)
            assert not scanning.done()  # it waits for the other gate's write
        res = await asyncio.wait_for(scanning, 30)
        assert res.status_code == 200 and res.json()["result"] == "venue_full", res.text
        assert (await occupancy_of(client, gov["headers"], venue))["occupancy"] == capacity
    finally:  # leave the venue as we found it for other tests
        left = (await occupancy_of(client, gov["headers"], venue))["occupancy"] - before
        await client.post(
            "/api/v1/gov/walk-ins",
            headers=staff["headers"],
            json={"venue_slug": venue, "count": left, "direction": "out"},
        )


async def test_walk_ins_are_for_staff_of_that_venue(client, make_account):
    staff = await make_account("staff", venues=("wenbi-pagoda",))
    tourist = await make_account("tourist")
    body = {"venue_slug": "tianning-pagoda", "count": 2}
    assert (await client.post("/api/v1/gov/walk-ins", headers=tourist["headers"], json=body)).status_code == 403
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json=body)
    assert res.status_code == 403 and res.json()["code"] == "forbidden_venue"
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json={**body, "count": 0})
    assert res.status_code == 400


# ---- directives


def _window(days_ahead: int = 2) -> tuple[str, str, str]:
    day = (clock.city_now() + timedelta(days=days_ahead)).date()
    while day.weekday() == 0:  # the memorial is closed on Mondays ("Mo off"): a day it has slots
        day += timedelta(days=1)
    start = datetime(day.year, day.month, day.day, 0, 0, tzinfo=CITY_TZ)
    return day.isoformat(), start.isoformat(), (start + timedelta(days=1)).isoformat()


async def _slots(client, venue, day) -> list[dict]:
    res = await client.get(f"/api/v1/venues/{venue}/slots", params={"date": day})
    assert res.status_code == 200, res.text
    return res.json()["items"]


@pytest.mark.parametrize("how", ["unsigned", "wrong_secret", "tampered", "stale"])
async def test_unverified_directives_are_refused_and_change_nothing(client, how):
    venue = "changzhou-three-heroes-memorial"
    day, start, end = _window(3)
    before = await _slots(client, venue, day)
    payload = {
        "directive_id": "bad-" + uuid.uuid4().hex[:8],
        "type": "close",
        "venue_slug": venue,
        "valid_from": start,
        "valid_until": end,
        "reason": "test",
    }
    import json

    body = json.dumps(payload).encode()
    if how == "unsigned":
        res = await client.post("/api/v1/gov/directives", content=body, headers={"Content-Type": "application/json"})
    elif how == "wrong_secret":
        res = await signed_post(client, "/gov/directives", body, "application/json", secret="not-the-secret")
    elif how == "tampered":
        from integrations.gov_platform import signed_headers
        from tests.api.gov_helpers import SECRET

        headers = signed_headers(SECRET, body)
        res = await client.post("/api/v1/gov/directives", content=body.replace(b"close", b"limit"), headers=headers)
    else:
        res = await signed_post(client, "/gov/directives", body, "application/json", ts=int(time.time()) - 301)
    assert res.status_code == 401, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] in {"signature_required", "invalid_signature", "stale_signature"}
    assert await _slots(client, venue, day) == before
    assert all(s["status"] != "closed" for s in before)


async def test_a_half_limit_caps_every_slot_without_cancelling_bookings(client, make_account):
    venue = "zhang-tailei-memorial"
    tourist = await make_account("tourist")
    day, start, end = _window(2)
    before = await _slots(client, venue, day)
    assert before, "the venue has slots that day"
    target = before[0]
    res = await client.post(
        "/api/v1/reservations",
        headers=tourist["headers"],
        json={"slot_id": target["id"], "visitors": [visitor(), visitor("李四")]},
    )
    assert res.status_code == 201, res.text
    booking = res.json()
    originals = {s["id"]: s["capacity"] for s in before}

    res = await directive(client, type="limit", venue_slug=venue, limit_ratio=0.5, valid_from=start, valid_until=end)
    assert res.status_code == 200, res.text
    assert res.json()["venue_slugs"] == [venue] and res.json()["slots_affected"] == len(before)
    after = await _slots(client, venue, day)
    for s in after:
        booked = s["capacity"] - s["remaining"]
        assert s["remaining"] <= max(0, originals[s["id"]] // 2 - booked), s
    mine = await client.get(f"/api/v1/reservations/{booking['id']}", headers=tourist["headers"])
    assert mine.json()["status"] == "confirmed"
    # the same directive again (the platform retries) answers as before and changes nothing
    first = res.json()
    limited = await _slots(client, venue, day)
    again = await directive(
        client,
        directive_id=first["directive_id"],
        type="limit",
        venue_slug=venue,
        limit_ratio=0.1,
        valid_from=start,
        valid_until=end,
    )
    assert again.status_code == 200 and again.json() == first
    assert await _slots(client, venue, day) == limited

    # reopen gives the seats back
    res = await directive(client, type="reopen", venue_slug=venue, valid_from=start, valid_until=end)
    assert res.status_code == 200
    assert {s["id"]: s["capacity"] for s in await _slots(client, venue, day)} == originals


async def test_a_close_closes_every_slot_and_cancels_and_tells_the_holders(client, make_account):
    venue = "changzhou-three-heroes-memorial"
    tourist = await make_account("tourist")
    day, start, end = _window(4)
    slots = await _slots(client, venue, day)
    res = await client.post(
        "/api/v1/reservations", headers=tourist["headers"], json={"slot_id": slots[1]["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 201
    booking = res.json()

    res = await directive(client, type="close", district="tianning", valid_from=start, valid_until=end)
    assert res.status_code == 200, res.text
    assert venue in res.json()["venue_slugs"] and res.json()["reservations_cancelled"] >= 1
    assert all(s["status"] == "closed" for s in await _slots(client, venue, day))
    assert all(s["status"] == "closed" for s in await _slots(client, "zhang-tailei-memorial", day))
    mine = (await client.get(f"/api/v1/reservations/{booking['id']}", headers=tourist["headers"])).json()
    assert mine["status"] == "cancelled"
    notes = (await client.get("/api/v1/me/notifications", headers=tourist["headers"])).json()
    assert any(n["kind"] == "slot_closed" and n["reservation_id"] == booking["id"] for n in notes)

    # the same directive again changes nothing more; a reopen opens the slots again
    res = await directive(client, type="reopen", district="tianning", valid_from=start, valid_until=end)
    assert res.status_code == 200
    assert all(s["status"] == "open" for s in await _slots(client, venue, day))


async def test_invalid_directives_are_400(client):
    day, start, end = _window(2)
    res = await directive(client, type="limit", venue_slug="changzhou-museum", valid_from=start, valid_until=end)
    assert res.status_code == 400 and res.json()["code"] == "invalid_directive"
    res = await directive(client, type="close", valid_from=start, valid_until=end)
    assert res.status_code == 400
    res = await directive(client, type="close", venue_slug="nowhere", valid_from=start, valid_until=end)
    assert res.status_code == 400 and res.json()["code"] == "unknown_venue"
    res = await signed_post(client, "/gov/directives", b"{not json", "application/json")
    assert res.status_code == 400


# ---- warnings (CAP 1.2)


async def test_a_city_wide_warning_shows_on_venues_and_tells_visitors(client, make_account):
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, "changzhou-museum")
    res = await client.post(
        "/api/v1/reservations", headers=tourist["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 201
    ident = "CZQX-city-" + uuid.uuid4().hex[:8]
    res = await post_alert(client, cap_alert(identifier=ident))
    assert res.status_code == 200, res.text
    assert res.json()["notified"] >= 1 and "changzhou-museum" in res.json()["venue_slugs"]

    for slug in ("changzhou-museum", "tianning-chan-temple"):
        zh = (await client.get(f"/api/v1/venues/{slug}")).json()
        assert any(a["identifier"] == ident for a in zh["alerts"])
        assert "常州市气象台发布暴雨橙色预警" in zh["live"]["alerts"]
    en = (await client.get("/api/v1/venues/changzhou-museum", params={"lang": "en"})).json()
    assert any(a["headline"] == "Orange rainstorm warning for Changzhou" for a in en["alerts"])
    listed = (await client.get("/api/v1/venues", params={"limit": 200})).json()["items"]
    assert all(any(a["identifier"] == ident for a in v["alerts"]) for v in listed)

    notes = (await client.get("/api/v1/me/notifications", headers=tourist["headers"])).json()
    warning = next(n for n in notes if n["kind"] == "warning")
    assert warning["detail"] == "常州市气象台发布暴雨橙色预警" and warning["venue_slug"] == "changzhou-museum"
    assert not warning.get("read", False)  # omitted while false (omit_defaults)
    res = await client.post(f"/api/v1/me/notifications/{warning['id']}/read", headers=tourist["headers"])
    assert res.status_code == 204
    notes = (await client.get("/api/v1/me/notifications", headers=tourist["headers"])).json()
    assert next(n for n in notes if n["id"] == warning["id"]).get("read") is True
    other = await make_account("tourist")
    res = await client.post(f"/api/v1/me/notifications/{warning['id']}/read", headers=other["headers"])
    assert res.status_code == 404

    # a Cancel takes it down
    res = await post_alert(
        client, cap_alert(msg_type="Cancel", references=f"czqx@cma.gov.cn,{ident},2026-07-01T14:00:00+08:00")
    )
    assert res.status_code == 200
    from backend.governance.services import supervision

    supervision.forget_alerts()
    zh = (await client.get("/api/v1/venues/changzhou-museum")).json()
    assert not any(a["identifier"] == ident for a in zh.get("alerts", []))


async def test_a_polygon_warning_shows_only_inside(client):
    # a box around 天宁寺 / 天宁宝塔 (WGS-84), far from 溧阳
    area = "<polygon>31.775,119.965 31.788,119.965 31.788,119.978 31.775,119.978 31.775,119.965</polygon>"
    ident = "CZ-poly-" + uuid.uuid4().hex[:8]
    res = await post_alert(client, cap_alert(identifier=ident, area=area))
    assert res.status_code == 200, res.text
    assert "tianning-chan-temple" in res.json()["venue_slugs"]
    inside = (await client.get("/api/v1/venues/tianning-chan-temple")).json()
    assert any(a["identifier"] == ident for a in inside["alerts"])
    far = [v for v in res.json()["venue_slugs"] if v.startswith("liyang") or v.startswith("tianmu")]
    assert far == []
    museum = (await client.get("/api/v1/venues/changzhou-museum")).json()  # in 新北, outside the box
    assert not any(a["identifier"] == ident for a in museum.get("alerts", []))


@pytest.mark.parametrize(
    "xml",
    [
        "<alert><unclosed>",
        "this is not xml",
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        cap_alert().replace("<identifier>", "<ident>").replace("</identifier>", "</ident>"),
    ],
)
async def test_malformed_or_invalid_cap_is_a_400_problem(client, xml):
    res = await post_alert(client, xml)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "invalid_cap"


async def test_unsigned_alert_is_401(client):
    res = await client.post(
        "/api/v1/gov/alerts", content=cap_alert().encode(), headers={"Content-Type": "application/cap+xml"}
    )
    assert res.status_code == 401


async def test_a_limit_in_force_lowers_the_gate_capacity_and_shows_limited(client, make_account):
    venue = "qingguo-lane"  # open 24/7, instantaneous capacity 8000, no booking
    staff = await make_account("staff", venues=(venue,))
    gov = await make_account("governance")
    now = clock.city_now()
    window = {
        "valid_from": (now - timedelta(minutes=1)).isoformat(),
        "valid_until": (now + timedelta(hours=1)).isoformat(),
    }
    inside = (await occupancy_of(client, gov["headers"], venue))["occupancy"]
    ratio = (inside + 8) / 8000
    res = await directive(client, type="limit", venue_slug=venue, limit_ratio=ratio, **window)
    assert res.status_code == 200, res.text
    figures = await occupancy_of(client, gov["headers"], venue)
    assert figures["capacity"] == int(8000 * ratio) and figures["status"] == "limited"
    assert (await client.get(f"/api/v1/venues/{venue}")).json()["live"]["status"] == "limited"
    res = await client.post("/api/v1/gov/walk-ins", headers=staff["headers"], json={"venue_slug": venue, "count": 200})
    assert res.status_code == 409 and res.json()["code"] == "venue_full"

    res = await directive(client, type="reopen", venue_slug=venue, **window)
    assert res.status_code == 200
    figures = await occupancy_of(client, gov["headers"], venue)
    assert figures["capacity"] == 8000 and figures["status"] == "open"
    assert (await client.get(f"/api/v1/venues/{venue}")).json()["live"]["status"] == "open"
