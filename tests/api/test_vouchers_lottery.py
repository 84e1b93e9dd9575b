"""Lotteries (issue 17, item 5): applications until claim_until, a SHA-256 commitment to the seed from
release, a deterministic draw from the seed and the sorted pseudonymous applicants, reproduced bit for bit
by `changxiang verify-draw`."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from backend.lib.clock import clock
from backend.vouchers.draw import applicants_digest
from backend.vouchers.tables import Coupon
from tests.api.voucher_helpers import city, published_campaign, verified_tourists
from tests.conftest import ROOT, arun_cli

pytestmark = pytest.mark.anyio


def _verify(document: dict) -> subprocess.CompletedProcess:
    path = Path(tempfile.mkdtemp(prefix="draw-")) / "draw.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "backend.cli", "verify-draw", str(path)], cwd=ROOT, capture_output=True, text=True
    )


async def test_a_lottery_is_committed_drawn_once_and_verifiable(app, client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(
        client,
        marketer,
        allocation="lottery",
        quota=4,
        per_person=2,
        claim_until=city(hours=1).isoformat(),
        valid_until=city(days=7).isoformat(),
    )
    public = (await client.get(f"/api/v1/campaigns/{cid}")).json()
    commitment = public["seed_sha256"]
    assert len(commitment) == 64 and public["applicants"] == 0 and public["phase"] == "open"

    unverified = await make_account("tourist")
    res = await client.post(f"/api/v1/campaigns/{cid}/apply", headers=unverified["headers"])
    assert res.status_code == 409 and res.json()["code"] == "identity_required"
    people = await verified_tourists(app, client, 7)
    pseudonyms = {}
    for person in people:
        res = await client.post(f"/api/v1/campaigns/{cid}/apply", headers=person["headers"])
        assert res.status_code == 201, res.text
        pseudonyms[person["id"]] = res.json()["pseudonym"]
    again = await client.post(f"/api/v1/campaigns/{cid}/apply", headers=people[0]["headers"])
    assert again.status_code == 200 and again.json()["pseudonym"] == pseudonyms[people[0]["id"]]
    claim = await client.post(f"/api/v1/campaigns/{cid}/claim", headers=people[0]["headers"])
    assert claim.status_code == 409 and claim.json()["code"] == "lottery_campaign"
    before = (await client.get(f"/api/v1/campaigns/{cid}/draw")).json()
    assert before["seed"] is None and before["winners"] is None and before["applicants_count"] == 7
    assert before["seed_sha256"] == commitment

    clock.set(clock.now() + timedelta(hours=1, minutes=1))
    late = await client.post(f"/api/v1/campaigns/{cid}/apply", headers=unverified["headers"])
    assert late.status_code == 409 and late.json()["code"] in ("ended", "identity_required")
    answers = []

    async def read() -> None:
        answers.append((await client.get(f"/api/v1/campaigns/{cid}/draw")).json())

    async with anyio.create_task_group() as tg:  # the first readers after closing race to draw it
        for _ in range(5):
            tg.start_soon(read)
    document = answers[0]
    assert all(a == document for a in answers)
    assert hashlib.sha256(bytes.fromhex(document["seed"])).hexdigest() == commitment
    assert document["applicants"] == sorted(pseudonyms.values()) and document["winners_count"] == 2
    assert len(document["winners"]) == 2
    coupons = await Coupon.select(Coupon.user_id).where(Coupon.campaign_id == cid)
    winners = {uid for uid, p in pseudonyms.items() if p in document["winners"]}
    assert len(coupons) == 4 and {c["user_id"] for c in coupons} == winners  # per_person 2 each, drawn once
    for person in people:
        mine = (await client.get(f"/api/v1/campaigns/{cid}/application", headers=person["headers"])).json()
        assert mine["status"] == ("won" if person["id"] in winners else "not_drawn")
    public = (await client.get(f"/api/v1/campaigns/{cid}")).json()
    assert public["phase"] == "drawn" and public["issued"] == 4

    ok = _verify(document)
    assert ok.returncode == 0 and "2 winners reproduced" in ok.stdout, ok.stdout + ok.stderr
    # one applicant changed: the applicants' hash changes, and the check fails
    tampered = {**document, "applicants": sorted([*document["applicants"][1:], "0" * 20])}
    assert applicants_digest(tampered["applicants"]) != document["applicants_sha256"]
    bad = _verify(tampered)
    assert bad.returncode == 1 and "applicants_sha256 does not match" in bad.stdout
    swapped = {**document, "winners": list(reversed(document["winners"]))}
    assert _verify(swapped).returncode == 1
    wrong_seed = {**document, "seed": "00" * 32}
    assert "does not hash" in _verify(wrong_seed).stdout


async def test_the_draw_is_reproduced_from_the_url(app, client, make_account, peer_server_url):
    """`verify-draw` reads the draw from the server, as anyone would."""
    marketer = await make_account("marketer")
    cid = await published_campaign(
        client, marketer, allocation="lottery", quota=1, claim_until=city(hours=-0.01).isoformat()
    )
    # applications closed already (claim_until passed): nobody applied, the draw has no winners
    out = await arun_cli("verify-draw", f"{peer_server_url}/api/v1/campaigns/{cid}/draw")
    assert "0 winners reproduced" in out


async def test_lottery_refusals(client, make_account):
    marketer = await make_account("marketer")
    cid = await published_campaign(client, marketer)
    res = await client.get(f"/api/v1/campaigns/{cid}/draw")
    assert res.status_code == 409 and res.json()["code"] == "first_come_campaign"
    tourist = await make_account("tourist")
    res = await client.get(f"/api/v1/campaigns/{cid}/application", headers=tourist["headers"])
    assert res.status_code == 404 and res.json()["code"] == "application_not_found"
