"""Deadlines that act: every replica's worker (worker.py) calls `escalate_due()` every sweep interval.

An overdue case (not acknowledged by `ack_due_at`, or acknowledged and not resolved by `resolve_due_at`)
is moved to `escalated` by one conditional UPDATE that also stamps `escalated_at`, which it requires to be
empty: a case is escalated once, whichever replica gets there first (PostgreSQL: the claim's inner SELECT
skips rows another replica holds, `FOR UPDATE SKIP LOCKED`; SQLite: one writer at a time). The same
transaction writes the timeline and sends `case_changed` (escalated), whose receivers write the platform's
outbox message and the district's notifications: a crash before the commit leaves the case to be escalated
by the next sweep, after it everything is recorded. Nothing is lost, nothing is escalated twice."""

from __future__ import annotations

import logging
from typing import Any

from backend.cases.changes import case_changed, change_of, publish
from backend.cases.tables import Case, CaseEvent
from backend.lib.clock import clock
from backend.lib.db import skip_locked, write_transaction

log = logging.getLogger("changxiang.cases.deadlines")

BATCH = 50

_ESCALATE = (
    "UPDATE cases SET status = 'escalated', escalated_at = {}, updated_at = {}, "
    "escalation_reason = CASE WHEN status = 'open' THEN 'ack_overdue' ELSE 'resolve_overdue' END "
    "WHERE escalated_at IS NULL AND id IN ("
    "SELECT id FROM cases WHERE escalated_at IS NULL AND ("
    "(status = 'open' AND ack_due_at <= {}) OR (status = 'acknowledged' AND resolve_due_at <= {})"
    ") ORDER BY id LIMIT {}{skip_locked}) RETURNING id"
)


async def escalate_due(limit: int = BATCH) -> int:
    """Escalate the overdue cases (up to `limit`); returns how many this call escalated."""
    now = clock.now()
    rows: list[dict[str, Any]] = []
    async with write_transaction():
        claimed = await Case.raw(_ESCALATE.replace("{skip_locked}", skip_locked()), now, now, now, now, limit)
        ids = [int(r["id"]) for r in claimed]
        if ids:
            rows = await Case.select().where(Case.id.is_in(ids)).order_by(Case.id)
            await CaseEvent.insert(
                *[
                    CaseEvent(case_id=r["id"], action="escalated", status="escalated", by_role="system", at=now)
                    for r in rows
                ]
            )
            for r in rows:
                await case_changed.send(change_of(r, "escalated", now))
    for r in rows:
        publish("escalated", r, reason=r["escalation_reason"])
        log.warning(
            "case escalated",
            extra={
                "case": str(r["public_id"]),
                "kind": r["kind"],
                "reason": r["escalation_reason"],
                "district": r["district"],
            },
        )
    return len(rows)
