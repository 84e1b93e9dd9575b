"""The keys that sign pass codes and device certificates: lib's keyring (crypto and caching) over the
`signing_keys` table, so every replica signs with the same keys."""

from __future__ import annotations

from typing import Any

from backend.lib.signing_keys import SigningKeyring
from backend.passes.tables import SigningKey


class SigningKeyTable:
    """`lib.signing_keys.SigningKeyStore` on the `signing_keys` table."""

    async def active(self) -> list[dict[str, Any]]:
        return await SigningKey.select().where(SigningKey.retired_at.is_null()).order_by(SigningKey.kid)

    async def last_kid(self) -> int | None:
        last = await SigningKey.select(SigningKey.kid).order_by(SigningKey.kid, ascending=False).first()
        return last["kid"] if last else None

    async def add(self, kid: int, public_key: str, private_key_enc: str) -> None:
        await SigningKey.insert(SigningKey(kid=kid, public_key=public_key, private_key_enc=private_key_enc))


keyring = SigningKeyring(SigningKeyTable())
