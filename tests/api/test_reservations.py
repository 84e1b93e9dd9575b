"""Timed-entry reservations: slots, real-name booking, capacity under concurrency, holds, waitlist,
cancellation, staff control, idempotency and personal data."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import datetime, timedelta

import pytest

from backend.lib.clock import clock
from backend.lib.personal_data import vault
from backend.reservations.tables import Reservation, Slot, Visitor
from tests.api.reservation_helpers import fresh_slot, resident_id, slot_by_id, visitor

pytestmark = pytest.mark.anyio

FREE_VENUE = "changzhou-museum"  # free, booked in advance, Tu-Su 09:00-17:00
PAID_VENUE = "china-dinosaur-park"  # ¥260, booked in advance


@pytest.fixture
async def admin(make_account):
    return await make_account("admin")


async def book(client, headers, slot_id, visitors, **extra):
    return await client.post(
        "/api/v1/reservations", json={"slot_id": slot_id, "visitors": visitors, **extra}, headers=headers
    )


async def test_slots_follow_opening_hours_and_rules(client):
    venue_slug = "hua-luogeng-memorial"  # Tu-Su 08:30-16:30, Mondays off; no other test touches its slots
    today = clock.city_today()
    days = [today + timedelta(days=d) for d in range(1, 8)]
    monday = next(d for d in days if d.weekday() == 0)
    tuesday = next(d for d in days if d.weekday() == 1)
    closed = (await client.get(f"/api/v1/venues/{venue_slug}/slots", params={"date": monday.isoformat()})).json()
    assert closed["items"] == [], "closed on Mondays"
    items = (await client.get(f"/api/v1/venues/{venue_slug}/slots", params={"date": tuesday.isoformat()})).json()[
        "items"
    ]
    assert len(items) == 8  # 08:30 … 15:30, one hour each
    assert items[0]["starts_at"].endswith("08:30:00+08:00") and items[-1]["ends_at"].endswith("16:30:00+08:00")
    venue = (await client.get(f"/api/v1/venues/{venue_slug}")).json()
    assert all(s["capacity"] == min(venue["capacity"], venue["daily_capacity"] // 8) for s in items)
    assert all(s["price_fen"] == 0 and s["currency"] == "CNY" and s["status"] == "open" for s in items)
    park = (await client.get("/api/v1/venues/hongmei-park/slots", params={"date": tuesday.isoformat()})).json()
    assert park["reservation_required"] is False and park["items"] == []


@pytest.mark.parametrize(
    ("day", "code"),
    [
        ("2020-01-01", "date_out_of_range"),
        ("tomorrow", "validation_error"),
        ((clock.city_today() + timedelta(days=60)).isoformat(), "date_out_of_range"),
    ],
)
async def test_bad_slot_dates_are_400(client, day, code):
    res = await client.get(f"/api/v1/venues/{FREE_VENUE}/slots", params={"date": day})
    assert res.status_code == 400 and res.json()["code"] == code


async def test_book_free_slot_confirms_at_once_and_masks_personal_data(client, make_account):
    me, other = await make_account("tourist"), await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    people = [visitor("王小明"), {"name": "John Smith", "id_type": "passport", "id_number": "E12345678"}]
    res = await book(client, me["headers"], slot["id"], people)
    assert res.status_code == 201, res.text
    body = res.json()
    assert body["status"] == "confirmed" and body["party_size"] == 2 and body["amount_fen"] == 0
    assert body["venue_slug"] == FREE_VENUE and body["slot"]["id"] == slot["id"]
    assert body["visitors"][0] == {
        "name": "王*明",
        "id_type": "resident_id",
        "id_number_masked": people[0]["id_number"][:3] + "*" * 11 + people[0]["id_number"][-4:],
        "ticket_type": "adult",  # issue 18: each visitor's ticket type and price
        "price_fen": 0,
    }
    assert body["visitors"][1]["name"] == "J. S." and body["visitors"][1]["id_number_masked"] == "E*****678"
    assert people[0]["id_number"] not in res.text and "19900307" not in res.text
    assert (await slot_by_id(client, FREE_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 2

    mine = (await client.get("/api/v1/reservations", headers=me["headers"])).json()
    assert [r["id"] for r in mine["items"]] == [body["id"]] and mine["total"] == 1
    assert (await client.get(f"/api/v1/reservations/{body['id']}", headers=me["headers"])).json() == body
    theirs = await client.get(f"/api/v1/reservations/{body['id']}", headers=other["headers"])
    assert theirs.status_code == 404 and theirs.json()["code"] == "reservation_not_found"
    assert (await client.post(f"/api/v1/reservations/{body['id']}/cancel", headers=other["headers"])).status_code == 404
    assert (await client.get(f"/api/v1/reservations/{body['id']}")).status_code == 401


@pytest.mark.parametrize(
    ("person", "code"),
    [
        ({"name": "李四", "id_type": "resident_id", "id_number": "320402199003070011"}, "invalid_id_number"),
        ({"name": "李四", "id_type": "resident_id", "id_number": "32040219901332001X"}, "invalid_id_number"),
        ({"name": "李四", "id_type": "resident_id", "id_number": "12345"}, "invalid_id_number"),
        ({"name": "Li", "id_type": "passport", "id_number": "E1!"}, "invalid_id_number"),
        ({"name": "Chan", "id_type": "hk_macau_permit", "id_number": "X1234567"}, "invalid_id_number"),
        ({"name": "Lin", "id_type": "taiwan_permit", "id_number": "ABC"}, "invalid_id_number"),
        ({"name": "李四", "id_type": "driving_licence", "id_number": "1"}, "validation_error"),
        ({"name": "", "id_type": "passport", "id_number": "E12345678"}, "validation_error"),
    ],
)
async def test_bad_identity_documents_are_400(client, make_account, person, code):
    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    res = await book(client, me["headers"], slot["id"], [person])
    assert res.status_code == 400, res.text
    assert res.json()["code"] == code
    assert (await slot_by_id(client, FREE_VENUE, slot["id"]))["remaining"] == slot["remaining"], "nothing changed"


async def test_bad_checksum_is_named(client, make_account):
    me = await make_account("tourist")
    good = resident_id()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    res = await book(client, me["headers"], 1, [{"name": "赵六", "id_type": "resident_id", "id_number": bad}])
    assert res.status_code == 400 and res.json()["code"] == "invalid_id_number"
    assert res.json()["errors"][0]["field"] == "visitors[0].id_number"


async def test_same_visitor_twice_at_a_venue_and_day_is_409(client, make_account):
    a, b = await make_account("tourist"), await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    person = visitor("钱七")
    assert (await book(client, a["headers"], slot["id"], [person])).status_code == 201
    # another account, another slot the same day: still the same person
    day = slot["starts_at"][:10]
    other = next(
        s
        for s in (await client.get(f"/api/v1/venues/{FREE_VENUE}/slots", params={"date": day})).json()["items"]
        if s["id"] != slot["id"] and s["status"] == "open"
    )
    again = await book(
        client, b["headers"], other["id"], [visitor("孙八"), dict(person, id_number=person["id_number"].lower())]
    )
    assert again.status_code == 409 and again.json()["code"] == "duplicate_visitor"
    assert (await slot_by_id(client, FREE_VENUE, other["id"]))["remaining"] == other["remaining"], "seats untouched"
    twice = await book(client, b["headers"], other["id"], [person, person])
    assert twice.status_code == 409 and twice.json()["code"] == "duplicate_visitor"


async def test_party_size_is_limited(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    res = await book(client, me["headers"], slot["id"], [visitor() for _ in range(6)])
    assert res.status_code == 400 and res.json()["code"] == "party_too_large"


async def test_120_concurrent_bookings_never_oversell_20_seats(client, make_account, admin):
    slot = await fresh_slot(client, FREE_VENUE, admin["headers"], capacity=20)
    tourists = [await make_account("tourist") for _ in range(40)]
    attempts = [book(client, t["headers"], slot["id"], [visitor(f"游客{i}")]) for i in range(3) for t in tourists]
    results = await asyncio.gather(*attempts)
    statuses = [r.status_code for r in results]
    assert all(s < 500 for s in statuses), statuses
    ok = [r for r in results if r.status_code == 201]
    refused = [r for r in results if r.status_code != 201]
    assert len(ok) == 20
    assert {r.status_code for r in refused} == {409}
    assert {r.json()["code"] for r in refused} <= {"slot_full", "booking_limit"}
    after = await slot_by_id(client, FREE_VENUE, slot["id"])
    assert after["remaining"] == 0 and after["status"] == "full"
    held = await Reservation.select(Reservation.party_size).where(
        (Reservation.slot == slot["id"]) & (Reservation.status == "confirmed")
    )
    assert sum(r["party_size"] for r in held) == 20
    assert (await Slot.select(Slot.booked).where(Slot.id == slot["id"]).first())["booked"] == 20


async def test_booking_limit_per_tourist(client, make_account):
    me = await make_account("tourist")
    slots = [
        await fresh_slot(client, v)
        for v in (
            "changzhou-museum",
            "wujin-museum",
            "liyang-museum",
            "qu-qiubai-memorial",
            "changzhou-art-museum",
            "tianning-chan-temple",
        )
    ]
    codes = [(await book(client, me["headers"], s["id"], [visitor()])).status_code for s in slots]
    assert codes[:5] == [201] * 5
    sixth = await book(client, me["headers"], slots[5]["id"], [visitor()])
    assert sixth.status_code == 409 and sixth.json()["code"] == "booking_limit"


async def test_idempotency_key_replays_the_first_answer(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    key = {"Idempotency-Key": uuid.uuid4().hex, **me["headers"]}
    people = [visitor("周九")]
    replies = await asyncio.gather(*[book(client, key, slot["id"], people) for _ in range(8)])
    assert {r.status_code for r in replies} == {201}
    assert len({r.json()["id"] for r in replies}) == 1
    assert (await slot_by_id(client, FREE_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 1
    mine = (await client.get("/api/v1/reservations", headers=me["headers"])).json()
    assert mine["total"] == 1
    reused = await book(client, key, slot["id"], [visitor("吴十")])
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused"


async def test_unpaid_hold_frees_its_seats_by_itself(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID_VENUE)
    res = await book(client, me["headers"], slot["id"], [visitor(), visitor()])
    assert res.status_code == 201
    body = res.json()
    assert body["status"] == "pending_payment" and body["amount_fen"] == 2 * slot["price_fen"] > 0
    assert body["hold_expires_at"]
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 2
    # the hold runs out (the clock moves past it rather than us waiting 15 minutes); nobody calls anything
    clock.set(datetime.fromisoformat(body["hold_expires_at"]) + timedelta(seconds=1))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]:
            break
        await asyncio.sleep(0.2)
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]
    after = (await client.get(f"/api/v1/reservations/{body['id']}", headers=me["headers"])).json()
    assert after["status"] == "expired"
    kinds = [n["kind"] for n in (await client.get("/api/v1/me/notifications", headers=me["headers"])).json()]
    assert "hold_expired" in kinds


async def test_waitlist_is_promoted_within_seconds_of_a_cancellation(client, make_account, admin):
    first, second, third = await make_account("tourist"), await make_account("tourist"), await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE, admin["headers"], capacity=1)
    a = await book(client, first["headers"], slot["id"], [visitor()])
    assert a.status_code == 201
    full = await book(client, second["headers"], slot["id"], [visitor()])
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    b = await book(client, second["headers"], slot["id"], [visitor()], waitlist=True)
    c = await book(client, third["headers"], slot["id"], [visitor()], waitlist=True)
    assert b.json()["status"] == "waitlisted" and b.json()["waitlist_position"] == 1
    assert c.json()["waitlist_position"] == 2
    cancelled = await client.post(f"/api/v1/reservations/{a.json()['id']}/cancel", headers=first["headers"])
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    deadline = time.monotonic() + 5
    status = None
    while time.monotonic() < deadline:
        status = (await client.get(f"/api/v1/reservations/{b.json()['id']}", headers=second["headers"])).json()[
            "status"
        ]
        if status == "confirmed":
            break
        await asyncio.sleep(0.1)
    assert status == "confirmed"
    assert (await client.get(f"/api/v1/reservations/{c.json()['id']}", headers=third["headers"])).json()[
        "waitlist_position"
    ] == 1
    notes = (await client.get("/api/v1/me/notifications", headers=second["headers"])).json()
    assert notes[0]["kind"] == "waitlist_promoted" and notes[0]["reservation_id"] == b.json()["id"]
    again = await client.post(f"/api/v1/reservations/{a.json()['id']}/cancel", headers=first["headers"])
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"


async def test_cancel_closes_at_the_cut_off(client, make_account):
    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    res = await book(client, me["headers"], slot["id"], [visitor()])
    # ten minutes before the slot: the museum's cut-off is 30 minutes
    clock.set(datetime.fromisoformat(slot["starts_at"]) - timedelta(minutes=10))
    late = await client.post(f"/api/v1/reservations/{res.json()['id']}/cancel", headers=me["headers"])
    assert late.status_code == 409 and late.json()["code"] == "cancel_too_late"
    assert (await client.get(f"/api/v1/reservations/{res.json()['id']}", headers=me["headers"])).json()[
        "status"
    ] == "confirmed"


async def test_staff_manage_capacity_only_at_their_venue(client, make_account):
    staff = await make_account("staff", venues=(FREE_VENUE,))
    elsewhere = await make_account("staff", venues=("wujin-museum",))
    tourist = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    url = f"/api/v1/venues/{FREE_VENUE}/slots/{slot['id']}"
    assert (await client.patch(url, json={"capacity": 5})).status_code == 401
    assert (await client.patch(url, json={"capacity": 5}, headers=tourist["headers"])).status_code == 403
    res = await client.patch(url, json={"capacity": 5}, headers=elsewhere["headers"])
    assert res.status_code == 403 and res.json()["code"] == "forbidden_venue"
    for _ in range(3):
        await book(client, (await make_account("tourist"))["headers"], slot["id"], [visitor()])
    below = await client.patch(url, json={"capacity": 2}, headers=staff["headers"])
    assert below.status_code == 409 and below.json()["code"] == "capacity_below_booked"
    ok = await client.patch(url, json={"capacity": 3}, headers=staff["headers"])
    assert ok.status_code == 200 and ok.json()["capacity"] == 3 and ok.json()["status"] == "full"
    assert (await client.patch(url, json={"capacity": -1}, headers=staff["headers"])).status_code == 400
    wrong = await client.patch(
        f"/api/v1/venues/wujin-museum/slots/{slot['id']}", json={"capacity": 9}, headers=elsewhere["headers"]
    )
    assert wrong.status_code == 404


async def test_closing_a_slot_cancels_and_notifies_its_holders(client, make_account):
    staff = await make_account("staff", venues=(FREE_VENUE,))
    holder = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    res = await book(client, holder["headers"], slot["id"], [visitor(), visitor()])
    closed = await client.patch(
        f"/api/v1/venues/{FREE_VENUE}/slots/{slot['id']}", json={"status": "closed"}, headers=staff["headers"]
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    after = (await client.get(f"/api/v1/reservations/{res.json()['id']}", headers=holder["headers"])).json()
    assert after["status"] == "cancelled" and after["cancel_reason"] == "slot_closed"
    notes = (await client.get("/api/v1/me/notifications", headers=holder["headers"])).json()
    assert {n["kind"] for n in notes[:2]} == {"slot_closed", "rebooking_offer"}  # and an offer (issue 19)
    refused = await book(client, holder["headers"], slot["id"], [visitor()])
    assert refused.status_code == 409 and refused.json()["code"] == "venue_closed"
    assert (await Slot.select(Slot.booked).where(Slot.id == slot["id"]).first())["booked"] == 0


async def test_unknown_slot_and_reservation(client, make_account):
    me = await make_account("tourist")
    res = await book(client, me["headers"], 99_999_999, [visitor()])
    assert res.status_code == 404 and res.json()["code"] == "slot_not_found"
    assert (await client.get("/api/v1/reservations/not-a-uuid", headers=me["headers"])).status_code == 404


async def test_the_booking_limit_counts_through_the_active_bookings_index(client, make_account):
    """Issue 22: the limit's count read every booking an account ever made (only `user_id` was indexed).
    It now goes through a partial index of active bookings by account and date, on both engines."""
    from backend.lib.db import engine, is_sqlite
    from backend.reservations.booking import ACTIVE_BOOKINGS_SQL

    me = await make_account("tourist")
    slot = await fresh_slot(client, FREE_VENUE)
    assert (await book(client, me["headers"], slot["id"], [visitor()])).status_code == 201
    explain = "EXPLAIN QUERY PLAN " if is_sqlite() else "EXPLAIN "
    async with engine().transaction():
        if not is_sqlite():  # a test database is small: tell the planner to prefer any index it has
            await Reservation.raw("SET LOCAL enable_seqscan = off")
        plan = await Reservation.raw(explain + ACTIVE_BOOKINGS_SQL, me["id"], clock.city_today())
    assert "reservations_active_by_user" in str(plan), plan


async def test_a_bookings_rows_read_back_as_the_model_describes_them(client, make_account):
    """The booking's rows are written by statements of our own (`booking.INSERT_RESERVATION_SQL`, one
    multi-row visitors insert): read back through Piccolo on both databases, every column holds what the
    model says, and the model's own filters and orderings find them."""
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID_VENUE)
    res = await book(client, me["headers"], slot["id"], [visitor("王小明"), visitor("李四")])
    assert res.status_code == 201, res.text
    body = res.json()
    row = await Reservation.select().where(Reservation.public_id == uuid.UUID(body["id"])).first()
    assert row is not None
    assert (row["status"], row["party_size"], row["amount_fen"], row["venue_slug"]) == (
        "pending_payment",
        2,
        body["amount_fen"],
        PAID_VENUE,
    )
    assert (row["entries"], row["inside"], row["cancelled_at"], row["cancel_reason"], row["first_entry_at"]) == (
        0,
        False,
        None,
        None,
        None,
    )
    assert row["contact_phone_enc"] is None and row["contact_phone_masked"] is None
    assert row["created_at"].tzinfo is not None and abs(row["created_at"] - clock.now()) < timedelta(minutes=1)
    assert row["hold_expires_at"] > row["created_at"]
    assert row["visit_date"].isoformat() == slot["starts_at"][:10]
    # the model's filters and orderings see the row as it sees its own
    found = await Reservation.select(Reservation.id).where(
        (Reservation.inside == False)  # noqa: E712 - Piccolo's column comparison
        & (Reservation.created_at <= clock.now() + timedelta(seconds=1))
        & (Reservation.hold_expires_at > clock.now())
        & (Reservation.entries == 0)
        & (Reservation.id == row["id"])
    )
    assert found == [{"id": row["id"]}]
    people = await Visitor.select().where(Visitor.reservation == row["id"]).order_by(Visitor.position)
    assert [(p["position"], p["name_masked"], p["id_type"], p["ticket_type"]) for p in people] == [
        (0, "王*明", "resident_id", "adult"),
        (1, "李*", "resident_id", "adult"),
    ]
    assert [p["price_fen"] for p in people] == [v["price_fen"] for v in body["visitors"]]
    assert all(p["seat_id"] is None and p["seat_label"] is None and p["check_at_gate"] is None for p in people)
    assert vault().decrypt(people[0]["name_enc"], "visitor.name") == "王小明"
