"""Rebooking on disruption (issue 19): a directive, a CAP warning or a closed slot gives each holder exactly one
offer (move, alternative venue, refund); accepting is exactly once, never oversells, and refunds once."""

from __future__ import annotations

from datetime import datetime, timedelta

import anyio
import pytest

from backend.forecast.rebooking import OFFER_HOURS, rebooking
from backend.forecast.tables import RebookingOffer
from backend.lib.clock import CITY_TZ, clock
from backend.reservations.tables import Reservation, Slot
from tests.api.gov_helpers import cap_alert, directive, post_alert
from tests.api.reservation_helpers import visitor
from tests.api.test_payments import checkout, deliver, status_of
from tests.conftest import stripe_standin

pytestmark = pytest.mark.anyio

CLOSED_VENUE = "changzhou-planning-exhibition-hall"  # free, 375 seats a slot, Tu–Su; no other test books it
WARNED_VENUE = "new-fourth-army-jiangnan-hq-memorial"
PAID_VENUE = "tianmu-lake-shanshui-park"  # a scenic area in Liyang: paid


async def _day_slots(client, venue: str, days_ahead: int) -> tuple[str, list[dict]]:
    day = clock.city_today() + timedelta(days=days_ahead)
    while day.weekday() == 0:  # memorial halls close on Mondays
        day += timedelta(days=1)
    res = await client.get(f"/api/v1/venues/{venue}/slots", params={"date": day.isoformat()})
    assert res.status_code == 200, res.text
    return day.isoformat(), [s for s in res.json()["items"] if s["status"] == "open"]


async def _book(client, account: dict, slot_id: int, party: int = 1) -> dict:
    res = await client.post(
        "/api/v1/reservations",
        headers=account["headers"],
        json={"slot_id": slot_id, "visitors": [visitor() for _ in range(party)]},
    )
    assert res.status_code == 201, res.text
    return res.json()


async def _offers(client, account: dict) -> list[dict]:
    res = await client.get("/api/v1/me/offers", headers=account["headers"])
    assert res.status_code == 200, res.text
    return res.json()


async def _accept(client, account: dict, offer_id: str, choice: dict):
    return await client.post(
        f"/api/v1/me/offers/{offer_id}/accept", headers=account["headers"], json={"choice": choice}
    )


async def _reconciles(slot_ids: list[int]) -> None:
    """Every slot's `booked` is the sum of the parties holding seats in it."""
    for slot_id in slot_ids:
        slot = await Slot.select(Slot.booked).where(Slot.id == slot_id).first()
        holding = await Reservation.select(Reservation.party_size).where(
            (Reservation.slot == slot_id) & Reservation.status.is_in(["confirmed", "pending_payment"])
        )
        assert slot["booked"] == sum(r["party_size"] for r in holding), slot_id


