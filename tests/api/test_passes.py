"""One code for every venue, and the gate's decision: single use, staff scope, freshness, races,
nonces, offline batches with conflicts, device-signed codes.

Time moves with the clock (backend/lib/clock), never by editing rows: a test books ahead and sets the clock
ten minutes into the slot; its later bookings go into slots made for that same instant (`slot_at`)."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import tomllib
import uuid
from datetime import datetime, timedelta

import anyio
import httpx
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.lib.clock import clock
from backend.lib.signing_keys import b64u, sign_raw, unb64u, uncompressed
from backend.media.pictures import with_default_pictures
from backend.passes.codes import device_message, make_device_code, make_server_code
from backend.passes.keys import keyring
from backend.passes.tables import ScanRecord
from backend.venues.schemas import VenueContent
from backend.venues.services import catalog, load_venues, parse_venue_content
from tests.api.gate_helpers import Gate
from tests.api.reservation_helpers import fresh_slot, slot_at, visitor
from tests.conftest import ROOT

pytestmark = pytest.mark.anyio

VENUE = "changzhou-museum"
OTHER = "wujin-museum"
PAID = "china-dinosaur-park"


async def book(client, tourist, slot: dict, party: int = 1) -> dict:
    res = await client.post(
        "/api/v1/reservations",
        headers=tourist["headers"],
        json={"slot_id": slot["id"], "visitors": [visitor() for _ in range(party)]},
    )
    assert res.status_code == 201, res.text
    return res.json()


async def booked_now(client, tourist, venue=VENUE, party=1) -> dict:
    """A confirmed booking whose slot is running now. The test's first one is booked ahead and the clock
    set ten minutes into its slot; once the clock stands there, a slot of the test's own at that instant
    (`slot_at`) takes the next ones, so every booking of a test runs at the same moment."""
    if clock.moved:
        slot = await slot_at(client, venue, clock.now() - timedelta(minutes=10))
    else:
        slot = await fresh_slot(client, venue)
    booking = await book(client, tourist, slot, party)
    assert booking["status"] == "confirmed", booking
    if not clock.moved:
        clock.set(datetime.fromisoformat(slot["starts_at"]) + timedelta(minutes=10))
    return booking


async def code_of(client, tourist) -> str:
    res = await client.get("/api/v1/pass/code", headers=tourist["headers"])
    assert res.status_code == 200 and res.headers["cache-control"] == "no-store"
    body = res.json()
    assert body["refresh_after_s"] > 0 and body["expires_at"]
    return body["code"]


async def scan(client, staff, code, venue=VENUE, **extra):
    return await client.post(
        "/api/v1/scans", headers=staff["headers"], json={"code": code, "venue_slug": venue, **extra}
    )


@pytest.fixture
async def people(make_account):
    return {
        "tourist": await make_account("tourist"),
        "staff": await make_account("staff", venues=(VENUE,)),
        "staff2": await make_account("staff", venues=(VENUE,)),
        "other_staff": await make_account("staff", venues=(OTHER,)),
    }


def is_masked(name: str) -> bool:
    """A masked name: a Chinese name with stars (张*), a Latin one as initials (Ingrid Bergstrom → I. B.)."""
    return "*" in name or re.fullmatch(r"(?:[A-Z]\. ?)+", name) is not None


async def test_pass_lists_entitlements_at_every_venue(client, people):
    t = people["tourist"]
    a = await booked_now(client, t, VENUE)
    b = await booked_now(client, t, OTHER)
    body = (await client.get("/api/v1/pass", headers=t["headers"])).json()
    assert len(body["pass_id"]) == 16 and is_masked(body["holder_name_masked"])
    by_id = {e["reservation_id"]: e for e in body["entitlements"]}
    assert by_id[a["id"]]["venue_slug"] == VENUE and by_id[b["id"]]["venue_slug"] == OTHER
    assert by_id[a["id"]]["status"] == "confirmed" and by_id[a["id"]]["party_size"] == 1
    assert (await client.get("/api/v1/pass")).status_code == 401


async def test_gate_decisions(client, people):
    t, staff = people["tourist"], people["staff"]
    booking = await booked_now(client, t, party=2)
    code = await code_of(client, t)
    first = await scan(client, staff, code)
    assert first.status_code == 200
    assert first.json()["result"] == "ok" and first.json()["party_size"] == 2
    assert first.json()["reservation_id"] == booking["id"] and is_masked(first.json()["holder_name_masked"])
    assert (await scan(client, staff, code)).json()["result"] == "already_redeemed"
    changed = code[:40] + ("A" if code[40] != "A" else "B") + code[41:]
    assert (await scan(client, staff, changed)).json()["result"] == "invalid"
    assert (await scan(client, staff, "not a code at all")).json()["result"] == "invalid"
    # staff of another venue: refused for this venue, told wrong_venue at their own
    refused = await scan(client, people["other_staff"], code)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden_venue"
    assert (await scan(client, people["other_staff"], code, OTHER)).json()["result"] == "wrong_venue"
    # a tourist can't scan at all
    assert (await scan(client, t, code)).status_code == 403
    assert (await client.post("/api/v1/scans", json={"code": code, "venue_slug": VENUE})).status_code == 401


async def test_cancelled_and_unpaid_and_future_bookings_are_refused(client, people, make_account):
    t, staff = people["tourist"], people["staff"]
    # booked ahead and cancelled in time (before the cut-off); on the day, the gate says so
    slot = await fresh_slot(client, VENUE)
    booking = await book(client, t, slot)
    cancelled = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=t["headers"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    clock.set(datetime.fromisoformat(slot["starts_at"]) + timedelta(minutes=10))
    assert (await scan(client, staff, await code_of(client, t))).json()["result"] == "canceled"

    # a priced slot at that moment: booked, not paid (its hold runs from the moment it was made)
    payer = await make_account("tourist")
    paid_staff = await make_account("staff", venues=(PAID,))
    unpaid = await book(client, payer, await slot_at(client, PAID, clock.now() - timedelta(minutes=10)))
    assert unpaid["status"] == "pending_payment", unpaid
    assert (await scan(client, paid_staff, await code_of(client, payer), PAID)).json()["result"] == "unpaid"

    later = await make_account("tourist")
    await book(client, later, await fresh_slot(client, VENUE))  # tomorrow or later
    assert (await scan(client, staff, await code_of(client, later))).json()["result"] == "invalid_time"


async def test_a_code_60_s_past_its_expiry_is_stale(client, people):
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t)
    pass_id = (await client.get("/api/v1/pass", headers=t["headers"])).json()["pass_id"]
    key = await keyring.current()
    expired_at = int(clock.time()) - 60
    old = make_server_code(key, pass_id, expired_at - 30)  # issued 30 s before it expired
    assert (await scan(client, staff, old)).json()["result"] == "stale_code"
    fresh = make_server_code(key, pass_id, int(clock.time()) - 5)
    assert (await scan(client, staff, fresh)).json()["result"] == "ok"


async def test_ten_racing_scans_from_two_gates_admit_once(client, people):
    t = people["tourist"]
    await booked_now(client, t)
    code = await code_of(client, t)
    gates = [people["staff"], people["staff2"]] * 5
    answers = await asyncio.gather(*[scan(client, g, code, gate=f"gate-{i % 2}") for i, g in enumerate(gates)])
    results = sorted(a.json()["result"] for a in answers)
    assert results.count("ok") == 1 and results.count("already_redeemed") == 9


async def test_same_nonce_twice_counts_once(client, people):
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t, party=2)
    before = (await client.get("/api/v1/scans/counts", params={"venue": VENUE}, headers=staff["headers"])).json()
    code = await code_of(client, t)
    nonce = uuid.uuid4().hex
    a, b = await asyncio.gather(scan(client, staff, code, nonce=nonce), scan(client, staff, code, nonce=nonce))
    assert a.json() == b.json() and a.json()["result"] == "ok"
    assert await ScanRecord.count().where(ScanRecord.nonce == f"{VENUE}:{nonce}") == 1
    after = (await client.get("/api/v1/scans/counts", params={"venue": VENUE}, headers=staff["headers"])).json()
    assert after["entries_today"] == before["entries_today"] + 2 and after["occupancy"] == before["occupancy"] + 2
    out = await scan(client, staff, await code_of(client, t), direction="out")
    assert out.json()["result"] == "ok"
    left = (await client.get("/api/v1/scans/counts", params={"venue": VENUE}, headers=staff["headers"])).json()
    assert left["occupancy"] == before["occupancy"] and left["exits_today"] == before["exits_today"] + 2
    assert (await scan(client, staff, await code_of(client, t))).json()["result"] == "already_redeemed", (
        "no re-entry at this venue"
    )


async def test_a_scan_sent_again_later_is_answered_as_the_first_and_moves_nothing(client, people):
    """A live scan does not look its nonce up first: a repeat fails to write its log line and is answered
    from the first's. Sent again one after another (the scanner's retry after a lost answer): an entry, an
    exit and a refusal each come back as they first did, logged once, counted once."""
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t, party=2)

    async def counts() -> dict:
        res = await client.get("/api/v1/scans/counts", params={"venue": VENUE}, headers=staff["headers"])
        return res.json()

    before = await counts()
    entry, exit_, refused = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    first_in = await scan(client, staff, await code_of(client, t), nonce=entry)
    assert first_in.json()["result"] == "ok" and first_in.json()["party_size"] == 2
    for _ in range(2):
        again = await scan(client, staff, await code_of(client, t), nonce=entry)  # a fresh code, the same scan
        assert again.status_code == 200 and again.json() == first_in.json()
    inside = await counts()
    assert inside["entries_today"] == before["entries_today"] + 2 and inside["occupancy"] == before["occupancy"] + 2
    first_out = await scan(client, staff, await code_of(client, t), nonce=exit_, direction="out")
    assert first_out.json()["result"] == "ok"
    assert (
        await scan(client, staff, await code_of(client, t), nonce=exit_, direction="out")
    ).json() == first_out.json()
    first_refusal = await scan(client, staff, "garbage", nonce=refused)
    assert first_refusal.json()["result"] == "invalid"
    assert (await scan(client, staff, await code_of(client, t), nonce=refused)).json() == first_refusal.json()
    after = await counts()
    assert after["exits_today"] == before["exits_today"] + 2 and after["occupancy"] == before["occupancy"]
    assert after["entries_today"] == inside["entries_today"]
    for nonce in (entry, exit_, refused):
        assert await ScanRecord.count().where(ScanRecord.nonce == f"{VENUE}:{nonce}") == 1


async def test_every_scan_is_logged_accepted_or_not(client, people):
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t)
    before = await ScanRecord.count().where(ScanRecord.staff_user_id == staff["id"])
    await scan(client, staff, "garbage", gate="north", device_id="pad-7")
    await scan(client, staff, await code_of(client, t), gate="north", device_id="pad-7")
    rows = await ScanRecord.select().where(ScanRecord.staff_user_id == staff["id"]).order_by(ScanRecord.id)
    assert len(rows) == before + 2
    assert [r["result"] for r in rows[-2:]] == ["invalid", "ok"]
    assert rows[-1]["gate"] == "north" and rows[-1]["device_id"] == "pad-7" and rows[-1]["direction"] == "in"


async def test_offline_batch_flags_a_double_admission(client, people):
    t = people["tourist"]
    await booked_now(client, t)
    code = await code_of(client, t)
    now = clock.now()
    # each gate phone signs what it decides offline with its own certified key (test_offline_trust.py)
    device_a, device_b = Gate(client, people["staff"]), Gate(client, people["staff2"])
    for device in (device_a, device_b):
        await device.certify()
        await device.sync()
    unsigned = {
        "code": code,
        "venue_slug": VENUE,
        "nonce": uuid.uuid4().hex,
        "offline_result": "ok",
        "scanned_at": (now - timedelta(seconds=20)).isoformat(),
        "gate": "A",
    }
    gate_a = device_a.sign(unsigned)
    gate_b = device_b.sign(
        dict(unsigned, nonce=uuid.uuid4().hex, scanned_at=(now - timedelta(seconds=10)).isoformat(), gate="B")
    )
    a = (await client.post("/api/v1/scans/batch", headers=people["staff"]["headers"], json={"items": [gate_a]})).json()
    b = (await client.post("/api/v1/scans/batch", headers=people["staff2"]["headers"], json={"items": [gate_b]})).json()
    assert a["items"][0]["result"] == "ok" and a["items"][0]["conflict"] is False
    assert b["items"][0]["result"] == "already_redeemed" and b["items"][0]["conflict"] is True
    again = (
        await client.post("/api/v1/scans/batch", headers=people["staff2"]["headers"], json={"items": [gate_b]})
    ).json()
    assert again["items"][0]["conflict"] is True, "a re-upload answers as before"
    bad = await client.post(
        "/api/v1/scans/batch", headers=people["staff"]["headers"], json={"items": [dict(gate_a, nonce=None)]}
    )
    assert bad.status_code == 400


async def test_device_signed_codes_work_offline_and_tampering_fails(client, people):
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t)
    device = ec.generate_private_key(ec.SECP256R1())
    res = await client.post(
        "/api/v1/pass/device", headers=t["headers"], json={"public_key": b64u(uncompressed(device.public_key()))}
    )
    assert res.status_code == 201, res.text
    cert = unb64u(res.json()["certificate"])
    shown = int(clock.time())
    code = make_device_code(cert, shown, sign_raw(device, device_message(cert, shown)))
    assert len(code) <= 311, "fits a version-10 QR at error correction M (alphanumeric)"
    forged = make_device_code(cert, shown + 1, sign_raw(device, device_message(cert, shown)))
    assert (await scan(client, staff, forged)).json()["result"] == "invalid"
    stranger = ec.generate_private_key(ec.SECP256R1())
    stolen = make_device_code(cert, shown, sign_raw(stranger, device_message(cert, shown)))
    assert (await scan(client, staff, stolen)).json()["result"] == "invalid"
    assert (await scan(client, staff, code)).json()["result"] == "ok"
    bad = await client.post("/api/v1/pass/device", headers=t["headers"], json={"public_key": "A" * 60})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_public_key"


async def test_scanner_keys_give_a_gate_what_it_needs_offline(client, people):
    t, staff = people["tourist"], people["staff"]
    booking = await booked_now(client, t)
    await code_of(client, t)  # the first pass code of a run makes the signing key a gate is given
    keys = await client.get("/api/v1/scans/keys", headers=staff["headers"])
    assert keys.status_code == 200
    body = keys.json()
    assert body["keys"] and all(k["alg"] == "ES256" and len(unb64u(k["public_key"])) == 65 for k in body["keys"])
    assert body["venue_slugs"] == [VENUE] and body["window_s"] == 30
    mine = [e for e in body["entitlements"] if e["reservation_id"] == booking["id"]]
    assert mine and mine[0]["venue_slug"] == VENUE and all(e["venue_slug"] == VENUE for e in body["entitlements"])
    assert mine[0]["allow_reentry"] is False  # the museum admits once per booking
    assert (await client.get("/api/v1/scans/keys", headers=t["headers"])).status_code == 403
    # a venue that lets visitors come back after an exit says so to its offline gates: no API edits a
    # venue's rules (they are content), so the museum's own content is loaded with the rule changed, and
    # its real content again afterwards
    content = venues_content()
    museum = next(v for v in content if v.slug == VENUE)
    readmits = msgspec.structs.replace(museum, booking=msgspec.structs.replace(museum.booking, allow_reentry=True))
    await load_content([readmits if v is museum else v for v in content])
    try:
        body = (await client.get("/api/v1/scans/keys", headers=staff["headers"])).json()
        assert [e["allow_reentry"] for e in body["entitlements"] if e["reservation_id"] == booking["id"]] == [True]
    finally:
        await load_content(content)


def venues_content() -> list[VenueContent]:
    """The venues as `changxiang load-content` loads them (illustrations where a venue has no pictures)."""
    raw = tomllib.loads((ROOT / "content" / "venues.toml").read_text(encoding="utf-8"))["venue"]
    return parse_venue_content(with_default_pictures("venue", raw, ROOT / "content"))


async def load_content(items: list[VenueContent]) -> None:
    """What `changxiang load-content` does with the venues: upsert them (only a changed one is written), and
    tell the catalogue."""
    report = await load_venues(items)
    assert report.created == 0 and report.updated == 1, report
    catalog.invalidate()


async def test_qr_svg_decodes_with_zbar_to_a_valid_code(client, people, tmp_path):
    assert shutil.which("zbarimg") and shutil.which("rsvg-convert"), "`make test` installs zbar-tools, librsvg2-bin"
    t, staff = people["tourist"], people["staff"]
    await booked_now(client, t)
    svg = await client.get("/api/v1/pass/code.svg", headers=t["headers"])
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    (tmp_path / "code.svg").write_bytes(svg.content)

    def read_qr() -> str:
        png = str(tmp_path / "code.png")
        subprocess.run(["rsvg-convert", "-o", png, str(tmp_path / "code.svg")], check=True)
        return subprocess.run(["zbarimg", "--quiet", "--raw", png], capture_output=True, text=True, check=True).stdout

    decoded = (await anyio.to_thread.run_sync(read_qr)).strip()
    assert len(decoded) > 100
    assert (await scan(client, staff, decoded)).json()["result"] == "ok"


async def _next_event(lines) -> tuple[str, dict]:
    """The next Server-Sent Event (name, JSON data) from a stream's lines."""
    name = data = None
    async for line in lines:
        if line.startswith("event:"):
            name = line.split(":", 1)[1].strip()
        elif line.startswith("data:"):
            data = line.split(":", 1)[1].strip()
        elif line == "" and name:
            return name, json.loads(data)
    raise AssertionError("the stream ended")


