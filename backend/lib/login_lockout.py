"""Login lock-out: after `login_lockout_failures` wrong passwords for one account within the lock-out
period, that account refuses every login (even the right password) until the period has passed.

Counted in the shared `auth` store (Redis when configured), so every replica agrees. Keys carry a hash
of the normalised email, never the email itself. A successful login clears the count.
"""

from __future__ import annotations

import hashlib
import time

from litestar.stores.base import Store

from backend.lib.problems import DomainError
from backend.lib.rate_limits import count_hit


class AccountLocked(DomainError):
    status = 429


def _key(kind: str, email: str) -> str:
    return f"login-{kind}:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]}"


class LoginLockout:
    def __init__(self, store: Store, failures: int, lockout_s: int) -> None:
        self.store = store
        self.failures = failures
        self.lockout_s = lockout_s

    async def check(self, email: str) -> None:
        """Raise `account_locked` (429, Retry-After) while the account is locked."""
        until = await self.store.get(_key("locked", email))
        if until is None:
            return
        retry_after = max(1, int(float(until) - time.time()))
        raise AccountLocked(
            "account_locked",
            "too many wrong passwords for this account; try again later",
            retry_after=retry_after,
        )

    async def failed(self, email: str) -> None:
        if await count_hit(self.store, _key("failures", email), self.lockout_s) >= self.failures:
            until = time.time() + self.lockout_s
            await self.store.set(_key("locked", email), str(until), expires_in=self.lockout_s)
            await self.store.delete(_key("failures", email))

    async def succeeded(self, email: str) -> None:
        await self.store.delete(_key("failures", email))
