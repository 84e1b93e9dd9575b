"""Stripe Checkout through the real `stripe` library (async, httpx). `STRIPE_API_BASE` points it at a
local stand-in in tests and development."""

from __future__ import annotations

import stripe

from integrations.payments.provider import (
    CheckoutRequest,
    CheckoutSession,
    ProviderError,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
)

WEBHOOK_TOLERANCE_S = 300


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        base = {"api": api_base} if api_base else None
        self._client = stripe.StripeClient(
            secret_key, base_addresses=base, http_client=stripe.HTTPXClient(), max_network_retries=2
        )
        self._webhook_secret = webhook_secret

    @staticmethod
    def _session(obj: stripe.checkout.Session) -> CheckoutSession:
        s = obj.to_dict()
        intent = s.get("payment_intent")
        return CheckoutSession(
            id=s["id"],
            url=s.get("url"),
            status=s["status"],
            payment_status=s["payment_status"],
            amount_total=s.get("amount_total") or 0,
            currency=s.get("currency") or "cny",
            payment_intent=intent if isinstance(intent, str) or intent is None else intent["id"],
            client_reference_id=s.get("client_reference_id"),
            expires_at=s.get("expires_at") or 0,
        )

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession:
        params = {
            "mode": "payment",
            "client_reference_id": request.reservation_id,
            "metadata": {"reservation_id": request.reservation_id, **request.metadata},
            "payment_intent_data": {"metadata": {"reservation_id": request.reservation_id}},
            "line_items": [
                {
                    "quantity": item.quantity,
                    "price_data": {
                        "currency": request.currency.lower(),
                        "unit_amount": item.unit_amount_fen,
                        "product_data": {"name": item.name},
                    },
                }
                for item in request.line_items
            ],
            "payment_method_types": ["card", "alipay", "wechat_pay"],
            "payment_method_options": {"wechat_pay": {"client": "web"}},
            "expires_at": int(request.expires_at.timestamp()),
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
        }
        if request.customer_email:
            params["customer_email"] = request.customer_email
        session = await self._client.v1.checkout.sessions.create_async(
            params,
            {"idempotency_key": request.idempotency_key},  # type: ignore[arg-type]
        )
        return self._session(session)

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        try:
            return self._session(await self._client.v1.checkout.sessions.retrieve_async(session_id))
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc

    async def refund(
        self, payment_intent: str, amount_fen: int, idempotency_key: str, metadata: dict[str, str]
    ) -> RefundResult:
        try:
            refund = await self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent, "amount": amount_fen, "metadata": metadata},  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return RefundResult(id=refund["id"], status=refund["status"], amount=refund["amount"])

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent:
        try:
            event = stripe.Webhook.construct_event(
                payload, signature_header, self._webhook_secret, tolerance=WEBHOOK_TOLERANCE_S
            )
        except (stripe.SignatureVerificationError, ValueError) as exc:
            raise WebhookRejected(str(exc)) from None
        data = event.to_dict()
        obj = data.get("data", {}).get("object", {})
        return WebhookEvent(id=event["id"], type=event["type"], object_id=obj.get("id"))
