"""Campaigns through the publishing flow (issue 17, item 3): vouchers and cards, checked as a whole,
public only once published, with live figures."""

from __future__ import annotations

import pytest

from backend.lib.clock import clock
from tests.api.voucher_helpers import city, published_campaign, voucher_body

pytestmark = pytest.mark.anyio


async def test_a_voucher_goes_through_the_publishing_flow(client, make_account):
    marketer = await make_account("marketer")
    h = marketer["headers"]
    body = voucher_body(release_at=city(days=1).isoformat(), valid_from=city(days=1).isoformat())
    res = await client.post("/api/v1/admin/campaigns", json=body, headers=h)
    assert res.status_code == 201, res.text
    draft = res.json()
    assert draft["status"] == "draft" and draft["quota_shards"] == 16 and len(draft["seed_sha256"]) == 64
    assert "seed" not in draft
    cid = draft["id"]
    assert (await client.get(f"/api/v1/campaigns/{cid}")).json()["code"] == "campaign_not_found"
    tourist = await make_account("tourist")
    refused = await client.post("/api/v1/admin/campaigns", json=body, headers=tourist["headers"])
    assert refused.status_code == 403
    for to in ("in_review", "published"):
        assert (await client.post(f"/api/v1/admin/campaigns/{cid}/transition", json={"to": to}, headers=h)).is_success
    public = await client.get(f"/api/v1/campaigns/{cid}", params={"lang": "en"})
    assert public.status_code == 200, public.text
    out = public.json()
    assert out["title"] == "Qingguo Lane tea voucher" and out["phase"] == "upcoming"
    # written without a description, it has none (not a copy of its Chinese title), in either language
    assert out["description"] == "" and draft["description"] == {"zh": "", "en": ""}
    assert (await client.get(f"/api/v1/campaigns/{cid}", params={"lang": "zh"})).json()["description"] == ""
    assert (out["issued"], out["redeemed"], out["remaining"]) == (0, 0, 100)
    assert out["seed_sha256"] is None and out["applicants"] is None  # first come: no lottery figures
    listed = (await client.get("/api/v1/campaigns", params={"limit": 200})).json()
    assert cid in [c["id"] for c in listed["items"]]
    # before release everything may change; the flow's history has the moves
    patched = await client.patch(f"/api/v1/admin/campaigns/{cid}", json={"quota": 120}, headers=h)
    assert patched.status_code == 200 and patched.json()["quota"] == 120, patched.text
    assert patched.json()["description"] == {"zh": "", "en": ""}
    described = {"zh": "凭券到店饮茶", "en": "A pot of tea at the lane's tea houses"}
    patched = await client.patch(f"/api/v1/admin/campaigns/{cid}", json={"description": described}, headers=h)
    assert patched.status_code == 200 and patched.json()["description"] == described, patched.text
    patched = await client.patch(f"/api/v1/admin/campaigns/{cid}", json={"quota": 110}, headers=h)
    assert patched.json()["description"] == described  # re-checked as a whole, it keeps its description
    assert (await client.get(f"/api/v1/campaigns/{cid}", params={"lang": "en"})).json()["description"] == described[
        "en"
    ]
    clock.set(clock.now().replace(microsecond=0) + (city(days=1, hours=1) - city()))
    late = await client.patch(f"/api/v1/admin/campaigns/{cid}", json={"quota": 150}, headers=h)
    assert late.status_code == 409 and late.json()["code"] == "campaign_released"
    fine = await client.patch(f"/api/v1/admin/campaigns/{cid}", json={"min_spend_fen": 4000}, headers=h)
    assert fine.status_code == 200 and fine.json()["min_spend_fen"] == 4000
    assert (await client.get(f"/api/v1/campaigns/{cid}")).json()["phase"] == "open"


async def test_a_card_admits_at_listed_venues(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(
        client,
        marketer,
        kind="card",
        title={"zh": "常州惠民年卡", "en": "Changzhou residents' annual card"},
        face_value_fen=0,
        min_spend_fen=0,
        merchant_ids=[],
        card_venue_slugs=["tianning-pagoda", "wenbi-pagoda"],
    )
    out = (await client.get(f"/api/v1/campaigns/{cid}")).json()
    assert out["kind"] == "card" and out["card_venue_slugs"] == ["tianning-pagoda", "wenbi-pagoda"]


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"face_value_fen": 0}, "face_value_required"),
        ({"merchant_ids": ["no-such-shop"]}, "unknown_merchant"),
        ({"valid_until": "2020-01-01T00:00:00+08:00"}, "invalid_validity"),
        ({"allocation": "lottery"}, "claim_until_required"),
        ({"kind": "card", "face_value_fen": 0, "min_spend_fen": 0, "merchant_ids": []}, "card_venues_required"),
        ({"card_venue_slugs": ["tianning-pagoda"]}, "card_venues_for_cards"),
        (
            {"kind": "card", "face_value_fen": 0, "min_spend_fen": 0, "merchant_ids": [], "card_venue_slugs": ["x"]},
            "unknown_venue",
        ),
        ({"per_person": 5, "quota": 2}, "per_person_over_quota"),
        ({"release_at": "2026-12-01T10:00:00"}, "invalid_date"),
        ({"claim_until": "2020-01-01T00:00:00+08:00"}, "invalid_claim_window"),
    ],
)
async def test_campaign_bodies_are_checked_as_a_whole(client, make_account, overrides, code):
    marketer = await make_account("marketer")
    res = await client.post("/api/v1/admin/campaigns", json=voucher_body(**overrides), headers=marketer["headers"])
    assert res.status_code == 400 and res.json()["code"] == code, res.text
