"""The audit log: append one hash-chained entry per privileged action, verify the chain, prune it.

Appends are serialised so the chain has one order: SQLite's write transaction (`BEGIN IMMEDIATE`)
already admits one writer at a time; on PostgreSQL every append first takes the transaction-scoped
advisory lock `AUDIT_LOCK_KEY`, then reads the head and inserts the next row.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from backend.audit.tables import AuditAnchor, AuditEntry
from backend.lib.clock import clock
from backend.lib.db import take_turns, write_transaction
from backend.lib.problems import InvalidInput

log = logging.getLogger("changxiang.audit")

GENESIS_HASH = "0" * 64
AUDIT_LOCK_KEY = 0x6378_6175_6469_74  # "cxaudit": any constant other advisory locks don't use
RETENTION_DAYS = 180


class AuditEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What is recorded: who (actor, roles), what (action), which object, from where, the result."""

    actor_id: int | None
    actor_roles: str
    action: str
    object: str
    client: str
    status: int
    request_id: str = ""


class ChainProblem(msgspec.Struct, frozen=True):
    seq: int
    row_id: int | None
    problem: str


class VerifyReport(msgspec.Struct, frozen=True, kw_only=True):
    rows: int
    first_seq: int | None
    head_seq: int | None
    head_hash: str | None
    problems: list[ChainProblem]

    @property
    def ok(self) -> bool:
        return not self.problems


