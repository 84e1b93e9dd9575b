"""An account's verified real name (`PUT /me/identity`): what vouchers and cards are bound to.

The number is checked as bookings check their visitors' (backend/lib/id_documents.py), encrypted at rest
and masked when read back; the keyed HMAC of `"<id_type>:<number>"` (the same fingerprint bookings use)
is what the rest of the system sees. One identity per account: a second, different one is refused
(`identity_already_set`), or one person could claim a voucher, switch names and claim again. One account
per identity: a unique index on the fingerprint (`identity_taken`). Setting the same identity again
answers as the first time.
"""

from __future__ import annotations

import logging
from typing import Any

from backend.accounts.schemas import IdentityIn, IdentityOut
from backend.accounts.tables import Identity
from backend.lib.auth import AuthUser
from backend.lib.clock import CITY_TZ, clock
from backend.lib.db import is_unique_violation
from backend.lib.id_documents import is_valid_id_number, normalise_id_number
from backend.lib.personal_data import mask_id_number, mask_name, vault
from backend.lib.problems import Conflict, InvalidInput, NotFound

log = logging.getLogger("changxiang.accounts")


def _out(row: dict[str, Any]) -> IdentityOut:
    return IdentityOut(
        name_masked=row["name_masked"],
        id_type=row["id_type"],
        id_number_masked=row["id_number_masked"],
        verified_at=row["verified_at"].astimezone(CITY_TZ),
    )


def identity_fingerprint_of(id_type: str, number: str) -> str:
    """The keyed HMAC that stands for a person (bookings' visitor fingerprint, the same value)."""
    return vault().fingerprint(f"{id_type}:{normalise_id_number(number)}")


async def set_identity(user: AuthUser, data: IdentityIn) -> IdentityOut:
    number = normalise_id_number(data.id_number)
    if not is_valid_id_number(data.id_type, number):
        raise InvalidInput("invalid_id_number", f"the {data.id_type} number is not valid", field="id_number")
    name = data.name.strip()
    if not name:
        raise InvalidInput("invalid_name", "name is empty", field="name")
    fingerprint = identity_fingerprint_of(data.id_type, number)
    current = await Identity.select().where(Identity.user_id == user.id).first()
    if current is not None:
        if current["fingerprint"] == fingerprint:
            return _out(current)
        raise Conflict("identity_already_set", "this account already has a verified identity")
    box = vault()
    try:
        await Identity.insert(
            Identity(
                user_id=user.id,
                fingerprint=fingerprint,
                id_type=data.id_type,
                name_enc=box.encrypt(name, "identity.name"),
                name_masked=mask_name(name),
                id_number_enc=box.encrypt(number, "identity.id_number"),
                id_number_masked=mask_id_number(data.id_type, number),
                verified_at=clock.now(),
            )
        )
    except Exception as exc:
        if not is_unique_violation(exc):
            raise
        again = await Identity.select().where(Identity.user_id == user.id).first()
        if again is not None and again["fingerprint"] == fingerprint:  # a twin request of the same account
            return _out(again)
        if again is not None:
            raise Conflict("identity_already_set", "this account already has a verified identity") from None
        raise Conflict("identity_taken", "this identity is already verified on another account") from None
    log.info("identity verified", extra={"user_id": user.id, "id_type": data.id_type})
    row = await Identity.select().where(Identity.user_id == user.id).first()
    if row is None:  # written just above; identities are never deleted
        raise LookupError(f"no identity for user {user.id}")
    return _out(row)


async def get_identity(user: AuthUser) -> IdentityOut:
    row = await Identity.select().where(Identity.user_id == user.id).first()
    if row is None:
        raise NotFound("identity_not_found", "no verified identity on this account: PUT /me/identity")
    return _out(row)


async def identity_fingerprint(user_id: int) -> str | None:
    """The fingerprint of an account's verified identity, or None."""
    row = await Identity.select(Identity.fingerprint).where(Identity.user_id == user_id).first()
    return None if row is None else str(row["fingerprint"])
