"""Paid tickets: Checkout sessions, webhooks and refunds, each exactly once.

The provider (Stripe, behind `integrations.payments.provider.PaymentProvider`) is the source of
truth: a webhook only says "look again"; we re-read the session and act on what it says, so events
that arrive twice, late or out of order change nothing they shouldn't.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from backend.lib.auth import AuthUser
from backend.lib.db import is_unique_violation, write_transaction
from backend.lib.problems import Conflict, DomainError, InvalidInput, NotFound
from backend.payments.schemas import CheckoutOut, PaymentOut, RefundOut, WebhookAck
from backend.payments.tables import Payment, Refund, WebhookEvent
from backend.reservations.tables import Reservation
from backend.settings import get_settings
from backend.venues.services import CITY_TZ, catalog
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
    return datetime.now(UTC)


class _Guarded:
    def __init__(self, inner: PaymentProvider) -> None:
        self._inner = inner
        self.name = inner.name

    def __getattr__(self, attr: str):
        target = getattr(self._inner, attr)
        if attr == "verify_webhook":
            return target

        async def call(*args, **kwargs):
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
        self._provider_for: tuple | None = None

    def provider(self) -> PaymentProvider:
        """The configured provider, wrapped so its failures become a 502 problem, never a 500."""
        return _Guarded(self._raw_provider())

    def _raw_provider(self) -> PaymentProvider:
        settings = get_settings()
        config = (settings.stripe_secret_key, settings.stripe_webhook_secret, settings.stripe_api_base)
        if not settings.stripe_secret_key or not settings.stripe_webhook_secret:
            raise DomainError("payments_unavailable", "online payment is not configured", status=503)
        if self._provider is None or self._provider_for != config:
            from integrations.payments.stripe_adapter import StripeProvider

            self._provider = StripeProvider(*config)  # type: ignore[arg-type]
            self._provider_for = config
        return self._provider

    # ---- checkout

    async def checkout(self, user: AuthUser, public_id: str, base_url: str) -> CheckoutOut:
        try:
            key = uuid.UUID(public_id)
        except ValueError:
            raise NotFound("reservation_not_found", "no such reservation") from None
        r = (
            await Reservation.select(
                Reservation.id,
                Reservation.public_id,
                Reservation.status,
                Reservation.hold_expires_at,
                Reservation.amount_fen,
                Reservation.party_size,
                Reservation.venue_slug,
                Reservation.slot.starts_at,
            )
            .where((Reservation.public_id == key) & (Reservation.user_id == user.id))
            .first()
        )
        if r is None:
            raise NotFound("reservation_not_found", "no such reservation")
        if r["status"] != "pending_payment" or r["amount_fen"] <= 0:
            raise Conflict("not_payable", f"the booking is {r['status']}, not awaiting payment")
        now = utc_now()
        if r["hold_expires_at"] is None or r["hold_expires_at"] <= now:
            raise Conflict("hold_expired", "the seats are no longer held")
        provider = self.provider()
        open_payment = (
            await Payment.select()
            .where(
                (Payment.reservation == r["id"])
                & (Payment.status == "open")
                & (Payment.expires_at > now + timedelta(minutes=2))
            )
            .first()
        )
        if open_payment is not None:
            session = await provider.retrieve_checkout(open_payment["session_id"])
            if session.status == "open" and session.url:
                return CheckoutOut(session.url, session.id, open_payment["expires_at"].astimezone(CITY_TZ))
        # the session may not outlive the hold: hold the seats for as long as Stripe keeps a session open
        expires = max(r["hold_expires_at"], now + STRIPE_MIN_EXPIRY)
        held = (
            await Reservation.update({Reservation.hold_expires_at: expires})
            .where((Reservation.id == r["id"]) & (Reservation.status == "pending_payment"))
            .returning(Reservation.id)
        )
        if not held:
            raise Conflict("not_payable", "the booking changed meanwhile")
        attempt = await Payment.count().where(Payment.reservation == r["id"])
        venue = await catalog.record(r["venue_slug"])
        when = r["slot.starts_at"].astimezone(CITY_TZ).strftime("%Y-%m-%d %H:%M")
        name = f"{venue.row['name_zh'] if venue else r['venue_slug']} {when}"
        party = r["party_size"]
        session = await provider.create_checkout(
            CheckoutRequest(
                reservation_id=str(r["public_id"]),
                line_items=[LineItem(name=name, unit_amount_fen=r["amount_fen"] // party, quantity=party)],
                currency="CNY",
                expires_at=expires,
                success_url=f"{base_url}/bookings/{r['public_id']}?paid=1",
                cancel_url=f"{base_url}/bookings/{r['public_id']}?payment=cancelled",
                idempotency_key=f"checkout-{r['public_id']}-{attempt}",
                customer_email=user.email,
            )
        )
        await Payment.insert(
            Payment(
                reservation=r["id"],
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

    async def _paid(self, payment: dict, payment_intent: str | None) -> None:
        from backend.reservations.services import reservations

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
            confirmed = (
                await Reservation.update({Reservation.status: "confirmed", Reservation.hold_expires_at: None})
                .where((Reservation.id == payment["reservation"]) & (Reservation.status == "pending_payment"))
                .returning(Reservation.id)
            )
        if confirmed:
            log.info("payment confirmed booking", extra={"payment": payment["id"]})
            return
        # The money came for seats that are gone (hold expired, booking cancelled, or another
        # session of the same booking already paid): give it back rather than keep it.
        await self.refund(payment["id"], "seats_gone")
        await reservations.promote_waitlist(
            (await Reservation.select(Reservation.slot).where(Reservation.id == payment["reservation"]).first())["slot"]
        )

    async def _expired(self, payment: dict) -> None:
        from backend.reservations.services import reservations

        await Payment.update({Payment.status: "expired"}).where(
            (Payment.id == payment["id"]) & (Payment.status == "open")
        )
        still_open = await Payment.exists().where(
            (Payment.reservation == payment["reservation"]) & (Payment.status.is_in(["open", "paid"]))
        )
        if still_open:
            return
        if await reservations._end(
            payment["reservation"], "expired", "payment_expired", notify="hold_expired", only_from=("pending_payment",)
        ):
            slot = await Reservation.select(Reservation.slot).where(Reservation.id == payment["reservation"]).first()
            await reservations.promote_waitlist(slot["slot"])

    # ---- refunds

    async def refund(self, payment_id: int, reason: str, amount_fen: int | None = None) -> RefundOut | None:
        """Refund a paid payment (in full by default), once per reason: a retry finds the first refund."""
        payment = await Payment.select().where(Payment.id == payment_id).first()
        if payment is None or payment["payment_intent"] is None:
            return None
        existing = await Refund.select().where((Refund.payment == payment_id) & (Refund.reason == reason)).first()
        if existing:
            return RefundOut(
                existing["provider_refund_id"],
                existing["amount_fen"],
                existing["status"],
                existing["created_at"].astimezone(CITY_TZ),
            )
        amount = payment["amount_fen"] if amount_fen is None else amount_fen
        result = await self.provider().refund(
            payment["payment_intent"],
            amount,
            idempotency_key=f"refund-{payment_id}-{reason}",
            metadata={"reason": reason, "payment_id": str(payment_id)},
        )
        try:
            await Refund.insert(
                Refund(
                    payment=payment_id,
                    provider_refund_id=result.id,
                    amount_fen=result.amount,
                    reason=reason,
                    status=result.status,
                )
            )
        except Exception as exc:
            if not is_unique_violation(exc):
                raise
        refunded = sum(
            r["amount_fen"] for r in await Refund.select(Refund.amount_fen).where(Refund.payment == payment_id)
        )
        await Payment.update(
            {Payment.status: "refunded" if refunded >= payment["amount_fen"] else "partially_refunded"}
        ).where(Payment.id == payment_id)
        log.info("refund", extra={"payment": payment_id, "reason": reason, "amount_fen": result.amount})
        return RefundOut(result.id, result.amount, result.status, utc_now().astimezone(CITY_TZ))

    async def refund_reservation(self, reservation_id: int, reason: str) -> RefundOut | None:
        paid = (
            await Payment.select(Payment.id)
            .where((Payment.reservation == reservation_id) & (Payment.status == "paid"))
            .first()
        )
        return await self.refund(paid["id"], reason) if paid else None

    async def views(self, reservation_ids: list[int]) -> dict[int, PaymentOut]:
        """The latest payment of each reservation, with its refunds."""
        if not reservation_ids:
            return {}
        rows = await Payment.select().where(Payment.reservation.is_in(reservation_ids)).order_by(Payment.id)
        if not rows:
            return {}
        refunds = await Refund.select().where(Refund.payment.is_in([p["id"] for p in rows])).order_by(Refund.id)
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
                refunds=[
                    RefundOut(
                        r["provider_refund_id"], r["amount_fen"], r["status"], r["created_at"].astimezone(CITY_TZ)
                    )
                    for r in refunds
                    if r["payment"] == p["id"]
                ],
            )
        return out


payments = PaymentService()
