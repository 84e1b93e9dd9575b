from __future__ import annotations

from datetime import datetime

import msgspec


class CheckoutOut(msgspec.Struct):
    checkout_url: str
    session_id: str
    expires_at: datetime


class RefundOut(msgspec.Struct):
    id: str
    amount_fen: int
    status: str
    created_at: datetime | None = None


class PaymentOut(msgspec.Struct, omit_defaults=True):
    status: str
    amount_fen: int
    currency: str
    refunds: list[RefundOut]
    paid_at: datetime | None = None


class WebhookAck(msgspec.Struct):
    received: bool
    duplicate: bool = False
