"""Refunds owed are never lost (issue 15, finding 10): a booking that ends with money paid for it records
the refund as owed (`pending`) in the transaction that ends it; the refund is asked of Stripe at once, and
if Stripe fails the cancellation still succeeds (the refund shows `pending`) and the sweeper every replica
runs makes it later, with the same idempotency key, exactly once however many sweepers run at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from backend.forecast.rebooking import OFFER_HOURS, rebooking
from backend.lib.clock import clock
from backend.payments.services import payments
from backend.payments.tables import Payment, Refund
from backend.reservations import waitlist
from backend.reservations.services import reservations
from backend.reservations.tables import Reservation
from tests.api import test_partner_failures
from tests.api.reservation_helpers import fresh_slot, visitor
from tests.api.test_partner_failures import Broken, closed_port_url
from tests.api.test_payments import PAID_VENUE, checkout, deliver, paid_booking, status_of
from tests.conftest import stripe_standin

pytestmark = pytest.mark.anyio

stripe_at = test_partner_failures.stripe_at  # the fixture: the app's Stripe client pointed elsewhere
LATER = timedelta(hours=2)  # past any back-off (at most an hour) and any lease


async def paid(client, me, booking) -> str:
    """Pay for the booking through checkout and the signed webhook; Stripe's payment intent."""
    session = await checkout(client, me, booking)
    assert (await deliver(client, stripe_standin.complete(session["session_id"]))).status_code == 200
    assert (await status_of(client, me, booking))["status"] == "confirmed"
    return str(stripe_standin.sessions[session["session_id"]]["payment_intent"])


def refunds_made(intent: str) -> list[dict]:
    return [r for r in stripe_standin.refunds.values() if r["payment_intent"] == intent]


def refund_requests(key: str) -> int:
    return sum(1 for r in stripe_standin.requests if r["path"] == "/v1/refunds" and r["idempotency_key"] == key)


async def refund_rows(public_id: str) -> list[dict]:
    reservation = await Reservation.select(Reservation.id).where(Reservation.public_id == public_id).first()
    assert reservation is not None
    return await Refund.select().where(Refund.payment.reservation == reservation["id"])


async def test_cancelling_with_stripe_unreachable_succeeds_and_the_sweeper_refunds_once(
    client, make_account, stripe_at
):
    me, _, booking = await paid_booking(client, make_account)
    intent = await paid(client, me, booking)
    stripe_at(closed_port_url())
    res = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=me["headers"])
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["status"] == "cancelled"
    assert body["refund"]["status"] == "pending" and body["refund"]["amount_fen"] == booking["amount_fen"]
    view = await status_of(client, me, booking)
    assert view["status"] == "cancelled"
    assert view["payment"]["status"] == "paid"
    assert [(r["status"], r["amount_fen"]) for r in view["payment"]["refunds"]] == [("pending", booking["amount_fen"])]
    [row] = await refund_rows(booking["id"])
    assert row["status"] == "pending" and row["provider_refund_id"] is None and row["attempts"] == 1
    assert row["last_error"] and row["next_attempt_at"] > clock.now()
    assert refunds_made(intent) == []

    # a sweep before the back-off is over asks nothing
    stripe_at(stripe_standin.base_url)
    await reservations.sweep()
    key = f"refund-{row['public_id']}"
    assert refund_requests(key) == 0 and refunds_made(intent) == []

    clock.advance(LATER)
    await reservations.sweep()
    await reservations.sweep()
    made = refunds_made(intent)
    assert len(made) == 1 and made[0]["amount"] == booking["amount_fen"]
    assert refund_requests(key) == 1, "asked once, with the row's own key"
    view = await status_of(client, me, booking)
    assert view["payment"]["status"] == "refunded"
    assert [(r["id"], r["status"]) for r in view["payment"]["refunds"]] == [(made[0]["id"], "succeeded")]
    [row] = await refund_rows(booking["id"])
    assert row["provider_refund_id"] == made[0]["id"] and row["leased_until"] is None and row["last_error"] is None


async def test_the_refund_key_is_unique_across_deployments(client, make_account):
    """`refund-<payment id>-<reason>` repeats in every deployment (ids start at 1 in each): two sharing one
    Stripe account would get each other's refund back. The key is the refund's own uuid."""
    me, _, booking = await paid_booking(client, make_account)
    await paid(client, me, booking)
    res = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=me["headers"])
    assert res.status_code == 200 and res.json()["refund"]["status"] == "succeeded"
    [row] = await refund_rows(booking["id"])
    payment = await Payment.select(Payment.id).where(Payment.id == row["payment"]).first()
    key = f"refund-{row['public_id']}"
    assert refund_requests(key) == 1
    assert refund_requests(f"refund-{payment['id']}-holder_cancelled") == 0
    sent = [r for r in stripe_standin.requests if r["path"] == "/v1/refunds" and r["idempotency_key"] == key]
    assert sent[0]["params"]["metadata"]["refund_id"] == str(row["public_id"])


