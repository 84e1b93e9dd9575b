"""Paid tickets through the real `stripe` library and a local Stripe stand-in: checkout, signed
webhooks (once, in any order, late), expiry, automatic refunds and refunds on cancellation."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest

from backend.lib.clock import clock
from backend.payments.tables import Payment, Refund
from integrations.payments.stripe_standin import sign_payload
from tests.api.reservation_helpers import fresh_slot, slot_by_id, visitor
from tests.conftest import STRIPE_WEBHOOK_SECRET, stripe_standin

pytestmark = pytest.mark.anyio

PAID_VENUE = "china-dinosaur-park"
WEBHOOK = "/api/v1/payments/stripe/webhook"


async def deliver(client, payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET, timestamp: int | None = None):
    return await client.post(
        WEBHOOK,
        content=payload,
        headers={"Content-Type": "application/json", "Stripe-Signature": sign_payload(payload, secret, timestamp)},
    )


async def paid_booking(client, make_account, party: int = 2):
    me = await make_account("tourist")
    slot = await fresh_slot(client, PAID_VENUE)
    res = await client.post(
        "/api/v1/reservations",
        headers=me["headers"],
        json={"slot_id": slot["id"], "visitors": [visitor() for _ in range(party)]},
    )
    assert res.status_code == 201, res.text
    return me, slot, res.json()


async def checkout(client, me, booking) -> dict:
    res = await client.post(f"/api/v1/reservations/{booking['id']}/checkout", headers=me["headers"])
    assert res.status_code == 200, res.text
    return res.json()


async def status_of(client, me, booking) -> dict:
    return (await client.get(f"/api/v1/reservations/{booking['id']}", headers=me["headers"])).json()


async def test_checkout_session_carries_the_booking_and_its_total(client, make_account):
    me, slot, booking = await paid_booking(client, make_account, party=2)
    assert booking["status"] == "pending_payment" and booking["amount_fen"] == 2 * slot["price_fen"] == 52000
    session = await checkout(client, me, booking)
    assert session["session_id"].startswith("cs_test_") and session["checkout_url"].startswith("http://127.0.0.1")
    created = [
        r
        for r in stripe_standin.requests
        if r["path"] == "/v1/checkout/sessions"
        and r["method"] == "POST"
        and r["params"].get("client_reference_id") == booking["id"]
    ]
    assert len(created) == 1
    request = created[0]
    assert request["idempotency_key"] and booking["id"] in request["idempotency_key"]
    items = request["params"]["line_items"]
    assert sum(int(i["price_data"]["unit_amount"]) * int(i["quantity"]) for i in items) == booking["amount_fen"]
    assert {i["price_data"]["currency"] for i in items} == {"cny"}
    assert request["params"]["metadata"]["reservation_id"] == booking["id"]
    after = await status_of(client, me, booking)
    hold_ends = datetime.fromisoformat(after["hold_expires_at"]).timestamp()
    assert int(request["params"]["expires_at"]) <= hold_ends, "the session never outlives the seat hold"
    assert hold_ends - clock.time() >= 30 * 60, "the hold lasts as long as Stripe keeps a session open"
    again = await checkout(client, me, booking)
    assert again["session_id"] == session["session_id"], "an open session is resumed, not duplicated"
    other = await make_account("tourist")
    res = await client.post(f"/api/v1/reservations/{booking['id']}/checkout", headers=other["headers"])
    assert res.status_code == 404


async def test_webhook_signature_is_checked_and_events_act_once(client, make_account):
    me, slot, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    payload = stripe_standin.complete(session["session_id"])
    for bad in (
        await deliver(client, payload, secret="whsec_wrong"),
        await deliver(client, payload, timestamp=int(time.time()) - 301),
        await client.post(WEBHOOK, content=payload, headers={"Content-Type": "application/json"}),
    ):
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_signature"
    assert (await status_of(client, me, booking))["status"] == "pending_payment", "nothing changed"
    first, second = await deliver(client, payload), await deliver(client, payload)
    assert first.status_code == second.status_code == 200
    assert second.json()["duplicate"] is True
    after = await status_of(client, me, booking)
    assert after["status"] == "confirmed" and after["payment"]["status"] == "paid"
    assert after["payment"]["amount_fen"] == booking["amount_fen"]
    rows = await Payment.select().where(Payment.session_id == session["session_id"])
    assert len(rows) == 1 and rows[0]["status"] == "paid"
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"] - 2


async def test_events_out_of_order_follow_the_session_not_the_event(client, make_account):
    me, _, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    stripe_standin.complete(session["session_id"])
    stale = stripe_standin.event("checkout.session.expired", session["session_id"])  # says expired, isn't
    assert (await deliver(client, stale)).status_code == 200
    assert (await status_of(client, me, booking))["status"] == "confirmed"


async def test_expired_session_frees_seats_and_late_money_is_refunded(client, make_account):
    me, slot, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    assert (await deliver(client, stripe_standin.expire(session["session_id"]))).status_code == 200
    after = await status_of(client, me, booking)
    assert after["status"] == "expired"
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]
    # the payment still arrives (a slow wallet): the seats are gone, so the money goes back by itself
    session_state = stripe_standin.sessions[session["session_id"]]
    session_state["status"] = "open"
    late = stripe_standin.complete(session["session_id"])
    assert (await deliver(client, late)).status_code == 200
    refunds = [r for r in stripe_standin.refunds.values() if r["payment_intent"] == session_state["payment_intent"]]
    assert len(refunds) == 1 and refunds[0]["amount"] == booking["amount_fen"]
    assert (await status_of(client, me, booking))["status"] == "expired"
    view = (await status_of(client, me, booking))["payment"]
    assert view["status"] == "refunded" and view["refunds"][0]["amount_fen"] == booking["amount_fen"]


async def test_cancelling_a_paid_booking_refunds_once(client, make_account):
    me, slot, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    await deliver(client, stripe_standin.complete(session["session_id"]))
    intent = stripe_standin.sessions[session["session_id"]]["payment_intent"]
    res = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=me["headers"])
    assert res.status_code == 200
    body = res.json()
    assert body["status"] == "cancelled" and body["refund"]["amount_fen"] == booking["amount_fen"]
    assert body["refund"]["status"] == "succeeded"
    refunds = [r for r in stripe_standin.refunds.values() if r["payment_intent"] == intent]
    assert len(refunds) == 1 and refunds[0]["id"] == body["refund"]["id"]
    again = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=me["headers"])
    assert again.status_code == 409
    assert len([r for r in stripe_standin.refunds.values() if r["payment_intent"] == intent]) == 1
    payment = await Payment.select().where(Payment.session_id == session["session_id"]).first()
    assert payment["status"] == "refunded"
    assert await Refund.count().where(Refund.payment == payment["id"]) == 1
    assert (await slot_by_id(client, PAID_VENUE, slot["id"]))["remaining"] == slot["remaining"]


async def test_checkout_refusals(client, make_account):
    free_me = await make_account("tourist")
    slot = await fresh_slot(client, "changzhou-museum")
    free = (
        await client.post(
            "/api/v1/reservations", headers=free_me["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
        )
    ).json()
    res = await client.post(f"/api/v1/reservations/{free['id']}/checkout", headers=free_me["headers"])
    assert res.status_code == 409 and res.json()["code"] == "not_payable"
    res = await client.post(f"/api/v1/reservations/{uuid.uuid4()}/checkout", headers=free_me["headers"])
    assert res.status_code == 404
    assert (await client.post(f"/api/v1/reservations/{free['id']}/checkout")).status_code == 401
