"""Refunds, owed and made exactly once.

A refund is owed the moment a booking ends with money paid for it: `owe_refund` writes a `pending` row
inside the transaction that ends the booking (or, for money that came for seats already gone, the one that
records the payment), so no failure after it can lose the debt. The refund is then asked of the provider at
once (`settle`); a provider that fails leaves the row pending for the sweeper (`settle_due`, every replica),
which retries it with back-off until the provider confirms. Whoever asks first claims the row with a lease
(one conditional UPDATE; `lib.db.skip_locked` for the sweeper's batch), so replicas and the request never
ask at once, and every ask carries the same `Idempotency-Key: refund-<public_id>` (the row's uuid, unique
across deployments sharing one Stripe account): a retry after a lost answer gets the first refund back, not
a second one.

The provider is passed in as a callable (`PaymentService._raw_provider`): asking it may itself fail (payments
not configured, a 503 `DomainError`), which leaves the refund owed like any other failure.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import skip_locked, write_transaction
from backend.lib.problems import DomainError
from backend.payments.schemas import RefundOut
from backend.payments.tables import Payment, Refund
from integrations.payments.provider import PaymentProvider, ProviderError

log = logging.getLogger("changxiang.payments")

# An owed refund is leased to one asker for longer than one call to the provider can take (10 s, with the
# library's two retries and their pauses); an asker that dies leaves a lease that runs out.
REFUND_LEASE = timedelta(seconds=120)
REFUND_RETRY_BASE_S = 30.0
REFUND_RETRY_MAX_S = 3600.0
REFUND_BATCH = 20

_CLAIM_DUE = (
    "UPDATE refunds SET leased_until = {}, attempts = attempts + 1 WHERE id IN ("
    "SELECT id FROM refunds WHERE provider_refund_id IS NULL AND next_attempt_at <= {} "
    "AND (leased_until IS NULL OR leased_until < {}) ORDER BY id LIMIT {}{skip_locked}) "
    "RETURNING id, payment, public_id, amount_fen, reason, attempts"
)

ProviderSource = Callable[[], PaymentProvider]


async def owe_refund(reservation_id: int, reason: str) -> int | None:
    """Inside the caller's write transaction: record a full refund of the booking's paid payment as
    owed (`pending`), once per reason. The refund's id, or None when nothing was paid."""
    paid = (
        await Payment.select(Payment.id, Payment.amount_fen)
        .where((Payment.reservation == reservation_id) & (Payment.status == "paid"))
        .first()
    )
    if paid is None:
        return None
    return await owe(paid["id"], paid["amount_fen"], reason)


async def owe(payment_id: int, amount_fen: int, reason: str) -> int:
    """Inside the caller's write transaction: record `amount_fen` of the payment as owed back, once per
    reason. The refund's id (the existing one when it was owed already)."""
    rows = (
        await Refund.insert(
            Refund(
                payment=payment_id,
                public_id=uuid.uuid4(),
                amount_fen=amount_fen,
                reason=reason,
                status="pending",
                # the request that owes it asks first; the sweeper only if that request dies
                next_attempt_at=clock.now() + REFUND_LEASE,
            )
        )
        .on_conflict(target=(Refund.payment, Refund.reason), action="DO NOTHING")
        .returning(Refund.id)
    )
    if rows:
        log.info("refund owed", extra={"payment": payment_id, "reason": reason, "amount_fen": amount_fen})
        return int(rows[0]["id"])
    existing = await Refund.select(Refund.id).where((Refund.payment == payment_id) & (Refund.reason == reason)).first()
    if existing is None:  # the conflict was with this very row: refunds are never deleted
        raise LookupError(f"no refund of payment {payment_id} for {reason!r}")
    return int(existing["id"])


async def refund_reservations(
    reservation_ids: list[int], reason: str, provider: ProviderSource
) -> dict[int, RefundOut]:
    """Give back what was paid for each booking, once per reason: owed (if the caller's transaction has not
    owed it already), then asked of the provider now. Bookings with nothing paid are left out; a refund the
    provider could not make yet is answered `pending` (the sweeper makes it), never an error. After the
    first refund the provider fails, the rest are not asked now (a provider that is down would hold the
    request for a timeout each): they are due to the sweeper at once."""
    owed: dict[int, int] = {}
    for reservation_id in reservation_ids:
        refund_id = await _owed_for(reservation_id, reason)
        if refund_id is None:
            async with write_transaction():
                refund_id = await owe_refund(reservation_id, reason)
        if refund_id is not None:
            owed[reservation_id] = refund_id
    provider_failed = False
    out: dict[int, RefundOut] = {}
    for reservation_id, refund_id in owed.items():
        if provider_failed:
            await Refund.update({Refund.next_attempt_at: clock.now()}).where(
                (Refund.id == refund_id) & Refund.provider_refund_id.is_null()
            )
        elif await settle(refund_id, provider) is False:
            provider_failed = True
        out[reservation_id] = await _refund_view(refund_id)
    return out


async def _owed_for(reservation_id: int, reason: str) -> int | None:
    row = (
        await Refund.select(Refund.id)
        .where((Refund.payment.reservation == reservation_id) & (Refund.reason == reason))
        .first()
    )
    return int(row["id"]) if row else None


