"""Issue 15, findings 7 and 13: what an offline gate uploads is trusted only when the gate's own certified
key signed it, dated within the window since the device's last sync; the rest is flagged for staff, never
admitted. And a pass (or a staff account) keeps a bounded number of device certificates: the newest wins.

Time moves with the clock (backend/lib/clock): each test books a slot ahead and sets the clock inside it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from backend.lib.clock import clock
from backend.lib.signing_keys import b64u, sign_raw, unb64u, uncompressed
from backend.passes.codes import device_message, make_device_code
from backend.passes.tables import DeviceCertificate, GateDevice, ScanRecord
from backend.reservations.tables import Reservation
from tests.api.gate_helpers import Gate, seconds
from tests.api.reservation_helpers import fresh_slot, visitor

pytestmark = pytest.mark.anyio

VENUE = "changzhou-museum"


@pytest.fixture
async def people(make_account):
    return {
        "tourist": await make_account("tourist"),
        "staff": await make_account("staff", venues=(VENUE,)),
        "staff2": await make_account("staff", venues=(VENUE,)),
    }


async def inside_a_slot(client, tourist) -> dict:
    """A confirmed booking ahead, and the clock set ten minutes into its slot."""
    slot = await fresh_slot(client, VENUE)
    res = await client.post(
        "/api/v1/reservations", headers=tourist["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert res.status_code == 201, res.text
    assert res.json()["status"] == "confirmed"
    clock.set(datetime.fromisoformat(slot["starts_at"]) + timedelta(minutes=10))
    return res.json()


async def server_code(client, tourist) -> str:
    res = await client.get("/api/v1/pass/code", headers=tourist["headers"])
    assert res.status_code == 200, res.text
    return res.json()["code"]


async def online(client, staff, code: str) -> str:
    res = await client.post("/api/v1/scans", headers=staff["headers"], json={"code": code, "venue_slug": VENUE})
    assert res.status_code == 200, res.text
    return res.json()["result"]


async def entries(booking: dict) -> int:
    row = await Reservation.select(Reservation.entries).where(Reservation.public_id == uuid.UUID(booking["id"])).first()
    return row["entries"]


async def counts(client, staff) -> dict:
    res = await client.get("/api/v1/scans/counts", headers=staff["headers"], params={"venue": VENUE})
    assert res.status_code == 200, res.text
    return res.json()


# ---- finding 7: offline sync must not turn stale codes valid


async def test_a_stale_code_replayed_unsigned_with_an_old_time_is_flagged_not_admitted(client, people):
    """(a) A screenshot two hours old, uploaded as if scanned back then, from a gate account's token alone."""
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    shot_at = clock.now()
    screenshot = await server_code(client, t)
    clock.advance(timedelta(hours=2))
    assert await online(client, staff, screenshot) == "stale_code", "online, the screenshot is stale"
    before = await counts(client, staff)
    item = {
        "code": screenshot,
        "venue_slug": VENUE,
        "nonce": uuid.uuid4().hex,
        "offline_result": "ok",
        "scanned_at": (shot_at + seconds(5)).isoformat(),
    }
    res = await client.post("/api/v1/scans/batch", headers=staff["headers"], json={"items": [item]})
    assert res.status_code == 200, res.text
    out = res.json()
    assert out["items"][0]["result"] == "flagged" and out["items"][0]["reason"] == "unsigned", out
    assert out["flagged"] == 1 and out["items"][0]["conflict"] is False
    assert await entries(booking) == 0, "nobody was admitted"
    after = await counts(client, staff)
    assert after["entries_today"] == before["entries_today"]
    assert after["flagged_today"] == before["flagged_today"] + 1
    logged = await ScanRecord.select().where(ScanRecord.nonce == f"{VENUE}:{item['nonce']}").first()
    assert logged["result"] == "flagged" and logged["flag_reason"] == "unsigned" and logged["offline"] is True
    # staff see whose booking it was about; a re-upload answers as before
    assert logged["reservation_id"] is not None and logged["pass_id"] is not None
    again = (await client.post("/api/v1/scans/batch", headers=staff["headers"], json={"items": [item]})).json()
    assert again["items"][0]["result"] == "flagged" and again["items"][0]["reason"] == "unsigned"


async def test_signatures_that_are_not_the_gates_own_are_flagged(client, people):
    """A forged signature, another staff account's device, a changed field, a stranger's key: flagged."""
    t, staff, staff2 = people["tourist"], people["staff"], people["staff2"]
    booking = await inside_a_slot(client, t)
    gate, theirs = Gate(client, staff), Gate(client, staff2)
    await gate.certify()
    await gate.sync()
    await theirs.certify()
    await theirs.sync()
    code = await server_code(client, t)
    now = clock.now()
    stranger = Gate(client, staff, serial=gate.serial)  # a key nobody certified, claiming gate's serial
    tampered = gate.scan(code, VENUE, now)
    tampered["offline_result"] = "already_redeemed"  # changed after signing
    other_staffs = theirs.scan(code, VENUE, now)  # staff2's device, uploaded with staff's token
    out = await gate.upload(stranger.scan(code, VENUE, now), tampered, other_staffs)
    assert [(i["result"], i["reason"]) for i in out["items"]] == [
        ("flagged", "bad_signature"),
        ("flagged", "bad_signature"),
        ("flagged", "unknown_device"),
    ], out
    assert await entries(booking) == 0


