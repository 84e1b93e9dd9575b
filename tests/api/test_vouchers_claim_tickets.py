"""Claim tickets (issue 17, 7): in a release's rush a claim needs the app's short-lived ticket, bound to the
account and the campaign; outside the rush it needs none."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend.lib.clock import clock
from backend.vouchers.tables import Coupon
from tests.api.voucher_helpers import city, claim_ticket, published_campaign, verified_tourist

pytestmark = pytest.mark.anyio


async def _post(client, account: dict, cid: int, ticket: str | None):
    headers = dict(account["headers"])
    if ticket is not None:
        headers["X-Claim-Ticket"] = ticket
    return await client.post(f"/api/v1/campaigns/{cid}/claim", headers=headers)


async def test_in_the_rush_a_claim_needs_this_accounts_fresh_ticket_for_this_campaign(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(client, marketer, quota=10)  # released a minute ago: the rush
    other_cid = await published_campaign(client, marketer, quota=10)
    a, b = await verified_tourist(client, make_account), await verified_tourist(client, make_account)

    res = await client.post(f"/api/v1/campaigns/{cid}/claim-ticket", headers=a["headers"])
    assert res.status_code == 200 and res.headers["cache-control"] == "no-store"
    body = res.json()
    issued = clock.now()
    assert datetime.fromisoformat(body["expires_at"]) - issued <= timedelta(seconds=121)
    assert datetime.fromisoformat(body["required_until"]) - datetime.fromisoformat(body["required_from"]) == timedelta(
        minutes=15
    )
    ticket = body["ticket"]

    refusals = {
        None: "claim_ticket_required",
        "": "claim_ticket_required",
        "not-a-ticket": "claim_ticket_invalid",
        ticket[:-2] + ("AA" if not ticket.endswith("AA") else "BB"): "claim_ticket_invalid",  # the MAC
        ticket.replace(f".{cid}.", f".{other_cid}.", 1): "claim_ticket_invalid",  # another campaign, same MAC
    }
    for sent, code in refusals.items():
        res = await _post(client, a, cid, sent)
        assert res.status_code == 403 and res.json()["code"] == code, (sent, res.text)
    # another account's ticket, and this account's ticket for another campaign
    res = await _post(client, b, cid, ticket)
    assert res.status_code == 403 and res.json()["code"] == "claim_ticket_invalid"
    res = await _post(client, a, other_cid, ticket)
    assert res.status_code == 403 and res.json()["code"] == "claim_ticket_invalid"
    assert await Coupon.count().where(Coupon.campaign_id.is_in([cid, other_cid])) == 0, "refusals change nothing"

    clock.set(issued + timedelta(seconds=125))  # two minutes on: the ticket has expired
    res = await _post(client, a, cid, ticket)
    assert res.status_code == 403 and res.json()["code"] == "claim_ticket_expired"
    fresh = (await client.post(f"/api/v1/campaigns/{cid}/claim-ticket", headers=a["headers"])).json()["ticket"]
    assert (await _post(client, a, cid, fresh)).status_code == 201
    assert (await _post(client, b, cid, await claim_ticket(client, b, cid))).status_code == 201
    assert await Coupon.count().where(Coupon.campaign_id == cid) == 2


async def test_after_the_rush_no_ticket_is_needed_and_lotteries_have_none(client, make_account):
    marketer = await make_account("marketer")
    calm = await published_campaign(
        client, marketer, release_at=city(hours=-1).isoformat(), valid_from=city(hours=-1).isoformat()
    )
    holder = await verified_tourist(client, make_account)
    assert (await _post(client, holder, calm, None)).status_code == 201
    lottery = await published_campaign(
        client, marketer, allocation="lottery", claim_until=city(hours=2).isoformat(), quota=5
    )
    res = await client.post(f"/api/v1/campaigns/{lottery}/claim-ticket", headers=holder["headers"])
    assert res.status_code == 409 and res.json()["code"] == "lottery_campaign"
    assert (await client.post("/api/v1/campaigns/999999/claim-ticket", headers=holder["headers"])).status_code == 404
    assert (await client.post(f"/api/v1/campaigns/{calm}/claim-ticket")).status_code == 401