async def test_a_close_directive_over_30_bookings_makes_30_offers_and_concurrent_moves_never_oversell(
    client, make_account
):
    day, slots = await _day_slots(client, CLOSED_VENUE, 3)
    closed = slots[0]
    holders = []
    for _ in range(30):
        me = await make_account("tourist")
        holders.append((me, await _book(client, me, closed["id"])))
    start = datetime.fromisoformat(closed["starts_at"])
    end = datetime.fromisoformat(closed["ends_at"])
    res = await directive(
        client, type="close", venue_slug=CLOSED_VENUE, valid_from=start.isoformat(), valid_until=end.isoformat()
    )
    assert res.status_code == 200, res.text
    assert res.json()["reservations_cancelled"] == 30

    offers = []
    for me, booking in holders:
        mine = await _offers(client, me)
        assert len(mine) == 1, mine
        offer = mine[0]
        assert offer["reservation_id"] == booking["id"] and offer["reason"] == "directive_close"
        assert offer["status"] == "open" and datetime.fromisoformat(offer["expires_at"]) > clock.now()
        kinds = [c["kind"] for c in offer["choices"]]
        assert kinds[-1] == "refund" and "move" in kinds
        for c in offer["choices"]:
            if c["kind"] == "move":
                assert c["venue_slug"] == CLOSED_VENUE and c["slot_id"] != closed["id"]
                assert datetime.fromisoformat(c["starts_at"]) >= end, "no move into the directive's window"
            if c["kind"] == "alternative":
                assert c["venue_slug"] != CLOSED_VENUE and c["distance_m"] > 0
        assert (await client.get(f"/api/v1/reservations/{booking['id']}", headers=me["headers"])).json()[
            "status"
        ] == "cancelled"
        offers.append(offer)
    ids = [
        r["id"]
        for r in await Reservation.select(Reservation.id).where(
            Reservation.public_id.is_in([b["id"] for _, b in holders])
        )
    ]
    assert await RebookingOffer.count().where(RebookingOffer.reservation.is_in(ids)) == 30
    notes = (await client.get("/api/v1/me/notifications", headers=holders[0][0]["headers"])).json()
    assert {"slot_closed", "rebooking_offer"} <= {n["kind"] for n in notes}

    # the same directive again, and another closing the same window, make no second offer
    again = await directive(
        client, type="close", venue_slug=CLOSED_VENUE, valid_from=start.isoformat(), valid_until=end.isoformat()
    )
    assert again.status_code == 200
    assert await RebookingOffer.count().where(RebookingOffer.reservation.is_in(ids)) == 30

    # all 30 take the same move at once; the target offers 20 seats
    target = next(c for c in offers[0]["choices"] if c["kind"] == "move")
    staff = await make_account("staff", venues=(CLOSED_VENUE,))
    patched = await client.patch(
        f"/api/v1/venues/{CLOSED_VENUE}/slots/{target['slot_id']}", json={"capacity": 20}, headers=staff["headers"]
    )
    assert patched.status_code == 200, patched.text
    results: list = [None] * 30

    async def take(i: int) -> None:
        me, _ = holders[i]
        results[i] = await _accept(client, me, offers[i]["id"], {"kind": "move", "slot_id": target["slot_id"]})

    async with anyio.create_task_group() as tg:
        for i in range(30):
            tg.start_soon(take, i)
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) == 20 and codes.count(409) == 10, codes
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"slot_full"}
    for r in results:
        if r.status_code == 200:
            body = r.json()
            assert body["offer"]["status"] == "accepted" and body["reservation_status"] == "confirmed"
            assert body["slot_id"] == target["slot_id"]
    assert (await Slot.select(Slot.booked).where(Slot.id == target["slot_id"]).first())["booked"] == 20

    # the ten who found it full still hold their offer: they take the refund (a free visit: nothing to pay back)
    for i, r in enumerate(results):
        if r.status_code == 409:
            me, booking = holders[i]
            mine = await _offers(client, me)
            assert mine[0]["status"] == "open"
            res = await _accept(client, me, offers[i]["id"], {"kind": "refund"})
            assert res.status_code == 200, res.text
            assert res.json()["reservation_status"] == "cancelled"
            assert (await _accept(client, me, offers[i]["id"], {"kind": "refund"})).json()["code"] == "offer_closed"
    moved = [
        (await client.get(f"/api/v1/reservations/{b['id']}", headers=me["headers"])).json()
        for (me, b), r in zip(holders, results, strict=True)
        if r.status_code == 200
    ]
    assert all(m["status"] == "confirmed" and m["slot"]["id"] == target["slot_id"] for m in moved)
    await _reconciles([s["id"] for s in slots])


async def test_one_offer_is_taken_once_however_many_accept_it_at_once(client, make_account):
    staff = await make_account("staff", venues=(CLOSED_VENUE,))
    me = await make_account("tourist")
    _, slots = await _day_slots(client, CLOSED_VENUE, 4)
    booking = await _book(client, me, slots[-1]["id"], party=2)
    res = await client.patch(
        f"/api/v1/venues/{CLOSED_VENUE}/slots/{slots[-1]['id']}", json={"status": "closed"}, headers=staff["headers"]
    )
    assert res.status_code == 200
    [offer] = await _offers(client, me)
    assert offer["reason"] == "slot_closed" and offer["reservation_id"] == booking["id"]
    moves = [c for c in offer["choices"] if c["kind"] == "move"]
    assert len(moves) >= 2
    results: list = []

    async def take(choice: dict) -> None:
        results.append(await _accept(client, me, offer["id"], {"kind": "move", "slot_id": choice["slot_id"]}))

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(take, moves[i % 2])
    assert sorted(r.status_code for r in results) == [200] + [409] * 7
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"offer_closed"}
    won = next(r.json() for r in results if r.status_code == 200)
    view = (await client.get(f"/api/v1/reservations/{booking['id']}", headers=me["headers"])).json()
    assert view["status"] == "confirmed" and view["slot"]["id"] == won["slot_id"] and view["party_size"] == 2
    await _reconciles([s["id"] for s in slots])
    # a choice the offer didn't make, another person's offer, no offer at all
    other = await make_account("tourist")
    assert (await _accept(client, other, offer["id"], {"kind": "refund"})).status_code == 404
    assert (await _accept(client, me, "nope", {"kind": "refund"})).status_code == 404


async def test_a_choice_not_offered_is_refused(client, make_account):
    staff = await make_account("staff", venues=(CLOSED_VENUE,))
    me = await make_account("tourist")
    _, slots = await _day_slots(client, CLOSED_VENUE, 5)
    await _book(client, me, slots[2]["id"])
    await client.patch(
        f"/api/v1/venues/{CLOSED_VENUE}/slots/{slots[2]['id']}", json={"status": "closed"}, headers=staff["headers"]
    )
    [offer] = await _offers(client, me)
    res = await _accept(client, me, offer["id"], {"kind": "move", "slot_id": slots[2]["id"]})
    assert res.status_code == 400 and res.json()["code"] == "offer_choice_invalid"
    res = await _accept(client, me, offer["id"], {"kind": "move"})
    assert res.status_code == 400 and res.json()["code"] == "offer_choice_invalid"