async def test_concurrent_sweeps_never_refund_twice(client, make_account, stripe_at):
    owed = []
    for _ in range(3):
        me, _, booking = await paid_booking(client, make_account)
        owed.append((me, booking, await paid(client, me, booking)))
    stripe_at(closed_port_url())
    for me, booking, _ in owed:
        res = await client.post(f"/api/v1/reservations/{booking['id']}/cancel", headers=me["headers"])
        assert res.status_code == 200 and res.json()["refund"]["status"] == "pending"
    stripe_at(stripe_standin.base_url)
    clock.advance(LATER)
    # several replicas' sweepers at once (and the app's own, running in the background)
    await asyncio.gather(*(reservations.sweep() for _ in range(4)), *(payments.settle_due_refunds() for _ in range(4)))
    for _, booking, intent in owed:
        [row] = await refund_rows(booking["id"])
        assert row["provider_refund_id"] is not None and row["status"] == "succeeded"
        assert refund_requests(f"refund-{row['public_id']}") == 1, "one sweeper asked, once"
        assert len(refunds_made(intent)) == 1


async def test_a_booking_that_ended_owes_its_refund_even_if_nothing_asks_for_it(client, make_account):
    """The debt is written with the booking's end: a request that dies right after (no refund asked) still
    leaves a refund the sweeper makes once the request's lease on it has run out."""
    me, _, booking = await paid_booking(client, make_account)
    intent = await paid(client, me, booking)
    reservation = await Reservation.select(Reservation.id).where(Reservation.public_id == booking["id"]).first()
    assert await waitlist.end_booking(
        reservation["id"], "cancelled", "holder", refund=(payments, "holder_cancelled")
    ), "the booking ended"
    [row] = await refund_rows(booking["id"])
    assert row["status"] == "pending" and row["attempts"] == 0
    await payments.settle_due_refunds()
    assert refunds_made(intent) == [], "the request that owed it asks first"
    clock.advance(LATER)
    await reservations.sweep()
    assert len(refunds_made(intent)) == 1
    assert (await status_of(client, me, booking))["payment"]["refunds"][0]["status"] == "succeeded"


async def test_closing_a_slot_with_stripe_failing_cancels_and_owes_every_refund(client, make_account, stripe_at):
    staff = await make_account("staff", venues=(PAID_VENUE,))
    slot = await fresh_slot(client, PAID_VENUE)
    holders = []
    for _ in range(3):
        me = await make_account("tourist")
        res = await client.post(
            "/api/v1/reservations", headers=me["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
        )
        assert res.status_code == 201, res.text
        holders.append((me, res.json(), await paid(client, me, res.json())))
    broken = Broken(500)
    try:
        stripe_at(broken.url)
        closed = await client.patch(
            f"/api/v1/venues/{PAID_VENUE}/slots/{slot['id']}", json={"status": "closed"}, headers=staff["headers"]
        )
        assert closed.status_code == 200, closed.text
        # each holder is offered another time, another place or the refund (issue 19): the offer owes the
        # refund, made when chosen or when the offer lapses unchosen
        assert broken.hits == 0
        for me, booking, _ in holders:
            [offer] = (await client.get("/api/v1/me/offers", headers=me["headers"])).json()
            assert offer["reservation_id"] == booking["id"] and offer["status"] == "open"
            assert (await status_of(client, me, booking))["payment"]["refunds"] == []
        clock.advance(timedelta(hours=OFFER_HOURS, minutes=1))
        await rebooking.sweep()
        assert broken.hits == 1, "after the first failure the rest are left to the sweeper, not each waited for"
    finally:
        broken.stop()
    for me, booking, intent in holders:
        view = await status_of(client, me, booking)
        assert view["status"] == "cancelled" and view["cancel_reason"] == "slot_closed"
        assert view["payment"]["refunds"][0]["status"] == "pending"
        assert refunds_made(intent) == []
    stripe_at(stripe_standin.base_url)
    clock.advance(LATER)
    await reservations.sweep()
    # the app's own sweeper runs too: a refund it leased a moment before is made by it, not by this sweep
    # (seen once in a full run), so give it a few seconds before looking
    for _ in range(50):
        if all(len(refunds_made(intent)) >= 1 for _, _, intent in holders):
            break
        await asyncio.sleep(0.2)
        await reservations.sweep()
    for me, booking, intent in holders:
        assert len(refunds_made(intent)) == 1
        assert (await status_of(client, me, booking))["payment"]["status"] == "refunded"


async def test_late_money_for_seats_gone_is_owed_when_the_refund_fails(client, make_account):
    """The payment arrives after the hold ran out; Stripe refuses the refund (a 500 on /v1/refunds only):
    the webhook is still acknowledged (redelivering it would not refund: the payment is recorded), and the
    refund stays owed until the sweeper makes it."""
    me, _, booking = await paid_booking(client, make_account)
    session = await checkout(client, me, booking)
    assert (await deliver(client, stripe_standin.expire(session["session_id"]))).status_code == 200
    state = stripe_standin.sessions[session["session_id"]]
    state["status"] = "open"
    late = stripe_standin.complete(session["session_id"])
    stripe_standin.failing["/v1/refunds"] = 500
    try:
        res = await deliver(client, late)
        assert res.status_code == 200, res.text
    finally:
        stripe_standin.failing.clear()
    intent = state["payment_intent"]
    assert refunds_made(intent) == []
    view = await status_of(client, me, booking)
    assert view["status"] == "expired" and view["payment"]["refunds"][0]["status"] == "pending"
    [row] = await refund_rows(booking["id"])
    assert row["reason"] == "seats_gone" and row["provider_refund_id"] is None
    clock.advance(LATER)
    await reservations.sweep()
    made = refunds_made(intent)
    assert len(made) == 1 and made[0]["amount"] == booking["amount_fen"]
    assert (await status_of(client, me, booking))["payment"]["status"] == "refunded"