async def test_online_gates_see_each_others_decisions_live(client, people, peer_server_at_clock):
    """Gate A watches the venue's stream; gate B admits a code through the server: A hears it at once."""
    booking = await booked_now(client, people["tourist"])
    peer = await peer_server_at_clock()  # another replica, its clock where this test's stands
    code = await code_of(client, people["tourist"])  # fresh once the replica is up (a code lives 30 s)
    params = {"venue": VENUE}
    async with httpx.AsyncClient(base_url=peer, timeout=15) as live:
        other = await live.get("/api/v1/scans/stream", params=params, headers=people["other_staff"]["headers"])
        assert other.status_code == 403 and other.json()["code"] == "forbidden_venue"
        async with live.stream("GET", "/api/v1/scans/stream", params=params, headers=people["staff"]["headers"]) as s:
            assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
            lines = s.aiter_lines()
            name, counts = await _next_event(lines)
            assert name == "ready" and counts["venue_slug"] == VENUE
            admitted = await live.post(
                "/api/v1/scans",
                headers=people["staff2"]["headers"],
                json={"code": code, "venue_slug": VENUE, "gate": "east"},
            )
            assert admitted.json()["result"] == "ok"
            with anyio.fail_after(10):
                name, event = await _next_event(lines)
            assert name == "scan" and event["result"] == "ok"
            assert event["reservation_id"] == booking["id"] and event["gate"] == "east"


async def test_the_figure_a_scan_announces_is_the_venues_fresh_figure(client, people, make_account):
    """Issue 22: the gate reads occupancy once; the figure it announces after a movement (to the dashboard
    and the supervision bridge) is that reading plus the movement. It must equal a fresh reading."""
    from backend.occupancy.services import occupancy, occupancy_changed

    heard = []

    async def listen(v) -> None:
        heard.append(v)

    occupancy_changed.connect(listen)
    try:
        staff = people["staff"]
        for party in (1, 3):
            tourist = await make_account("tourist")
            await booked_now(client, tourist, party=party)
            code = await code_of(client, tourist)
            for direction in ("in", "out"):
                res = await scan(client, staff, code, direction=direction)
                assert res.status_code == 200 and res.json()["result"] == "ok", res.text
                fresh = await occupancy.venue(VENUE)
                said = [v for v in heard if v.venue_slug == VENUE][-1]
                fields = ("occupancy", "entries_today", "exits_today", "ratio", "comfort_level", "capacity")
                assert {f: getattr(said, f) for f in fields} == {f: getattr(fresh, f) for f in fields}, direction
    finally:
        occupancy_changed.disconnect(listen)