async def settle(refund_id: int, provider: ProviderSource) -> bool | None:
    """Ask the provider for one owed refund, if no one else is asking (a lease): True when the provider
    made it, False when it failed (the row stays pending, due again after a back-off), None when there
    was nothing to ask (made already, or another replica holds it)."""
    now = clock.now()
    claimed = (
        await Refund.update({Refund.leased_until: now + REFUND_LEASE, Refund.attempts: Refund.attempts + 1})
        .where(
            (Refund.id == refund_id)
            & Refund.provider_refund_id.is_null()
            & (Refund.leased_until.is_null() | (Refund.leased_until < now))
        )
        .returning(Refund.id, Refund.payment, Refund.public_id, Refund.amount_fen, Refund.reason, Refund.attempts)
    )
    if not claimed:
        return None
    return await _ask(claimed[0], provider)


async def settle_due(provider: ProviderSource, limit: int = REFUND_BATCH) -> int:
    """The sweeper's pass (every replica): claim owed refunds that are due and ask the provider for each;
    stop at the first failure (the rest keep their own back-off). How many were made."""
    now = clock.now()
    claim = _CLAIM_DUE.replace("{skip_locked}", skip_locked())
    rows = sorted(await Refund.raw(claim, now + REFUND_LEASE, now, now, limit), key=lambda r: r["id"])
    made = 0
    for i, row in enumerate(rows):
        ok = await _ask(row, provider)
        if ok:
            made += 1
            continue
        rest = [r["id"] for r in rows[i + 1 :]]
        if rest:  # give back the leases of the batch not asked, without counting an attempt
            await Refund.update({Refund.leased_until: None, Refund.attempts: Refund.attempts - 1}).where(
                Refund.id.is_in(rest) & Refund.provider_refund_id.is_null()
            )
        break
    return made


async def _ask(row: dict[str, Any], provider: ProviderSource) -> bool:
    """Ask the provider for a claimed refund, then record what it said. True when it was made."""
    refund_id, payment_id = row["id"], row["payment"]
    payment = await Payment.select(Payment.payment_intent, Payment.amount_fen).where(Payment.id == payment_id).first()
    if payment is None or payment["payment_intent"] is None:  # paid rows always have both
        raise LookupError(f"refund {refund_id}: payment {payment_id} has no payment intent")
    try:
        result = await provider().refund(
            payment["payment_intent"],
            row["amount_fen"],
            idempotency_key=f"refund-{row['public_id']}",
            metadata={"reason": row["reason"], "refund_id": str(row["public_id"])},
        )
    except (ProviderError, DomainError) as exc:  # DomainError: payments not configured (503)
        retry_at = clock.now() + timedelta(seconds=refund_backoff_s(int(row["attempts"])))
        await Refund.update(
            {Refund.leased_until: None, Refund.next_attempt_at: retry_at, Refund.last_error: str(exc)[:300]}
        ).where(Refund.id == refund_id)
        log.warning(
            "refund failed; owed, retried later",
            extra={"refund": str(row["public_id"]), "attempts": row["attempts"], "retry_at": retry_at.isoformat()},
        )
        return False
    async with write_transaction():
        await Refund.update(
            {
                Refund.provider_refund_id: result.id,
                Refund.status: result.status,
                Refund.amount_fen: result.amount,
                Refund.leased_until: None,
                Refund.next_attempt_at: None,
                Refund.last_error: None,
            }
        ).where(Refund.id == refund_id)
        made = await Refund.select(Refund.amount_fen).where(
            (Refund.payment == payment_id) & Refund.provider_refund_id.is_not_null()
        )
        refunded = sum(r["amount_fen"] for r in made)
        await Payment.update(
            {Payment.status: "refunded" if refunded >= payment["amount_fen"] else "partially_refunded"}
        ).where(Payment.id == payment_id)
    log.info(
        "refund",
        extra={
            "refund": str(row["public_id"]),
            "payment": payment_id,
            "reason": row["reason"],
            "amount_fen": result.amount,
        },
    )
    return True


async def _refund_view(refund_id: int) -> RefundOut:
    row = await Refund.select().where(Refund.id == refund_id).first()
    if row is None:  # refunds are never deleted
        raise LookupError(f"no refund {refund_id}")
    return refund_out(row)


def refund_out(row: dict[str, Any]) -> RefundOut:
    """A refund as the visitor sees it: the provider's refund id once it made it; while it is owed, our
    own id of it (`public_id`) and `status: "pending"`."""
    return RefundOut(
        row["provider_refund_id"] or str(row["public_id"]),
        row["amount_fen"],
        row["status"],
        row["created_at"].astimezone(CITY_TZ),
    )


def refund_backoff_s(attempts: int) -> float:
    """Seconds before an owed refund is asked again after `attempts` failed asks: 30 s doubling to 1 h."""
    delay = min(REFUND_RETRY_MAX_S, REFUND_RETRY_BASE_S * float(2 ** max(0, attempts - 1)))
    return delay * random.uniform(0.8, 1.0)
