"""Wallet and redemption (issue 17, item 6): coupons and cards on the one pass, a merchant's till
(exactly once under racing tills, refusals, nonce replay, same-day reversal), cards at the gate once a
day per venue."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import anyio
import pytest

from backend.lib.clock import clock
from tests.api.voucher_helpers import claim, merchant_account, published_campaign, verified_tourist

pytestmark = pytest.mark.anyio


async def _code(client, holder: dict) -> str:
    res = await client.get("/api/v1/pass/code", headers=holder["headers"])
    assert res.status_code == 200, res.text
    return res.json()["code"]


async def _redeem(client, merchant: dict, code: str, amount: int, nonce: str | None = None, **extra) -> dict:
    body = {"code": code, "amount_fen": amount, "nonce": nonce or uuid.uuid4().hex, **extra}
    res = await client.post("/api/v1/redemptions", json=body, headers=merchant["headers"])
    assert res.status_code == 200, res.text
    return res.json()


async def test_a_coupon_redeems_once_and_a_reversal_restores_it(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(client, marketer, quota=10)
    holder = await verified_tourist(client, make_account)
    claimed = await claim(client, holder, cid)
    coupon_id = claimed.json()["id"]
    on_pass = (await client.get("/api/v1/pass", headers=holder["headers"])).json()["entitlements"]
    mine = [e for e in on_pass if e.get("coupon_id") == coupon_id]
    assert mine and mine[0]["kind"] == "coupon" and mine[0]["face_value_fen"] == 2000

    till_a = await merchant_account(client, make_account, "qingguo-lane-tea-house")
    till_b = await merchant_account(client, make_account, "qingguo-lane-tea-house")
    hotel = await merchant_account(client, make_account, "tianning-pagoda-hotel")
    code = await _code(client, holder)
    low = await _redeem(client, till_a, code, 3000)
    assert (low["result"], low["discount_fen"], low["min_spend_fen"]) == ("below_min_spend", 0, 5000)
    wrong = await _redeem(client, hotel, code, 8000)
    assert wrong["result"] == "wrong_merchant" and wrong["discount_fen"] == 0
    bad = await _redeem(client, till_a, "not-a-pass-code", 8000)
    assert bad["result"] == "invalid"

    answers = []

    async def till(merchant: dict, i: int) -> None:
        answers.append(await _redeem(client, merchant, code, 8000, nonce=f"race-{i}-{uuid.uuid4().hex[:8]}"))

    async with anyio.create_task_group() as tg:
        for i in range(10):
            tg.start_soon(till, till_a if i % 2 else till_b, i)
    results = Counter(a["result"] for a in answers)
    assert results == Counter({"ok": 1, "already_redeemed": 9}), results
    ok = next(a for a in answers if a["result"] == "ok")
    assert (ok["discount_fen"], ok["payable_fen"], ok["coupon_id"]) == (2000, 6000, coupon_id)
    # the same nonce again: the same answer, counted once
    who = till_a if ok["nonce"].split("-")[1] in {str(i) for i in range(1, 10, 2)} else till_b
    again = await _redeem(client, who, code, 8000, nonce=ok["nonce"])
    assert again == {**ok, "holder_name_masked": None, "min_spend_fen": None}
    coupons = (await client.get("/api/v1/me/coupons", headers=holder["headers"])).json()["items"]
    assert [c["status"] for c in coupons if c["id"] == coupon_id] == ["redeemed"]
    on_pass = (await client.get("/api/v1/pass", headers=holder["headers"])).json()["entitlements"]
    assert not [e for e in on_pass if e.get("coupon_id") == coupon_id]

    refused = await client.post(f"/api/v1/redemptions/{ok['redemption_id']}/reverse", headers=hotel["headers"])
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_merchant"
    back = await client.post(f"/api/v1/redemptions/{ok['redemption_id']}/reverse", headers=till_a["headers"])
    assert back.status_code == 200 and back.json()["coupon_status"] == "active", back.text
    twice = await client.post(f"/api/v1/redemptions/{ok['redemption_id']}/reverse", headers=till_a["headers"])
    assert twice.status_code == 409 and twice.json()["code"] == "not_reversible"
    second = await _redeem(client, till_b, await _code(client, holder), 9000)
    assert second["result"] == "ok" and second["discount_fen"] == 2000
    clock.set(clock.now() + timedelta(days=1))
    late = await client.post(f"/api/v1/redemptions/{second['redemption_id']}/reverse", headers=till_b["headers"])
    assert late.status_code == 409 and late.json()["code"] == "not_reversible"


async def test_expired_and_the_till_needs_a_merchant(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(client, marketer, quota=10)
    holder = await verified_tourist(client, make_account)
    assert (await claim(client, holder, cid)).status_code == 201
    till = await merchant_account(client, make_account, "qingguo-lane-noodle-house")
    clock.set(clock.now() + timedelta(days=8))
    out = await _redeem(client, till, await _code(client, holder), 9000)
    assert out["result"] == "expired"
    coupons = (await client.get("/api/v1/me/coupons", headers=holder["headers"])).json()["items"]
    assert coupons[0]["status"] == "expired"
    two = await merchant_account(client, make_account, "qingguo-lane-noodle-house", "qingguo-lane-tea-house")
    res = await client.post("/api/v1/redemptions", json={"code": "x", "amount_fen": 100}, headers=two["headers"])
    assert res.status_code == 400 and res.json()["code"] == "merchant_id_required"
    res = await client.post(
        "/api/v1/redemptions",
        json={"code": "x", "amount_fen": 100, "merchant_id": "tianning-pagoda-hotel"},
        headers=two["headers"],
    )
    assert res.status_code == 403 and res.json()["code"] == "forbidden_merchant"
    tourist = await make_account("tourist")
    res = await client.post("/api/v1/redemptions", json={"code": "x", "amount_fen": 100}, headers=tourist["headers"])
    assert res.status_code == 403


async def test_a_card_admits_once_a_day_at_each_listed_venue(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(
        client,
        marketer,
        kind="card",
        face_value_fen=0,
        min_spend_fen=0,
        merchant_ids=[],
        card_venue_slugs=["tianning-pagoda", "wenbi-pagoda"],
    )
    holder = await verified_tourist(client, make_account)
    card = (await claim(client, holder, cid)).json()
    on_pass = (await client.get("/api/v1/pass", headers=holder["headers"])).json()["entitlements"]
    assert [e["venue_slugs"] for e in on_pass if e.get("coupon_id") == card["id"]] == [
        ["tianning-pagoda", "wenbi-pagoda"]
    ]
    staff = await make_account("staff", venues=("tianning-pagoda", "hongmei-park"))
    code = await _code(client, holder)

    async def scan(venue: str, nonce: str, direction: str = "in") -> str:
        res = await client.post(
            "/api/v1/scans",
            json={"code": code, "venue_slug": venue, "direction": direction, "nonce": nonce},
            headers=staff["headers"],
        )
        assert res.status_code == 200, res.text
        return res.json()["result"]

    results = []

    async def gate(i: int) -> None:
        results.append((i, await scan("tianning-pagoda", f"card-gate-{i}-{uuid.uuid4().hex[:6]}")))

    async with anyio.create_task_group() as tg:  # two gates, five scans at once: one admission
        for i in range(5):
            tg.start_soon(gate, i)
    assert Counter(r for _, r in results) == Counter({"ok": 1, "already_redeemed": 4}), results
    assert await scan("hongmei-park", "card-elsewhere-1") == "wrong_venue"  # not a venue of the card
    replay = await client.post(
        "/api/v1/scans",
        json={"code": code, "venue_slug": "tianning-pagoda", "nonce": "card-replay-1"},
        headers=staff["headers"],
    )
    assert replay.json()["result"] == "already_redeemed"
    assert await scan("tianning-pagoda", "card-out-1", "out") == "ok"
    clock.set(clock.now() + timedelta(days=1))
    code = await _code(client, holder)
    assert await scan("tianning-pagoda", "card-next-day-1") == "ok"
