"""An `Idempotency-Key` (a booking's; a voucher claim's too): claimed before anything is written, so a replay
(or a twin request racing the first) gets the first answer, unchanged; a key reused for a different
request is a 409. The stored answer is decoded as the caller's response type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

import msgspec

from backend.lib.auth import AuthUser
from backend.lib.db import is_unique_violation
from backend.lib.personal_data import vault
from backend.lib.problems import Conflict
from backend.reservations.schemas import BookingRequest
from backend.reservations.tables import IdempotencyRecord

T = TypeVar("T")


@dataclass(frozen=True)
class Replay(Generic[T]):
    """A repeated `Idempotency-Key`: the first answer, unchanged."""

    status_code: int
    body: T


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


async def stored_answer(key: str, request_hash: str, answer: type[T]) -> Replay[T] | None:
    """The first answer to `key` (decoded as `answer`), None while there is none yet; a 409 when the key
    came with a different request."""
    record = await IdempotencyRecord.select().where(IdempotencyRecord.key == key).first()
    if record is None:
        return None
    if record["request_hash"] != request_hash:
        raise Conflict("idempotency_key_reused", "this Idempotency-Key was used for a different request")
    if record["status_code"] == 0:  # claimed by a request that has not finished
        return None
    return Replay(record["status_code"], msgspec.json.decode(record["body"], type=answer))


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


async def store_answer(claim: Claim, status_code: int, body: object) -> None:
    """Inside the write that claimed the key: the answer a replay will get."""
    await IdempotencyRecord.update(
        {IdempotencyRecord.status_code: status_code, IdempotencyRecord.body: msgspec.json.encode(body).decode()}
    ).where(IdempotencyRecord.key == claim.key)


async def replay_after_race(claim: Claim, answer: type[T]) -> Replay[T]:
    """A twin request with the same key claimed it first: answer as it did, once it has."""
    replay = await stored_answer(claim.key, claim.request_hash, answer)
    if replay is None:
        raise Conflict("idempotency_in_progress", "a request with this key is still running") from None
    return replay
