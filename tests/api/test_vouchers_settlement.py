"""Settlement and transparency (issue 17, item 7): a merchant's daily CSV (UTF-8 with BOM, formula-safe)
whose totals equal the redemption log to the fen, and the open dataset `vouchers`."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from backend.lib.clock import CITY_TZ, clock
from backend.opendata.services import opendata
from backend.vouchers.tables import Redemption
from tests.api.voucher_helpers import claim, merchant_account, published_campaign, verified_tourist

pytestmark = pytest.mark.anyio


async def _redeem(client, merchant, holder, amount: int) -> dict:
    code = (await client.get("/api/v1/pass/code", headers=holder["headers"])).json()["code"]
    res = await client.post(
        "/api/v1/redemptions",
        json={"code": code, "amount_fen": amount, "nonce": uuid.uuid4().hex},
        headers=merchant["headers"],
    )
    return res.json()


async def test_the_settlement_reconciles_with_the_redemption_log(client, make_account):
    marketer = await make_account("marketer")
    title = '=HYPERLINK("x") 茶饮券'  # a title a spreadsheet would run: it must come out as text
    cid = await published_campaign(
        client, marketer, quota=20, per_person=3, min_spend_fen=0, title={"zh": title, "en": "tea"}
    )
    till = await merchant_account(client, make_account, "qingguo-lane-noodle-house")
    other = await merchant_account(client, make_account, "qingguo-lane-tea-house")
    amounts = [5000, 1234, 999]
    for amount in amounts:
        holder = await verified_tourist(client, make_account)
        assert (await claim(client, holder, cid)).status_code == 201
        out = await _redeem(client, till, holder, amount)
        assert out["result"] == "ok"
    # one reversed (not owed), one at another merchant (not this one's)
    holder = await verified_tourist(client, make_account)
    await claim(client, holder, cid)
    undone = await _redeem(client, till, holder, 7000)
    await client.post(f"/api/v1/redemptions/{undone['redemption_id']}/reverse", headers=till["headers"])
    assert (await _redeem(client, other, holder, 7000))["result"] == "ok"

    today = clock.now().astimezone(CITY_TZ).date().isoformat()
    res = await client.get("/api/v1/merchant/settlement", params={"date": today}, headers=till["headers"])
    assert res.status_code == 200, res.text
    assert res.content.startswith(b"\xef\xbb\xbf") and res.headers["content-type"].startswith("text/csv")
    assert "attachment" in res.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(res.content.decode("utf-8-sig"))))
    lines = [r for r in rows if r["redemption_id"] != "TOTAL"]
    total = next(r for r in rows if r["redemption_id"] == "TOTAL")
    assert {r["merchant_id"] for r in rows} == {"qingguo-lane-noodle-house"}
    assert all(r["campaign_title"].startswith("'=") for r in lines if r["campaign_id"] == str(cid))
    log = await Redemption.select().where(
        (Redemption.merchant_id == "qingguo-lane-noodle-house")
        & (Redemption.local_date == today)
        & (Redemption.result == "ok")
        & Redemption.reversed_at.is_null()
    )
    assert sorted(r["redemption_id"] for r in lines) == sorted(str(r["public_id"]) for r in log)
    assert int(total["bill_fen"]) == sum(r["amount_fen"] for r in log) == sum(int(r["bill_fen"]) for r in lines)
    assert int(total["subsidy_fen"]) == sum(r["discount_fen"] for r in log) == sum(int(r["subsidy_fen"]) for r in lines)
    mine = [r for r in lines if r["campaign_id"] == str(cid)]
    assert sorted(int(r["discount_fen"]) for r in mine) == sorted(min(2000, a) for a in amounts)

    refused = await client.get(
        "/api/v1/merchant/settlement", params={"merchant_id": "qingguo-lane-tea-house"}, headers=till["headers"]
    )
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_merchant"
    governance = await make_account("governance")
    every = await client.get("/api/v1/merchant/settlement", params={"date": today}, headers=governance["headers"])
    assert {"qingguo-lane-noodle-house", "qingguo-lane-tea-house"} <= {
        r["merchant_id"] for r in csv.DictReader(io.StringIO(every.content.decode("utf-8-sig")))
    }
    tourist = await make_account("tourist")
    assert (await client.get("/api/v1/merchant/settlement", headers=tourist["headers"])).status_code == 403

    opendata.forget()
    tally = await client.get("/api/v1/opendata/vouchers.json")
    assert tally.status_code == 200, tally.text
    item = next(i for i in tally.json()["items"] if i["campaign_id"] == cid)
    assert (item["issued"], item["redeemed"], item["subsidy_fen"]) == (4, 4, sum(min(2000, a) for a in amounts) + 2000)
    assert "holder" not in tally.text and "identity" not in tally.text
    catalogue = (await client.get("/api/v1/opendata")).json()
    assert "vouchers" in str(catalogue)
