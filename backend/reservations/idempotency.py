"""A booking's `Idempotency-Key`: claimed before anything is written, so a replay (or a twin request racing
the first) gets the first answer, unchanged; a key reused for a different request is a 409."""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from backend.lib.auth import AuthUser
from backend.lib.db import is_unique_violation
from backend.lib.personal_data import vault
from backend.lib.problems import Conflict
from backend.reservations.schemas import BookingRequest, ReservationOut
from backend.reservations.tables import IdempotencyRecord


@dataclass(frozen=True)
class Replay:
    """A repeated `Idempotency-Key`: the first answer, unchanged."""

    status_code: int
    body: ReservationOut


class IdempotencyRace(Exception):
    """A twin request with the same key wrote its record first."""

    def __init__(self, claim: Claim) -> None:
        super().__init__(claim.key)
        self.claim = claim


@dataclass(frozen=True)
class Claim:
    """An `Idempotency-Key` of one user and the hash of the request it came with."""

    key: str
    request_hash: str


def claim_for(user: AuthUser, data: BookingRequest, numbers: list[str], idempotency_key: str | None) -> Claim | None:
    if not idempotency_key:
        return None
    return Claim(
        key=f"{user.id}:reservations.create:{idempotency_key}",
        request_hash=request_hash_of(data, numbers),
    )


def request_hash_of(data: BookingRequest, numbers: list[str]) -> str:
    people = [[v.name.strip(), v.id_type, n, v.ticket_type] for v, n in zip(data.visitors, numbers, strict=True)]
    canonical = msgspec.json.encode([data.slot_id, data.waitlist, people, data.performance_id, data.hold_id, data.zone])
    return vault().fingerprint(canonical.decode())


async def stored_answer(key: str, request_hash: str) -> Replay | None:
    record = await IdempotencyRecord.select().where(IdempotencyRecord.key == key).first()
    if record is None:
        return None
    if record["request_hash"] != request_hash:
        raise Conflict("idempotency_key_reused", "this Idempotency-Key was used for a different request")
    if record["status_code"] == 0:  # claimed by a request that has not finished
        return None
    return Replay(record["status_code"], msgspec.json.decode(record["body"], type=ReservationOut))


async def claim_key(claim: Claim) -> None:
    """Write the key's record before anything else; a twin that wrote it first makes this a race."""
    try:
        await IdempotencyRecord.insert(
            IdempotencyRecord(key=claim.key, request_hash=claim.request_hash, status_code=0, body="")
        )
    except Exception as exc:
        if is_unique_violation(exc):
            raise IdempotencyRace(claim) from None
        raise


async def replay_after_race(claim: Claim) -> Replay:
    """A twin request with the same key claimed it first: answer as it did, once it has."""
    replay = await stored_answer(claim.key, claim.request_hash)
    if replay is None:
        raise Conflict("idempotency_in_progress", "a request with this key is still running") from None
    return replay