async def _paid_booking(client, make_account, slot_id: int) -> tuple[dict, dict, str]:
    me = await make_account("tourist")
    booking = await _book(client, me, slot_id)
    session = await checkout(client, me, booking)
    assert (await deliver(client, stripe_standin.complete(session["session_id"]))).status_code == 200
    assert (await status_of(client, me, booking))["status"] == "confirmed"
    return me, booking, str(stripe_standin.sessions[session["session_id"]]["payment_intent"])


def _refunds_made(intent: str) -> list[dict]:
    return [r for r in stripe_standin.refunds.values() if r["payment_intent"] == intent]


async def test_a_refund_choice_refunds_exactly_once_and_a_lapsed_offer_refunds_too(client, make_account):
    staff = await make_account("staff", venues=(PAID_VENUE,))
    _, slots = await _day_slots(client, PAID_VENUE, 2)
    closing = slots[1]
    me, booking, intent = await _paid_booking(client, make_account, closing["id"])
    late, late_booking, late_intent = await _paid_booking(client, make_account, closing["id"])
    res = await client.patch(
        f"/api/v1/venues/{PAID_VENUE}/slots/{closing['id']}", json={"status": "closed"}, headers=staff["headers"]
    )
    assert res.status_code == 200
    assert _refunds_made(intent) == [] and _refunds_made(late_intent) == [], "the offer holds the refund"
    [offer] = await _offers(client, me)
    results: list = []

    async def take() -> None:
        results.append(await _accept(client, me, offer["id"], {"kind": "refund"}))

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(take)
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]
    body = next(r.json() for r in results if r.status_code == 200)
    assert body["refund"]["amount_fen"] == booking["amount_fen"]
    assert len(_refunds_made(intent)) == 1
    view = await status_of(client, me, booking)
    assert view["status"] == "cancelled" and view["payment"]["status"] == "refunded"

    # the other holder chooses nothing: when the offer lapses, the sweep refunds, once however often it runs
    clock.advance(timedelta(hours=OFFER_HOURS, minutes=1))
    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(rebooking.sweep)
    assert len(_refunds_made(late_intent)) == 1
    [lapsed] = await _offers(client, late)
    assert lapsed["status"] == "expired"
    assert (await _accept(client, late, lapsed["id"], {"kind": "refund"})).json()["code"] == "offer_closed"
    assert (await status_of(client, late, late_booking))["payment"]["status"] == "refunded"


async def test_a_weather_warning_offers_each_holder_a_move_or_an_indoor_alternative_and_a_swap_is_atomic(
    client, make_account
):
    """A CAP weather warning over the venue: the booking stays valid; the holder may move (seats taken in the
    new slot before they are given back in the old) or get an indoor alternative."""
    clock.set(datetime.combine(clock.city_today() + timedelta(days=1), datetime.min.time(), CITY_TZ).replace(hour=7))
    while clock.city_now().weekday() == 0:
        clock.advance(timedelta(days=1))
    me = await make_account("tourist")
    _, slots = await _day_slots(client, WARNED_VENUE, 0)
    slot = slots[len(slots) // 2]
    booking = await _book(client, me, slot["id"], party=2)
    expires = datetime.fromisoformat(slot["ends_at"]) + timedelta(minutes=1)
    venue = next(
        v
        for v in (await client.get("/api/v1/venues", params={"limit": 100})).json()["items"]
        if v["slug"] == WARNED_VENUE
    )
    lat, lng = venue["location"]["lat"], venue["location"]["lng"]
    area = f"<circle>{lat},{lng} 2</circle>"
    res = await post_alert(client, cap_alert(area=area, expires=expires.isoformat()))
    assert res.status_code == 200, res.text
    [offer] = await _offers(client, me)
    assert offer["reason"] == "warning" and offer["detail"]
    assert (await status_of(client, me, booking))["status"] == "confirmed", "a warning leaves the booking valid"
    alternatives = [c for c in offer["choices"] if c["kind"] == "alternative"]
    indoor = {"museum", "library", "art_gallery", "cultural_center", "theatre", "memorial_hall", "intangible_heritage"}
    for alt in alternatives:
        category = next(
            v["category"]
            for v in (await client.get("/api/v1/venues", params={"limit": 100})).json()["items"]
            if v["slug"] == alt["venue_slug"]
        )
        assert category in indoor
    moves = [c for c in offer["choices"] if c["kind"] == "move"]
    assert moves and all(datetime.fromisoformat(c["starts_at"]) >= expires for c in moves)
    # the same warning again makes no second offer
    assert (await post_alert(client, cap_alert(area=area, expires=expires.isoformat()))).status_code == 200
    assert len(await _offers(client, me)) == 1
    res = await _accept(client, me, offer["id"], {"kind": "move", "slot_id": moves[0]["slot_id"]})
    assert res.status_code == 200, res.text
    view = await status_of(client, me, booking)
    assert view["status"] == "confirmed" and view["slot"]["id"] == moves[0]["slot_id"]
    await _reconciles([slot["id"], moves[0]["slot_id"]])
