"""The keyring over its store: a gate that syncs before any code was signed still learns a key."""

from __future__ import annotations

from typing import Any

import pytest

from backend.lib.signing_keys import SigningKeyring


class KeptInMemory:
    """A `SigningKeyStore` that keeps its rows in a list (the keyring's contract, not our database)."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    async def active(self) -> list[dict[str, Any]]:
        return sorted(self.rows, key=lambda r: r["kid"])

    async def last_kid(self) -> int | None:
        return max((r["kid"] for r in self.rows), default=None)

    async def add(self, kid: int, public_key: str, private_key_enc: str) -> None:
        self.rows.append({"kid": kid, "public_key": public_key, "private_key_enc": private_key_enc})


@pytest.mark.anyio
async def test_public_keys_of_a_new_keyring_are_never_empty() -> None:
    keyring = SigningKeyring(KeptInMemory())
    keys = await keyring.public_keys()
    assert len(keys) == 1 and keys[0]["alg"] == "ES256"
    assert (await keyring.current()).kid == keys[0]["kid"]  # the key a code is then signed with