async def test_a_signed_scan_within_the_window_since_the_last_sync_is_admitted(client, people):
    """(b) The gate synced, lost its network, admitted a fresh code alone: the upload admits it as before."""
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gate = Gate(client, staff)
    cert = await gate.certify()
    assert cert["venue_slugs"] == [VENUE] and cert["serial"] == gate.serial
    raw = unb64u(cert["certificate"])
    assert raw[0] == 3 and raw[-64 - len(VENUE) :][: len(VENUE)] == VENUE.encode()
    synced = await gate.sync()
    assert synced["device_synced_at"] is not None
    other = Gate(client, people["staff2"])  # a second gate, synced at the same time
    await other.certify()
    await other.sync()
    before = await counts(client, staff)
    clock.advance(timedelta(minutes=20))  # offline for a while
    code = await server_code(client, t)
    shown = clock.now()
    item = gate.scan(code, VENUE, shown + seconds(2), gate="东门")
    clock.advance(timedelta(minutes=30))  # back online half an hour later
    out = await gate.upload(item)
    assert out["items"][0]["result"] == "ok" and out["items"][0]["conflict"] is False, out
    assert out["flagged"] == 0 and "reason" not in out["items"][0]
    assert await entries(booking) == 1
    after = await counts(client, staff)
    assert after["entries_today"] == before["entries_today"] + 1 and after["flagged_today"] == before["flagged_today"]
    # the second gate admitted the same booking offline too: a conflict, as before
    twice = await other.upload(other.scan(code, VENUE, shown + seconds(5)))
    assert twice["items"][0]["result"] == "already_redeemed" and twice["items"][0]["conflict"] is True


async def test_a_signed_scan_dated_before_the_last_sync_is_flagged(client, people):
    """(c) Signed by the gate, but dated before its last sync (less the skew): the gate spoke to the
    server since, so this is a back-dated scan, not one made offline."""
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gate = Gate(client, staff)
    await gate.certify()
    await gate.sync()
    code = await server_code(client, t)
    backdated = gate.scan(code, VENUE, clock.now())
    clock.advance(timedelta(minutes=15))
    await gate.sync()
    out = await gate.upload(backdated)
    assert out["items"][0]["result"] == "flagged" and out["items"][0]["reason"] == "before_last_sync", out
    assert await entries(booking) == 0
    # within the skew of the sync it is still trusted (a scan made while the keys were in flight)
    code = await server_code(client, t)
    just_before = gate.scan(code, VENUE, clock.now() - seconds(25))
    assert (await gate.upload(just_before))["items"][0]["result"] == "ok"


async def test_signed_scans_from_the_future_past_the_window_or_never_synced_are_flagged(client, people):
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gate = Gate(client, staff)
    await gate.certify()
    code = await server_code(client, t)
    assert (await gate.upload(gate.scan(code, VENUE, clock.now())))["items"][0]["reason"] == "never_synced"
    await gate.sync()
    future = gate.scan(code, VENUE, clock.now() + timedelta(minutes=10))
    assert (await gate.upload(future))["items"][0]["reason"] == "after_upload"
    clock.advance(timedelta(hours=13))  # past the 12 h a gate's offline scans are trusted after a sync
    late = gate.scan(code, VENUE, clock.now() - seconds(5))
    assert (await gate.upload(late))["items"][0]["reason"] == "past_offline_window"
    assert await entries(booking) == 0


async def test_a_gate_may_sign_only_at_its_venues_and_is_certified_for_its_own(client, people, make_account):
    staff = people["staff"]
    gate = Gate(client, staff)
    res = await client.post(
        "/api/v1/scans/device",
        headers=staff["headers"],
        json={"public_key": gate.public_key, "venue_slugs": ["wujin-museum"]},
    )
    assert res.status_code == 403 and res.json()["code"] == "forbidden_venue"
    bad = await client.post("/api/v1/scans/device", headers=staff["headers"], json={"public_key": "A" * 60})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_public_key"
    tourist = await client.post(
        "/api/v1/scans/device", headers=people["tourist"]["headers"], json={"public_key": gate.public_key}
    )
    assert tourist.status_code == 403
    admin = await make_account("admin")
    nowhere = await client.post(
        "/api/v1/scans/device",
        headers=admin["headers"],
        json={"public_key": gate.public_key, "venue_slugs": ["no-such-venue"]},
    )
    assert nowhere.status_code == 400 and nowhere.json()["code"] == "unknown_venue"
    # the same key again renews its certificate: same serial
    first = await gate.certify()
    assert (await gate.certify())["serial"] == first["serial"]
    # a staff account of two venues whose gate was certified for one of them
    both = await make_account("staff", venues=(VENUE, "wujin-museum"))
    two = Gate(client, both)
    await two.certify(venue_slugs=["wujin-museum"])
    await two.sync()
    t = people["tourist"]
    await inside_a_slot(client, t)
    out = await two.upload(two.scan(await server_code(client, t), VENUE, clock.now()))
    assert out["items"][0]["reason"] == "device_venue"


