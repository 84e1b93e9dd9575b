"""Paid tickets: Checkout sessions, webhooks and refunds, each exactly once.

The provider (Stripe, behind `integrations.payments.provider.PaymentProvider`) is the source of
truth: a webhook only says "look again"; we re-read the session and act on what it says, so events
that arrive twice, late or out of order change nothing they shouldn't. Refunds (owed, leased, asked
once, retried by the sweeper) live beside it in `refunds`.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.problems import Conflict, DomainError, InvalidInput, NotFound
from backend.payments import refunds
from backend.payments.ports import Bookings
from backend.payments.schemas import CheckoutOut, PaymentOut, RefundOut, WebhookAck
from backend.payments.tables import Payment, Refund, WebhookEvent
from backend.settings import get_settings
from backend.venues.services import catalog
from integrations.payments.provider import (
    CheckoutRequest,
    LineItem,
    PaymentProvider,
    ProviderError,
    WebhookRejected,
)

log = logging.getLogger("changxiang.payments")

STRIPE_MIN_EXPIRY = timedelta(minutes=31)  # Stripe wants a session to live at least 30 minutes


def utc_now() -> datetime:
    return clock.now()


class _Guarded:
    def __init__(self, inner: PaymentProvider) -> None:
        self._inner = inner
        self.name = inner.name

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self._inner, attr)
        if attr == "verify_webhook":
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return await target(*args, **kwargs)
            except ProviderError as exc:
                log.warning("payment provider failed", extra={"call": attr, "error": str(exc)})
                raise DomainError(
                    "payment_provider_error", "the payment provider did not answer; try again", status=502
                ) from None

        return call


class PaymentService:
    def __init__(self) -> None:
        self._provider: PaymentProvider | None = None
        self._provider_for: tuple[str, str, str | None] | None = None
        self._bound_bookings: Bookings | None = None

    def use_bookings(self, bookings: Bookings | None) -> None:
        """Bind what payments are for (the reservations side of `payments.ports.Bookings`)."""
        self._bound_bookings = bookings

    def bookings(self) -> Bookings:
        if self._bound_bookings is None:
            raise RuntimeError("payments has no bookings bound: create_app binds them (payments.use_bookings)")
        return self._bound_bookings

    def provider(self) -> PaymentProvider:
        """The configured provider, wrapped so its failures become a 502 problem, never a 500."""
        return _Guarded(self._raw_provider())

    def _raw_provider(self) -> PaymentProvider:
        settings = get_settings()
        secret_key, webhook_secret = settings.stripe_secret_key, settings.stripe_webhook_secret
        if not secret_key or not webhook_secret:
            raise DomainError("payments_unavailable", "online payment is not configured", status=503)
        config = (secret_key, webhook_secret, settings.stripe_api_base)
        if self._provider is None or self._provider_for != config:
            from integrations.payments.stripe_adapter import StripeProvider

            self._provider = StripeProvider(*config)
            self._provider_for = config
        return self._provider

    # ---- checkout

    async def checkout(self, user: AuthUser, public_id: str, base_url: str) -> CheckoutOut:
        try:
            key = uuid.UUID(public_id)
        except ValueError:
            raise NotFound("reservation_not_found", "no such reservation") from None
        bookings = self.bookings()
        r = await bookings.payable(user.id, key)
        if r is None:
            raise NotFound("reservation_not_found", "no such reservation")
        if r.status != "pending_payment" or r.amount_fen <= 0:
            raise Conflict("not_payable", f"the booking is {r.status}, not awaiting payment")
        now = utc_now()
        if r.hold_expires_at is None or r.hold_expires_at <= now:
            raise Conflict("hold_expired", "the seats are no longer held")
        provider = self.provider()
        open_payment = (
            await Payment.select()
            .where(
                (Payment.reservation == r.id)
                & (Payment.status == "open")
                & (Payment.expires_at > now + timedelta(minutes=2))
            )
            .first()
        )
        if open_payment is not None:
            session = await provider.retrieve_checkout(open_payment["session_id"])
            if session.status == "open" and session.url:
                return CheckoutOut(session.url, session.id, open_payment["expires_at"].astimezone(CITY_TZ))
        # the session may not outlive the hold: hold the seats for as long as Stripe keeps a session open.
        # The provider is asked first and the hold moved after, so a provider that fails (502) leaves
        # the hold and our rows exactly as they were; a booking that ended meanwhile leaves an orphan
        # session nobody was given the address of.
        expires = max(r.hold_expires_at, now + STRIPE_MIN_EXPIRY)
        attempt = await Payment.count().where(Payment.reservation == r.id)
        venue = await catalog.record(r.venue_slug)
        when = r.starts_at.astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")
        name = f"{venue.row['name_zh'] if venue else r.venue_slug} {when}"
        party = r.party_size
        session = await provider.create_checkout(
            CheckoutRequest(
                reservation_id=str(r.public_id),
                # per-visitor prices differ (concessions): one line for the whole party when they don't divide
                line_items=[LineItem(name=name, unit_amount_fen=r.amount_fen // party, quantity=party)]
                if r.amount_fen % party == 0
                else [LineItem(name=f"{name} ×{party}", unit_amount_fen=r.amount_fen, quantity=1)],
                currency="CNY",
                expires_at=expires,
                success_url=f"{base_url}/bookings/{r.public_id}?paid=1",
                cancel_url=f"{base_url}/bookings/{r.public_id}?payment=cancelled",
                idempotency_key=f"checkout-{r.public_id}-{attempt}",
                customer_email=user.email,
            )
        )
        if not await bookings.hold_until(r.id, expires):
            raise Conflict("not_payable", "the booking changed meanwhile")
        await Payment.insert(
            Payment(
                reservation=r.id,
                provider=provider.name,
                session_id=session.id,
                amount_fen=session.amount_total,
                currency="CNY",
                status="open",
                expires_at=expires,
            )
        )
        log.info("checkout created", extra={"reservation": public_id, "session": session.id})
        return CheckoutOut(session.url or "", session.id, expires.astimezone(CITY_TZ))

    # ---- webhooks

    async def webhook(self, payload: bytes, signature: str | None) -> WebhookAck:
        provider = self.provider()
        try:
            event = provider.verify_webhook(payload, signature)
        except WebhookRejected as exc:
            raise InvalidInput("invalid_signature", f"webhook signature rejected: {exc}") from None
        try:
            await WebhookEvent.insert(WebhookEvent(provider=provider.name, event_id=event.id, type=event.type))
        except Exception as exc:
            if is_unique_violation(exc):
                processed = (
                    await WebhookEvent.select(WebhookEvent.processed_at)
                    .where(WebhookEvent.event_id == event.id)
                    .first()
                )
                if processed and processed["processed_at"] is not None:
                    return WebhookAck(received=True, duplicate=True)
            else:
                raise
        if event.type.startswith("checkout.session.") and event.object_id:
            await self.sync_session(event.object_id)
        await WebhookEvent.update({WebhookEvent.processed_at: utc_now()}).where(WebhookEvent.event_id == event.id)
        return WebhookAck(received=True)

    async def sync_session(self, session_id: str) -> None:
        """Bring our records in line with the provider's session, whatever the event said."""
        payment = await Payment.select().where(Payment.session_id == session_id).first()
        if payment is None:
            log.warning("webhook for an unknown session", extra={"session": session_id})
            return
        session = await self.provider().retrieve_checkout(session_id)
        if session.payment_status == "paid":
            await self._paid(payment, session.payment_intent)
        elif session.status == "expired":
            await self._expired(payment)

    async def _paid(self, payment: dict[str, Any], payment_intent: str | None) -> None:
        bookings = self.bookings()
        async with write_transaction():
            changed = (
                await Payment.update(
                    {Payment.status: "paid", Payment.payment_intent: payment_intent, Payment.paid_at: utc_now()}
                )
                .where((Payment.id == payment["id"]) & Payment.status.is_in(["open", "expired"]))
                .returning(Payment.id)
            )
            if not changed:
                return  # already settled by an earlier delivery
            confirmed = await bookings.paid(payment["reservation"])
            if not confirmed:
                # The money came for seats that are gone (hold expired, booking cancelled, or another
                # session of the same booking already paid): it is owed back from this very transaction.
                owed = await refunds.owe(payment["id"], payment["amount_fen"], "seats_gone")
        if confirmed:
            log.info("payment confirmed booking", extra={"payment": payment["id"]})
            return
        await refunds.settle(owed, self._raw_provider)  # a provider that fails now leaves it to the sweeper
        await bookings.seats_gone(payment["reservation"])

    async def _expired(self, payment: dict[str, Any]) -> None:
        await Payment.update({Payment.status: "expired"}).where(
            (Payment.id == payment["id"]) & (Payment.status == "open")
        )
        still_open = await Payment.exists().where(
            (Payment.reservation == payment["reservation"]) & (Payment.status.is_in(["open", "paid"]))
        )
        if still_open:
            return
        await self.bookings().payment_expired(payment["reservation"])

    # ---- refunds (the rules live in `refunds`; these are what reservations' `Payments` port asks for)

    async def owe_refund(self, reservation_id: int, reason: str) -> int | None:
        """Inside the caller's write transaction: record a full refund of the booking's paid payment as
        owed (`pending`), once per reason. The refund's id, or None when nothing was paid."""
        return await refunds.owe_refund(reservation_id, reason)

    async def refund_reservation(self, reservation_id: int, reason: str) -> RefundOut | None:
        """Give back what was paid for the booking, once per reason: owed (if the caller's transaction has
        not owed it already), then asked of the provider now. None when nothing was paid; a refund the
        provider could not make yet is answered `pending` (the sweeper makes it), never an error."""
        return (await self.refund_reservations([reservation_id], reason)).get(reservation_id)

    async def refund_reservations(self, reservation_ids: list[int], reason: str) -> dict[int, RefundOut]:
        """`refund_reservation` for many bookings (a closed slot's holders); once the provider fails, the
        rest are due to the sweeper at once."""
        return await refunds.refund_reservations(reservation_ids, reason, self._raw_provider)

    async def settle_due_refunds(self, limit: int = refunds.REFUND_BATCH) -> int:
        """The sweeper's pass (every replica): make the owed refunds that are due. How many were made."""
        return await refunds.settle_due(self._raw_provider, limit)

    async def views(self, reservation_ids: list[int]) -> dict[int, PaymentOut]:
        """The latest payment of each reservation, with its refunds."""
        if not reservation_ids:
            return {}
        rows = await Payment.select().where(Payment.reservation.is_in(reservation_ids)).order_by(Payment.id)
        if not rows:
            return {}
        refund_rows = await Refund.select().where(Refund.payment.is_in([p["id"] for p in rows])).order_by(Refund.id)
        out: dict[int, PaymentOut] = {}
        for p in rows:  # a paid or refunded payment outranks a later abandoned one
            if (
                p["reservation"] in out
                and out[p["reservation"]].status in ("paid", "refunded", "partially_refunded")
                and p["status"] in ("open", "expired")
            ):
                continue
            out[p["reservation"]] = PaymentOut(
                status=p["status"],
                amount_fen=p["amount_fen"],
                currency=p["currency"],
                paid_at=p["paid_at"].astimezone(CITY_TZ) if p["paid_at"] else None,
                refunds=[refunds.refund_out(r) for r in refund_rows if r["payment"] == p["id"]],
            )
        return out


payments = PaymentService()
