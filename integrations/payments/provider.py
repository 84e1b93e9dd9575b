"""What bookings need from a payment provider, and nothing more."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class LineItem:
    name: str
    unit_amount_fen: int
    quantity: int


@dataclass(frozen=True)
class CheckoutRequest:
    reservation_id: str
    line_items: list[LineItem]
    currency: str
    expires_at: datetime
    success_url: str
    cancel_url: str
    idempotency_key: str
    customer_email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # unpaid | paid | no_payment_required
    amount_total: int
    currency: str
    payment_intent: str | None
    client_reference_id: str | None
    expires_at: int


@dataclass(frozen=True)
class RefundResult:
    id: str
    status: str  # pending | succeeded | failed
    amount: int


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_id: str | None


class WebhookRejected(Exception):
    pass


class ProviderError(Exception):
    """The provider could not be reached or refused the call; nothing of ours changed."""


class PaymentProvider(Protocol):
    name: str

    async def create_checkout(self, request: CheckoutRequest) -> CheckoutSession: ...

    async def retrieve_checkout(self, session_id: str) -> CheckoutSession: ...

    async def refund(
        self, payment_intent: str, amount_fen: int, idempotency_key: str, metadata: dict[str, str]
    ) -> RefundResult: ...

    def verify_webhook(self, payload: bytes, signature_header: str | None) -> WebhookEvent: ...