class PruneReport(msgspec.Struct, frozen=True, kw_only=True):
    deleted: int
    anchor_seq: int | None


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers: every recorded column and the previous row's hash, in one fixed
    JSON form (sorted keys, no spaces, UTF-8)."""
    doc = {
        "seq": int(row["seq"]),
        "at": _iso(row["at"]),
        "actor_id": row["actor_id"],
        "actor_roles": row["actor_roles"],
        "action": row["action"],
        "object": row["object"],
        "client": row["client"],
        "status": int(row["status"]),
        "request_id": row["request_id"],
        "prev_hash": row["prev_hash"],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def row_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def object_json(params: Mapping[str, object]) -> str:
    return json.dumps({k: params[k] for k in sorted(params)}, ensure_ascii=False, separators=(",", ":"), default=str)


async def _lock_chain() -> None:
    await take_turns(AUDIT_LOCK_KEY)


async def _head() -> tuple[int, str]:
    """(seq, hash) of the newest entry, or of the anchor when pruning left none, or the genesis."""
    last = await AuditEntry.select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq, ascending=False).first()
    if last is not None:
        return int(last["seq"]), last["hash"]
    anchors = await AuditAnchor.select(AuditAnchor.seq, AuditAnchor.hash).order_by(AuditAnchor.seq, ascending=False)
    anchor = anchors[0] if anchors else None
    return (int(anchor["seq"]), anchor["hash"]) if anchor else (0, GENESIS_HASH)


class AuditLog:
    """Appends go through a group commit: while one transaction appends, the entries that arrive meanwhile
    queue up and the next transaction appends them all (one lock, one head read, one INSERT). Each
    caller still returns only once its own entry is committed."""

    def __init__(self) -> None:
        self._queues: dict[
            asyncio.AbstractEventLoop, tuple[list[tuple[AuditEvent, asyncio.Future[int]]], asyncio.Lock]
        ] = {}

    async def _append_locked(self, event: AuditEvent) -> int:
        return (await self._append_many_locked([event]))[0]

    async def _append_many_locked(self, events: list[AuditEvent]) -> list[int]:
        seq, prev = await _head()
        now = clock.now()
        rows = []
        for event in events:
            seq += 1
            row = {**msgspec.structs.asdict(event), "seq": seq, "at": now, "prev_hash": prev}
            row["hash"] = prev = row_hash(row)
            rows.append(AuditEntry(**row))
        await AuditEntry.insert(*rows)
        return [r.seq for r in rows]

    async def record(self, event: AuditEvent) -> int:
        """Append `event` as the chain's next entry (committed when this returns); returns its seq."""
        loop = asyncio.get_running_loop()
        pending, lock = self._queues.setdefault(loop, ([], asyncio.Lock()))
        mine: asyncio.Future[int] = loop.create_future()
        pending.append((event, mine))
        async with lock:
            if not mine.done():  # nobody took it yet: this caller commits everything queued
                batch = pending[:]
                del pending[:]
                try:
                    async with write_transaction():
                        await _lock_chain()
                        seqs = await self._append_many_locked([e for e, _ in batch])
                except BaseException as exc:
                    for _, waiter in batch:
                        if waiter is not mine and not waiter.done():
                            waiter.set_exception(RuntimeError(f"audit append failed: {exc!r}"))
                    raise
                for (_, waiter), seq in zip(batch, seqs, strict=True):
                    waiter.set_result(seq)
        return await mine

    async def verify(self, batch: int = 1000) -> VerifyReport:
        """Walk the chain from its anchor (or the genesis): every row must follow the one before it
        (seq + 1, prev_hash = that row's hash) and hash to its stored hash."""
        anchors = await AuditAnchor.select(AuditAnchor.seq, AuditAnchor.hash).order_by(AuditAnchor.seq, ascending=False)
        expected_seq, prev = (int(anchors[0]["seq"]) + 1, anchors[0]["hash"]) if anchors else (1, GENESIS_HASH)
        problems: list[ChainProblem] = []
        rows = 0
        first_seq: int | None = None
        last_seq = -(2**62)
        head_hash: str | None = None
        while True:
            page = (
                await AuditEntry.select(*AuditEntry.all_columns())
                .where(AuditEntry.seq > last_seq)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            if not page:
                break
            for row in page:
                seq = int(row["seq"])
                rows += 1
                first_seq = seq if first_seq is None else first_seq
                if seq != expected_seq:
                    missing = f"{expected_seq}" if seq == expected_seq + 1 else f"{expected_seq}–{seq - 1}"
                    problems.append(
                        ChainProblem(expected_seq, None, f"entry seq {missing} deleted (the chain jumps to {seq})")
                    )
                name = f"entry seq {seq} (id {row['id']})"
                if row["prev_hash"] != prev:
                    problems.append(ChainProblem(seq, row["id"], f"{name} does not follow the entry before it"))
                if row_hash(row) != row["hash"]:
                    problems.append(ChainProblem(seq, row["id"], f"{name} was edited: its hash does not match"))
                prev = row["hash"]
                expected_seq = seq + 1
                last_seq = seq
                head_hash = row["hash"]
        return VerifyReport(
            rows=rows,
            first_seq=first_seq,
            head_seq=last_seq if rows else None,
            head_hash=head_hash,
            problems=problems,
        )

    async def prune(self, before: datetime, *, now: datetime | None = None, client: str = "cli") -> PruneReport:
        """Delete entries older than `before` (which must be at least RETENTION_DAYS ago), moving the
        anchor to the last deleted entry so the rest still verifies, and record the prune itself."""
        now = now or clock.now()
        if before.tzinfo is None:
            raise InvalidInput("invalid_before", "give --before with a time zone (or a date)", field="before")
        if before > now - timedelta(days=RETENTION_DAYS):
            raise InvalidInput(
                "retention_too_short",
                f"audit entries are kept at least {RETENTION_DAYS} days: --before must be on or before "
                f"{(now - timedelta(days=RETENTION_DAYS)).date().isoformat()}",
                field="before",
            )
        async with write_transaction():
            await _lock_chain()
            last = (
                await AuditEntry.select(AuditEntry.seq, AuditEntry.hash)
                .where(AuditEntry.at < before)
                .order_by(AuditEntry.seq, ascending=False)
                .first()
            )
            if last is None:
                return PruneReport(deleted=0, anchor_seq=None)
            deleted = await AuditEntry.count().where(AuditEntry.seq <= last["seq"])
            await AuditAnchor.insert(
                AuditAnchor(seq=last["seq"], hash=last["hash"], pruned_before=before, pruned_at=now)
            )
            await AuditEntry.delete().where(AuditEntry.seq <= last["seq"])
            await self._append_locked(
                AuditEvent(
                    actor_id=None,
                    actor_roles="",
                    action="audit.prune",
                    object=object_json({"before": before.isoformat(), "through_seq": last["seq"], "deleted": deleted}),
                    client=client,
                    status=0,
                )
            )
        log.info("audit log pruned", extra={"deleted": deleted, "through_seq": last["seq"]})
        return PruneReport(deleted=deleted, anchor_seq=int(last["seq"]))

    async def entries(self, *, limit: int = 50, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
        rows = (
            await AuditEntry.select(*AuditEntry.all_columns())
            .order_by(AuditEntry.seq, ascending=False)
            .limit(limit)
            .offset(offset)
        )
        return rows, await AuditEntry.count()


audit_log = AuditLog()
