"""The durable outbox to the supervision platform and the worker that drains it.

A message is a row written where the event happens (`enqueue`), carrying the exact JSON body
`{id, type, sent_at, data}` that will be POSTed. The drainer claims due rows by moving their lease
forward in one statement (`lib.db.skip_locked`: replicas never claim the same row), POSTs each, and
marks it sent on a 2xx or schedules the next try with exponential back-off. A server that stops
mid-send leaves a lease that expires, so another drainer (or the same server restarted) picks the row
up: nothing is lost; a message acknowledged is never claimed again. Delivery is at least once; the
platform deduplicates by `id`.
"""

from __future__ import annotations

import logging
import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import msgspec

from backend.governance.tables import OutboxMessage
from backend.lib.clock import clock
from backend.lib.db import skip_locked
from backend.settings import get_settings
from integrations.gov_platform import GovPlatform

log = logging.getLogger("changxiang.governance.outbox")

MESSAGE_TYPES = ("occupancy", "daily_visitors", "incident", "case")
BATCH = 50


def utc_now() -> datetime:
    return clock.now()


async def enqueue(type_: str, data: dict[str, Any], dedup_key: str | None = None) -> bool:
    """Write one message; a `dedup_key` seen before writes nothing (replicas enqueue periodic messages
    at once and only one row survives). True when a row was written."""
    message_id = str(uuid.uuid4())
    now = utc_now()
    body = msgspec.json.encode({"id": message_id, "type": type_, "sent_at": now.isoformat(), "data": data}).decode()
    rows = (
        await OutboxMessage.insert(
            OutboxMessage(
                message_id=message_id,
                dedup_key=dedup_key or f"{type_}:{message_id}",
                type=type_,
                body=body,
                next_attempt_at=now,
            )
        )
        .on_conflict(target=OutboxMessage.dedup_key, action="DO NOTHING")
        .returning(OutboxMessage.id)
    )
    return bool(rows)


_CLAIM = (
    "UPDATE gov_outbox SET leased_until = {}, attempts = attempts + 1 WHERE id IN ("
    "SELECT id FROM gov_outbox WHERE sent_at IS NULL AND next_attempt_at <= {} "
    "AND (leased_until IS NULL OR leased_until < {}) ORDER BY id LIMIT {}{skip_locked}) "
    "RETURNING id, message_id, body, attempts"
)


async def claim(limit: int = BATCH) -> list[dict[str, Any]]:
    """Lease up to `limit` due messages to this drainer, oldest first."""
    now = utc_now()
    lease = now + timedelta(seconds=get_settings().gov_lease_s)
    rows = await OutboxMessage.raw(_CLAIM.replace("{skip_locked}", skip_locked()), lease, now, now, limit)
    return sorted(rows, key=lambda r: r["id"])


def backoff_s(attempts: int) -> float:
    settings = get_settings()
    delay = min(settings.gov_retry_max_s, settings.gov_retry_base_s * float(2 ** max(0, attempts - 1)))
    return delay * random.uniform(0.8, 1.0)


async def drain_once(platform: GovPlatform) -> tuple[int, int]:
    """Claim and deliver one batch: (delivered, failed). A failure leaves the rest of the batch to its
    own back-off, so one outage doesn't fire a burst of doomed requests."""
    delivered = failed = 0
    batch = await claim()
    for i, row in enumerate(batch):
        ok, note = await platform.deliver(row["body"].encode())
        now = utc_now()
        if ok:
            await OutboxMessage.update({OutboxMessage.sent_at: now, OutboxMessage.leased_until: None}).where(
                OutboxMessage.id == row["id"]
            )
            delivered += 1
            continue
        failed += 1
        retry_at = now + timedelta(seconds=backoff_s(row["attempts"]))
        rest = [r["id"] for r in batch[i:]]
        await OutboxMessage.update(
            {OutboxMessage.next_attempt_at: retry_at, OutboxMessage.leased_until: None, OutboxMessage.last_error: note}
        ).where(OutboxMessage.id.is_in(rest))
        log.warning(
            "platform push failed",
            extra={"outbox_message": row["message_id"], "attempts": row["attempts"], "why": note},
        )
        break
    return delivered, failed


async def pending_count() -> int:
    n: int = await OutboxMessage.count().where(OutboxMessage.sent_at.is_null())
    return n


def period_key(period_s: float, now: float | None = None) -> int:
    return int((clock.time() if now is None else now) // max(period_s, 0.001))
