"""Stripe Checkout through the real `stripe` library (async, httpx). `STRIPE_API_BASE` points it at a
local stand-in in tests and development."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import httpx
import stripe
from stripe.params.checkout import SessionCreateParams

from integrations.payments.provider import (
    CheckoutRequest,
    CheckoutSession,
    ProviderError,
    RefundResult,
    WebhookEvent,
    WebhookRejected,
)

WEBHOOK_TOLERANCE_S = 300
TIMEOUT_S = 10.0  # one HTTP call to Stripe, connect to last byte; Stripe's own default (80 s) would hold a request
NETWORK_RETRIES = 2  # the library's own retries of connection errors, 409s and 5xx, with the same idempotency key

T = TypeVar("T")

# Whatever a call to Stripe can fail with: the library's errors (connection, timeout, 4xx, 5xx, a body that
# is not JSON), and the transport's and the socket's should one get through it. A bug of ours stays a 500.
_FAILURES = (stripe.StripeError, httpx.HTTPError, OSError, TimeoutError)


async def _call(what: str, call: Awaitable[T]) -> T:
    """Await one call to Stripe; any failure becomes a `ProviderError` (nothing of ours changed)."""
    try:
        return await call
    except _FAILURES as exc:
        raise ProviderError(f"{what}: {type(exc).__name__}: {exc}"[:300]) from exc


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str, webhook_secret: str, api_base: str | None = None) -> None:
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=TIMEOUT_S),
            max_network_retries=NETWORK_RETRIES,
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
        params: SessionCreateParams = {  # type: ignore[typeddict-unknown-key]  # stripe 16 types omit payment_method_types, which the API (and our stand-in) still take
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
        session = await _call(
            "create checkout session",
            self._client.v1.checkout.sessions.create_async(
                params,
                {"idempotency_key": request.idempotency_key},
            ),
        )
        return self._session(session)

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession:
        session = await _call("retrieve checkout session", self._client.v1.checkout.sessions.retrieve_async(session_id))
        return self._session(session)

    async def refund(
        self, payment_intent: str, amount_fen: int, idempotency_key: str, metadata: dict[str, str]
    ) -> RefundResult:
        refund = await _call(
            "create refund",
            self._client.v1.refunds.create_async(
                {"payment_intent": payment_intent, "amount": amount_fen, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            ),
        )
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
