from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import State
from litestar.security.jwt import Token
from litestar.status_codes import HTTP_200_OK

from backend.lib.auth import PUBLIC, AuthUser
from backend.payments.schemas import CheckoutOut, WebhookAck
from backend.payments.services import payments


class CheckoutController(Controller):
    path = "/reservations/{reservation_id:str}/checkout"
    tags = ["payments"]

    @post("/", status_code=HTTP_200_OK)
    async def checkout(self, request: Request[AuthUser, Token, State], reservation_id: str) -> CheckoutOut:
        """Start (or resume) paying for a held booking: a Stripe Checkout session (card, Alipay, WeChat Pay)."""
        base = str(request.base_url).rstrip("/")
        return await payments.checkout(request.user, reservation_id, base)


class StripeWebhookController(Controller):
    path = "/payments/stripe/webhook"
    tags = ["payments"]

    @post("/", opt=PUBLIC, status_code=HTTP_200_OK, request_max_body_size=256 * 1024)
    async def webhook(self, request: Request[Any, Any, State]) -> WebhookAck:
        """Stripe's events, verified by `Stripe-Signature` (300 s tolerance); each event id acts once."""
        return await payments.webhook(await request.body(), request.headers.get("stripe-signature"))