async def test_a_gate_refusal_is_not_replayed_as_an_admission(client, people):
    """The gate turned the visitor away offline (its list was old): the upload must not let them in."""
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gate = Gate(client, staff)
    await gate.certify()
    await gate.sync()
    code = await server_code(client, t)
    out = await gate.upload(gate.scan(code, VENUE, clock.now(), offline_result="wrong_venue"))
    assert out["items"][0]["result"] == "wrong_venue" and out["flagged"] == 0
    assert await entries(booking) == 0


async def test_unsigned_items_do_not_spoil_a_batch(client, people):
    """An old client's unsigned scans and a new one's signed scans in one upload: each judged alone."""
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gate = Gate(client, staff)
    await gate.certify()
    await gate.sync()
    code = await server_code(client, t)
    unsigned = {"code": code, "venue_slug": VENUE, "nonce": uuid.uuid4().hex, "offline_result": "ok"}
    out = await gate.upload(unsigned, gate.scan(code, VENUE, clock.now()))
    assert sorted(i["result"] for i in out["items"]) == ["flagged", "ok"] and out["flagged"] == 1
    assert await entries(booking) == 1


# ---- finding 13: device certificates are capped


async def certify_phone(client, tourist) -> tuple[ec.EllipticCurvePrivateKey, bytes, dict]:
    phone = ec.generate_private_key(ec.SECP256R1())
    res = await client.post(
        "/api/v1/pass/device", headers=tourist["headers"], json={"public_key": b64u(uncompressed(phone.public_key()))}
    )
    assert res.status_code == 201, res.text
    return phone, unb64u(res.json()["certificate"]), res.json()


def phone_code(phone, cert: bytes) -> str:
    shown = int(clock.now().timestamp())
    return make_device_code(cert, shown, sign_raw(phone, device_message(cert, shown)))


async def test_a_fourth_phone_on_one_pass_revokes_the_oldest(client, people):
    """(d) Newest device wins: the fourth phone's certificate is issued and the least recently certified
    phone's certificate is revoked (gates refuse its codes as `revoked` and list it for offline use)."""
    t, staff = people["tourist"], people["staff"]
    await inside_a_slot(client, t)
    phones = [await certify_phone(client, t) for _ in range(3)]
    # the second phone renews its certificate (same key): no new device, nothing revoked
    renewed = await client.post(
        "/api/v1/pass/device", headers=t["headers"], json={"public_key": b64u(uncompressed(phones[1][0].public_key()))}
    )
    assert renewed.status_code == 201
    pass_id = (await client.get("/api/v1/pass", headers=t["headers"])).json()["pass_id"]
    assert not await DeviceCertificate.exists().where(
        (DeviceCertificate.pass_id == pass_id) & DeviceCertificate.revoked_at.is_not_null()
    )
    fourth = await certify_phone(client, t)
    active = await DeviceCertificate.select(DeviceCertificate.device_public_key).where(
        (DeviceCertificate.pass_id == pass_id) & DeviceCertificate.revoked_at.is_null()
    )
    assert len({r["device_public_key"] for r in active}) == 3
    oldest = phones[0][2]["serial"]
    keys = (await client.get("/api/v1/scans/keys", headers=staff["headers"])).json()
    assert {"device_serial": oldest} in keys["revoked"]

    assert await online(client, staff, phone_code(phones[0][0], phones[0][1])) == "revoked"
    assert await online(client, staff, phone_code(fourth[0], fourth[1])) == "ok"


async def test_a_fourth_gate_device_of_one_staff_account_revokes_the_oldest(client, people):
    t, staff = people["tourist"], people["staff"]
    booking = await inside_a_slot(client, t)
    gates = [Gate(client, staff) for _ in range(4)]
    for gate in gates[:3]:
        await gate.certify()
        await gate.sync()
    code = await server_code(client, t)
    queued = gates[0].scan(code, VENUE, clock.now())  # the oldest gate admitted someone offline
    await gates[3].certify()
    mine = (GateDevice.staff_user_id == staff["id"]) & GateDevice.revoked_at.is_null()
    assert await GateDevice.count().where(mine) == 3
    assert (await gates[0].sync())["device_synced_at"] is None, "revoked: it must certify again"
    out = await gates[3].upload(queued)
    assert out["items"][0]["result"] == "flagged" and out["items"][0]["reason"] == "device_revoked"
    assert await entries(booking) == 0
