"""A booking's contact phone (issue 21): given with the booking, or the account's own phone; encrypted at rest,
masked to the holder and the venue desk; the venue's staff reveal it in full for a call, on the audit record;
staff of another venue and visitors cannot."""

from __future__ import annotations

import json

import pytest

from backend.audit.tables import AuditEntry
from backend.reservations.tables import Reservation
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.api.test_phone_signin import ask_code, new_phone, sign_in

pytestmark = pytest.mark.anyio

VENUE = "changzhou-museum"


async def book(client, who: dict, slot: dict, **extra):
    return await client.post(
        "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor("李四")], **extra}, headers=who
    )


async def test_a_booking_carries_its_contact_phone_masked_and_sealed(client, make_account):
    holder = await make_account("tourist")
    slot = await fresh_slot(client, VENUE)
    res = await book(client, holder["headers"], slot, contact_phone="138 1234 5678")
    assert res.status_code == 201, res.text
    assert res.json()["contact_phone_masked"] == "138****5678"
    again = await client.get(f"/api/v1/reservations/{res.json()['id']}", headers=holder["headers"])
    assert again.json()["contact_phone_masked"] == "138****5678" and "12345678" not in again.text
    row = (
        await Reservation.select(Reservation.contact_phone_enc, Reservation.contact_phone_masked)
        .where(Reservation.public_id == res.json()["id"])
        .first()
    )
    assert row["contact_phone_masked"] == "138****5678" and "5678" not in row["contact_phone_enc"]

    bad = await book(client, holder["headers"], await fresh_slot(client, VENUE), contact_phone="call me")
    assert bad.status_code == 400


async def test_without_one_the_accounts_own_phone_is_the_contact(client, sms):
    typed, e164 = new_phone()
    assert (await ask_code(client, typed)).status_code == 202
    token = (await sign_in(client, typed, sms.last_code(e164))).json()["access_token"]
    client.cookies.clear()
    res = await book(client, {"Authorization": f"Bearer {token}"}, await fresh_slot(client, VENUE))
    assert res.status_code == 201, res.text
    assert res.json()["contact_phone_masked"] == e164[3:6] + "****" + e164[-4:]


async def test_the_venue_desk_sees_masks_and_reveals_one_number_on_the_record(client, make_account):
    holder = await make_account("tourist")
    slot = await fresh_slot(client, VENUE)
    booked = (await book(client, holder["headers"], slot, contact_phone="+86 139 0000 1111")).json()
    day = booked["slot"]["starts_at"][:10]
    staff = await make_account("staff", venues=(VENUE,))
    desk = await client.get(f"/api/v1/venues/{VENUE}/bookings", params={"date": day}, headers=staff["headers"])
    assert desk.status_code == 200, desk.text
    [mine] = [b for b in desk.json()["items"] if b["id"] == booked["id"]]
    assert mine["contact_phone_masked"] == "139****1111" and mine["holder_name_masked"] == "李*"
    assert "00001111" not in desk.text and "李四" not in desk.text

    url = f"/api/v1/venues/{VENUE}/bookings/{booked['id']}/contact"
    revealed = await client.post(url, headers=staff["headers"])
    assert revealed.status_code == 200 and revealed.json() == {"id": booked["id"], "contact_phone": "+86 139 0000 1111"}
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.object, AuditEntry.status).where(
        AuditEntry.actor_id == staff["id"]
    )
    assert [(e["action"], json.loads(e["object"])["reservation_id"], e["status"]) for e in entries] == [
        ("POST /api/v1/venues/{slug}/bookings/{reservation_id}/contact", booked["id"], 200)
    ]

    other = await make_account("staff", venues=("wujin-museum",))
    assert (await client.post(url, headers=other["headers"])).status_code == 403
    elsewhere = f"/api/v1/venues/wujin-museum/bookings/{booked['id']}/contact"
    assert (await client.post(elsewhere, headers=other["headers"])).status_code == 404  # not a booking there
    assert (await client.post(url, headers=holder["headers"])).status_code == 403
    listing = await client.get(f"/api/v1/venues/{VENUE}/bookings", headers=other["headers"])
    assert listing.status_code == 403
