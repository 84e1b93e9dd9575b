"""Events that sell tickets (issue 18, 2-3): performances with price zones and places left on the event,
seat maps with wheelchair places, the best adjacent seats of a zone, holds that lapse, and a paid
performance bought through the Stripe stand-in, shown on the pass with its seats, admitted once at the
gate and refunded once when cancelled in time: the reservation, payment, refund, pass and gate paths of
timed entry."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from backend.lib.clock import clock
from backend.payments.tables import Refund
from tests.api.reservation_helpers import resident_id, visitor
from tests.api.test_passes import code_of, scan
from tests.api.test_payments import checkout, deliver
from tests.api.ticket_helpers import THEATRE, book_hold, hold, performance, small_hall
from tests.conftest import stripe_standin

pytestmark = pytest.mark.anyio


async def seat_map(client, performance_id: int) -> dict:
    res = await client.get(f"/api/v1/performances/{performance_id}/seats")
    assert res.status_code == 200, res.text
    return res.json()


def seats_by_id(plan: dict) -> dict[int, dict]:
    return {s["id"]: s for sec in plan["sections"] for row in sec["rows"] for s in row["seats"]}


async def test_an_event_that_sells_tickets_lists_its_performances(client):
    res = await client.get("/api/v1/events/xiju-weekend-classics")
    assert res.status_code == 200
    ticketing = res.json()["ticketing"]
    first = ticketing["performances"][0]
    assert first["seat_map"] is True and first["status"] == "open"
    assert [z["zone"] for z in first["price_zones"]] == ["A", "B", "C", "D"]
    assert first["price_zones"][0]["price_fen"] == 18000 and first["remaining"] > 1000
    cruise = (await client.get("/api/v1/events/canal-night-cruise-dongpo")).json()["ticketing"]["performances"][0]
    assert cruise["seat_map"] is False and cruise["price_zones"] == [
        {"zone": "standard", "price_fen": 9800, "remaining": 60}
    ]
    assert "ticketing" not in (await client.get("/api/v1/events/new-year-walk-civic-square")).json()


async def test_seat_map_best_adjacent_seats_and_seat_taken(client, make_account):
    me, other = await make_account("tourist"), await make_account("tourist")
    pid = await performance()
    plan = await seat_map(client, pid)
    assert [s["id"] for s in plan["sections"]] == ["stalls", "circle", "balcony"]
    assert plan["sections"][0]["name"] == "一楼池座" and plan["stage"] == "top"
    seats = seats_by_id(plan)
    assert sum(s["accessible"] for s in seats.values()) == 4
    assert sum(s["status"] == "blocked" for s in seats.values()) == 4, "the sound desk"
    res = await hold(client, me, pid, count=2, zone="A")
    assert res.status_code == 201, res.text
    held = res.json()
    assert [(s["row"], s["zone"]) for s in held["seats"]] == [(1, "A"), (1, "A")], "the front row first"
    a, b = held["seats"]
    assert b["number"] == a["number"] + 1 and abs(seats[a["id"]]["x"] + seats[b["id"]]["x"]) <= 1, "centred"
    assert held["full_price_fen"] == 36000 and a["label"] == f"一楼池座 1排{a['number']}座"
    after = seats_by_id(await seat_map(client, pid))
    assert after[a["id"]]["status"] == after[b["id"]]["status"] == "held"
    taken = await hold(client, other, pid, seat_ids=[b["id"], b["id"] + 1])
    assert taken.status_code == 409 and taken.json()["code"] == "seat_taken"
    nxt = (await hold(client, other, pid, count=2, zone="A")).json()["seats"]
    assert {s["id"] for s in nxt}.isdisjoint({a["id"], b["id"]})
    wheel = await hold(client, other, pid, count=2, zone="C", accessible=True)
    assert wheel.status_code == 201 and any(s["accessible"] for s in wheel.json()["seats"])
    assert (await hold(client, me, pid, count=2, zone="Z")).json()["code"] == "zone_unknown"
    assert (await hold(client, me, pid, count=2)).json()["code"] == "hold_ambiguous"
    assert (await hold(client, me, pid, seat_ids=[999999999])).json()["code"] == "seat_unknown"
    blocked = next(s for s in seats.values() if s["status"] == "blocked")
    assert (await hold(client, me, pid, seat_ids=[blocked["id"]])).json()["code"] == "seat_taken"


async def test_a_hold_lapses_and_the_seats_go_to_someone_else(client, make_account):
    me, other = await make_account("tourist"), await make_account("tourist")
    pid = await performance(hall=await small_hall(rows=1, seats=4), zones={"A": 10000})
    mine = (await hold(client, me, pid, count=2, zone="A")).json()
    ids = [s["id"] for s in mine["seats"]]
    clock.set(datetime.fromisoformat(mine["expires_at"]) + timedelta(seconds=1))
    res = await hold(client, other, pid, seat_ids=ids)
    assert res.status_code == 201, "the lapsed hold's seats are free again"
    late = await book_hold(client, me, pid, mine["hold_id"], n=2)
    assert late.status_code == 409 and late.json()["code"] == "hold_expired"
    given_back = await client.delete(
        f"/api/v1/performances/{pid}/holds/{res.json()['hold_id']}", headers=other["headers"]
    )
    assert given_back.status_code == 204
    assert all(s["status"] == "free" for s in seats_by_id(await seat_map(client, pid)).values())


async def test_booking_a_performance_needs_its_hold_and_one_visitor_per_seat(client, make_account):
    me = await make_account("tourist")
    pid = await performance(hall=await small_hall(rows=1, seats=6), zones={"A": 10000})
    held = (await hold(client, me, pid, count=2, zone="A")).json()
    res = await client.post(
        "/api/v1/reservations", headers=me["headers"], json={"performance_id": pid, "visitors": [visitor()]}
    )
    assert res.status_code == 400 and res.json()["code"] == "hold_required"
    assert (await book_hold(client, me, pid, held["hold_id"], n=3)).json()["code"] == "hold_size_mismatch"
    both = await client.post(
        "/api/v1/reservations",
        headers=me["headers"],
        json={"slot_id": 1, "performance_id": pid, "hold_id": held["hold_id"], "visitors": [visitor()]},
    )
    assert both.status_code == 400 and both.json()["code"] == "target_required"
    other = await make_account("tourist")
    assert (await book_hold(client, other, pid, held["hold_id"], n=2)).json()["code"] == "hold_expired", "not theirs"
    assert (await book_hold(client, me, 999999999, "h_x", n=1)).status_code == 404


async def test_a_performance_without_a_seat_map_sells_its_zone_until_full(client, make_account):
    me, other = await make_account("tourist"), await make_account("tourist")
    pid = await performance(hall=None, zones={"standard": 9800}, capacity=3, venue="dongpo-park")
    body = {"performance_id": pid, "zone": "standard", "visitors": [visitor(), visitor()]}
    res = await client.post("/api/v1/reservations", headers=me["headers"], json=body)
    assert res.status_code == 201, res.text
    assert res.json()["amount_fen"] == 19600 and res.json()["status"] == "pending_payment"
    full = await client.post("/api/v1/reservations", headers=other["headers"], json=body)
    assert full.status_code == 409 and full.json()["code"] == "slot_full"
    detail = (await client.get(f"/api/v1/performances/{pid}")).json()
    assert detail["remaining"] == 1 and detail["price_zones"][0]["remaining"] == 1
    two = await performance(hall=None, zones={"deck": 9800, "cabin": 12800}, capacity=10, venue="dongpo-park")
    res = await client.post(
        "/api/v1/reservations", headers=other["headers"], json={"performance_id": two, "visitors": [visitor()]}
    )
    assert res.status_code == 400 and res.json()["code"] == "zone_unknown"
    assert (await client.get(f"/api/v1/performances/{pid}/seats")).json()["code"] == "seat_map_not_found"
    slots = (await client.get(f"/api/v1/venues/{THEATRE}/slots", params={"date": detail["starts_at"][:10]})).json()
    assert all(s["id"] != pid for s in slots["items"])


async def test_a_paid_performance_from_seats_to_payment_pass_gate_and_refund(client, make_account):
    me = await make_account("tourist")
    staff = await make_account("staff", venues=(THEATRE,))
    pid = await performance(zones={"A": 38000, "B": 28000, "C": 18000, "D": 8000})
    held = (await hold(client, me, pid, count=2, zone="B")).json()
    senior = {"name": "陈老伯", "id_type": "resident_id", "id_number": resident_id("19580101")}
    people = [senior, visitor("陈小明")]
    quote = await client.post(
        "/api/v1/tickets/quote",
        headers=me["headers"],
        json={
            "performance_id": pid,
            "hold_id": held["hold_id"],
            "visitors": [{k: v for k, v in p.items() if k != "name"} for p in people],
        },
    )
    assert quote.status_code == 200, quote.text
    assert [(x["ticket_type"], x["price_fen"]) for x in quote.json()["lines"]] == [("senior", 14000), ("adult", 28000)]
    booked = await book_hold(client, me, pid, held["hold_id"], people)
    assert booked.status_code == 201, booked.text
    booking = booked.json()
    assert booking["status"] == "pending_payment" and booking["amount_fen"] == quote.json()["total_fen"] == 42000
    assert [v["seat"] for v in booking["visitors"]] == [s["label"] for s in held["seats"]]
    assert {seats_by_id(await seat_map(client, pid))[s["id"]]["status"] for s in held["seats"]} == {"held"}
    session = await checkout(client, me, booking)
    assert (await deliver(client, stripe_standin.complete(session["session_id"]))).status_code == 200
    paid = (await client.get(f"/api/v1/reservations/{booking['id']}", headers=me["headers"])).json()
    assert paid["status"] == "confirmed" and paid["payment"]["status"] == "paid"
    assert {seats_by_id(await seat_map(client, pid))[s["id"]]["status"] for s in held["seats"]} == {"sold"}
    entitlement = next(
        e
        for e in (await client.get("/api/v1/pass", headers=me["headers"])).json()["entitlements"]
        if e["reservation_id"] == booking["id"]
    )
    assert [(v["name"], v["ticket_type"], v["seat"]) for v in entitlement["visitors"]] == [
        ("陈*伯", "senior", held["seats"][0]["label"]),
        ("陈*明", "adult", held["seats"][1]["label"]),
    ]
    assert entitlement["entry_early_minutes"] == 30 and entitlement["starts_at"] > entitlement["valid_from"]
    # the gate, ten minutes before the curtain: admitted once, with who and where
    clock.set(datetime.fromisoformat(entitlement["starts_at"]) - timedelta(minutes=10))
    code = await code_of(client, me)
    first = (await scan(client, staff, code, venue=THEATRE)).json()
    assert first["result"] == "ok" and first["party_size"] == 2
    assert [(v["ticket_type"], v["seat"]) for v in first["visitors"]] == [
        ("senior", held["seats"][0]["label"]),
        ("adult", held["seats"][1]["label"]),
    ]
    again = (await scan(client, staff, await code_of(client, me), venue=THEATRE)).json()
    assert again["result"] == "already_redeemed"
    clock.reset()
    # another buyer cancels before the deadline: refunded exactly once, the seat free again
    buyer = await make_account("tourist")
    one = (await hold(client, buyer, pid, count=1, zone="A")).json()
    second = (await book_hold(client, buyer, pid, one["hold_id"], n=1)).json()
    session = await checkout(client, buyer, second)
    await deliver(client, stripe_standin.complete(session["session_id"]))
    cancelled = await client.post(f"/api/v1/reservations/{second['id']}/cancel", headers=buyer["headers"])
    assert cancelled.status_code == 200 and cancelled.json()["refund"]["amount_fen"] == 38000
    again = await client.post(f"/api/v1/reservations/{second['id']}/cancel", headers=buyer["headers"])
    assert again.status_code == 409
    intent = stripe_standin.sessions[session["session_id"]]["payment_intent"]
    assert len([r for r in stripe_standin.refunds.values() if r["payment_intent"] == intent]) == 1
    assert await Refund.count().where(Refund.amount_fen == 38000) >= 1
    seat = one["seats"][0]["id"]
    assert seats_by_id(await seat_map(client, pid))[seat]["status"] == "free"
    assert (await hold(client, await make_account("tourist"), pid, seat_ids=[seat])).status_code == 201


async def test_a_performances_places_are_booked_by_performance_only(client, make_account):
    """Its slot is no timed-entry slot: not booked, quoted or moved into by slot_id, and its tickets are
    not moved elsewhere (their seats would stay behind)."""
    from backend.lib.db import write_transaction
    from backend.lib.problems import Conflict, NotFound
    from backend.reservations.moves import move_booking
    from backend.reservations.tables import Reservation
    from backend.tickets.tables import Performance
    from tests.api.reservation_helpers import fresh_slot

    me = await make_account("tourist")
    pid = await performance(hall=await small_hall(rows=1, seats=4), zones={"A": 0})
    slot_id = (await Performance.select(Performance.slot_id).where(Performance.id == pid).first())["slot_id"]
    direct = await client.post(
        "/api/v1/reservations", headers=me["headers"], json={"slot_id": slot_id, "visitors": [visitor()]}
    )
    assert direct.status_code == 404 and direct.json()["code"] == "slot_not_found"
    quoted = await client.post(
        "/api/v1/tickets/quote",
        headers=me["headers"],
        json={"slot_id": slot_id, "visitors": [{"id_type": "resident_id", "id_number": resident_id()}]},
    )
    assert quoted.status_code == 404
    held = (await hold(client, me, pid, count=1, zone="A")).json()
    booked = (await book_hold(client, me, pid, held["hold_id"], n=1)).json()
    row = await Reservation.select(Reservation.id).where(Reservation.public_id == booked["id"]).first()
    entry = await fresh_slot(client, "changzhou-museum")  # free: confirmed at once
    with pytest.raises(Conflict) as refused:
        async with write_transaction():
            await move_booking(row["id"], entry["id"])
    assert refused.value.code == "not_movable"
    timed = await client.post(
        "/api/v1/reservations", headers=me["headers"], json={"slot_id": entry["id"], "visitors": [visitor()]}
    )
    timed_row = await Reservation.select(Reservation.id).where(Reservation.public_id == timed.json()["id"]).first()
    with pytest.raises(NotFound):
        async with write_transaction():
            await move_booking(timed_row["id"], slot_id)
