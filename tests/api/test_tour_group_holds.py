"""Agency accounts never take seats without paying (issue 15, finding 8): a tour group's seats in a paid
slot are held until paid or approved and expire like a visitor's unpaid hold; every agency stays within
its quota (seats a day, share of a slot), however many registrations race, on both databases."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from backend.governance.tables import TourGroup
from backend.lib.clock import clock
from backend.reservations.services import reservations
from backend.reservations.tables import Reservation, Slot
from backend.settings import get_settings
from tests.api.reservation_helpers import fresh_slot, slot_at, slot_by_id
from tests.api.test_payments import PAID_VENUE, deliver
from tests.api.test_tour_groups import group
from tests.conftest import stripe_standin

pytestmark = pytest.mark.anyio

FREE_VENUE = "changzhou-museum"
GROUPS = "/api/v1/tour-groups"


@pytest.fixture
def quota(monkeypatch):
    """Set the agency quota for one test (the settings are read once, so clear them)."""

    def set_quota(per_day: int | None = None, share: float | None = None) -> None:
        if per_day is not None:
            monkeypatch.setenv("CHANGXIANG_AGENCY_SEATS_PER_DAY", str(per_day))
        if share is not None:
            monkeypatch.setenv("CHANGXIANG_AGENCY_SLOT_SHARE", str(share))
        get_settings.cache_clear()

    yield set_quota
    monkeypatch.undo()
    get_settings.cache_clear()


def one_stop(slot: dict, venue: str, size: int, plate: str = "苏D 8X123") -> dict:
    body = group(slot, venue, size=size, coach_plate=plate)
    body["itinerary"] = body["itinerary"][:1]
    return body


async def register(client, agency, slot, venue, size):
    return await client.post(GROUPS, headers=agency["headers"], json=one_stop(slot, venue, size))


async def test_a_group_in_a_paid_slot_holds_its_seats_until_paid(client, make_account):
    agency = await make_account("agency")
    slot = await fresh_slot(client, PAID_VENUE)
    res = await register(client, agency, slot, PAID_VENUE, 20)
    assert res.status_code == 201, res.text
    body = res.json()
    stop = body["itinerary"][0]
    assert body["status"] == "held"
    assert stop["status"] == "pending_payment" and stop["hold_expires_at"]
    assert stop["amount_fen"] == 20 * slot["price_fen"]
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 20
    reservation = await client.get(f"/api/v1/reservations/{stop['reservation_id']}", headers=agency["headers"])
    assert reservation.json()["status"] == "pending_payment"

    # the agency pays through the ordinary checkout of the stop's reservation
    checkout = await client.post(f"/api/v1/reservations/{stop['reservation_id']}/checkout", headers=agency["headers"])
    assert checkout.status_code == 200, checkout.text
    session = checkout.json()["session_id"]
    assert stripe_standin.sessions[session]["amount_total"] == 20 * slot["price_fen"]
    assert (await deliver(client, stripe_standin.complete(session))).status_code == 200
    listed = (await client.get(GROUPS, headers=agency["headers"])).json()
    mine = next(g for g in listed if g["id"] == body["id"])
    assert mine["status"] == "confirmed" and mine["itinerary"][0]["status"] == "confirmed"
    assert "hold_expires_at" not in mine["itinerary"][0]


async def test_an_unpaid_group_hold_expires_like_a_visitors(client, make_account):
    agency = await make_account("agency")
    slot = await fresh_slot(client, PAID_VENUE)
    body = (await register(client, agency, slot, PAID_VENUE, 20)).json()
    clock.advance(timedelta(seconds=get_settings().payment_hold_s + 1))
    await reservations.sweep()  # the sweeper every replica runs: the same pass as a visitor's hold
    stop = (await client.get(GROUPS, headers=agency["headers"])).json()[0]["itinerary"][0]
    assert stop["status"] == "expired"
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]
    late = await client.post(
        f"/api/v1/reservations/{body['itinerary'][0]['reservation_id']}/checkout", headers=agency["headers"]
    )
    assert late.status_code == 409


async def test_governance_or_the_venues_staff_approve_a_hold_and_nobody_else(client, make_account):
    agency = await make_account("agency")
    slot = await fresh_slot(client, PAID_VENUE)
    body = (await register(client, agency, slot, PAID_VENUE, 10)).json()
    url = f"{GROUPS}/{body['id']}/approve"
    assert (await client.post(url, headers=agency["headers"])).status_code == 403
    assert (await client.post(url, headers=(await make_account("tourist"))["headers"])).status_code == 403
    elsewhere = await make_account("staff", venues=("changzhou-museum",))
    res = await client.post(url, headers=elsewhere["headers"])
    assert res.status_code == 404 and res.json()["code"] == "tour_group_not_found"
    staff = await make_account("staff", venues=(PAID_VENUE,))
    res = await client.post(url, headers=staff["headers"])
    assert res.status_code == 200, res.text
    assert res.json()["status"] == "confirmed" and res.json()["itinerary"][0]["status"] == "confirmed"
    again = await client.post(url, headers=(await make_account("governance"))["headers"])
    assert again.status_code == 409 and again.json()["code"] == "not_held"
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 10


async def test_an_expired_hold_cannot_be_approved(client, make_account):
    agency = await make_account("agency")
    slot = await fresh_slot(client, PAID_VENUE)
    body = (await register(client, agency, slot, PAID_VENUE, 10)).json()
    clock.advance(timedelta(seconds=get_settings().payment_hold_s + 1))  # ran out, not yet swept
    res = await client.post(f"{GROUPS}/{body['id']}/approve", headers=(await make_account("governance"))["headers"])
    assert res.status_code == 409 and res.json()["code"] == "not_held"
    await reservations.sweep()
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]


async def test_an_agency_may_take_only_its_share_of_a_slot(client, make_account, quota):
    quota(share=0.3)
    admin = await make_account("admin")
    agency = await make_account("agency")
    slot = await fresh_slot(client, FREE_VENUE, admin["headers"], capacity=100)
    res = await register(client, agency, slot, FREE_VENUE, 31)
    assert res.status_code == 409 and res.json()["code"] == "agency_quota_exceeded"
    assert res.json()["quota"] == "slot_share" and res.json()["limit"] == 30
    assert await TourGroup.count().where(TourGroup.agency_user_id == agency["id"]) == 0, "nothing is half-written"
    ok = await register(client, agency, slot, FREE_VENUE, 20)
    assert ok.status_code == 201 and ok.json()["itinerary"][0]["status"] == "confirmed"  # free: no payment
    res = await register(client, agency, slot, FREE_VENUE, 11)
    assert res.status_code == 409 and res.json()["held"] == 20
    other = await make_account("agency")
    assert (await register(client, other, slot, FREE_VENUE, 30)).status_code == 201
    assert (await slot_by_id(client, FREE_VENUE, slot["id"]))["remaining"] == 50


async def test_an_agency_may_hold_only_its_seats_a_day_free_or_paid(client, make_account, quota):
    quota(per_day=50)
    agency = await make_account("agency")
    free = await fresh_slot(client, FREE_VENUE)
    # a slot of this test's own at the paid park, on the free slot's day (one quota day for both)
    paid = await slot_at(client, PAID_VENUE, datetime.fromisoformat(free["starts_at"]), capacity=200)
    assert (await register(client, agency, paid, PAID_VENUE, 30)).status_code == 201
    res = await register(client, agency, free, FREE_VENUE, 21)
    assert res.status_code == 409 and res.json()["code"] == "agency_quota_exceeded"
    assert res.json()["quota"] == "seats_per_day" and res.json()["held"] == 30
    assert (await register(client, agency, free, FREE_VENUE, 20)).status_code == 201
    # an expired hold gives its seats back to the quota too
    clock.advance(timedelta(seconds=get_settings().payment_hold_s + 1))
    await reservations.sweep()
    assert (await register(client, agency, free, FREE_VENUE, 30)).status_code == 201


async def test_racing_registrations_of_one_agency_stay_within_its_quota(client, make_account, quota):
    quota(per_day=60, share=1.0)
    agency = await make_account("agency")
    slot = await fresh_slot(client, PAID_VENUE)
    answers = await asyncio.gather(*[register(client, agency, slot, PAID_VENUE, 10) for _ in range(12)])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 6 + [409] * 6, [r.text for r in answers if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"agency_quota_exceeded"}
    held = await Reservation.select(Reservation.party_size).where(
        (Reservation.user_id == agency["id"]) & (Reservation.status == "pending_payment")
    )
    assert sum(r["party_size"] for r in held) == 60
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 60


async def test_racing_agencies_never_pass_a_slots_capacity(client, make_account, quota):
    quota(share=0.3)
    admin = await make_account("admin")
    slot = await fresh_slot(client, PAID_VENUE, admin["headers"], capacity=40)
    agencies = [await make_account("agency") for _ in range(8)]
    answers = await asyncio.gather(*[register(client, a, slot, PAID_VENUE, 12) for a in agencies])
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 3 + [409] * 5, [r.text for r in answers]
    assert {r.json()["code"] for r in answers if r.status_code == 409} == {"slot_full"}
    row = await Slot.select(Slot.booked, Slot.capacity).where(Slot.id == slot["id"]).first()
    assert row["booked"] == 36 <= row["capacity"]
    taken = await Reservation.select(Reservation.party_size).where(
        (Reservation.slot == slot["id"]) & Reservation.status.is_in(["confirmed", "pending_payment"])
    )
    assert sum(r["party_size"] for r in taken) == row["booked"]
