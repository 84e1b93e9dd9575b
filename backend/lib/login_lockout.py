"""Login lock-out: at most `login_lockout_failures` password checks per account between two successful
logins; past that, the account refuses every login (even the right password) until no attempt has come
for the lock-out period.

The attempt is counted *before* the password is looked at, in one atomic increment (Redis `INCR` in the
shared `auth` store, so every replica agrees; in-process under a lock otherwise): a hundred guesses sent
at once, from a hundred addresses, still get only `failures` password checks between them, and the
rest are refused with 429 `account_locked`. A successful login clears the count. Keys carry a hash of
the normalised email, never the email itself; unknown emails are counted the same way, so the lock-out
does not tell which accounts exist.

While Redis is unreachable the count is kept in this process instead (each replica then allows its own
`failures` checks): logins go on, and guessing stays bounded.
"""

from __future__ import annotations

import hashlib
import logging

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from backend.lib.problems import DomainError
from backend.lib.rate_limits import count_hit
from backend.lib.stores import STORE_UNAVAILABLE

log = logging.getLogger("changxiang.auth")

_fallback = MemoryStore()  # the count while the shared store is unreachable


class AccountLocked(DomainError):
    status = 429


def _key(email: str, prefix: str = "login-attempts") -> str:
    return f"{prefix}:{hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]}"


class LoginLockout:
    """`prefix`, `code` and `detail` let another secret share the rule: phone sign-in counts wrong SMS codes
    per phone with `prefix="sms-attempts"`, refused as `phone_locked` (backend/accounts/phone.py)."""

    def __init__(
        self,
        store: Store,
        failures: int,
        lockout_s: int,
        *,
        prefix: str = "login-attempts",
        code: str = "account_locked",
        detail: str = "too many wrong passwords for this account; try again later",
    ) -> None:
        self.store = store
        self.failures = failures
        self.lockout_s = lockout_s
        self.prefix = prefix
        self.code = code
        self.detail = detail

    def _key(self, email: str) -> str:
        return _key(email, self.prefix)

    async def locked(self, email: str) -> bool:
        """Whether `email` has used its attempts (read only: nothing is counted)."""
        try:
            raw = await self.store.get(self._key(email))
        except STORE_UNAVAILABLE:
            raw = await _fallback.get(self._key(email))
        return int(raw or 0) >= self.failures

    async def attempt(self, email: str) -> None:
        """Count one login attempt for `email`, before its password is checked; raise `account_locked`
        (429, Retry-After) when the account has used its attempts. Each counted attempt keeps the lock
        for another lock-out period."""
        try:
            count = await count_hit(self.store, self._key(email), self.lockout_s)
        except STORE_UNAVAILABLE:
            log.warning("login attempt counted in this process only: Redis unavailable")
            count = await count_hit(_fallback, self._key(email), self.lockout_s)
        if count > self.failures:
            raise AccountLocked(self.code, self.detail, retry_after=self.lockout_s)

    async def succeeded(self, email: str) -> None:
        """The right password: the account's count starts again."""
        await _fallback.delete(self._key(email))
        try:
            await self.store.delete(self._key(email))
        except STORE_UNAVAILABLE:
            log.warning("login attempts not cleared: Redis unavailable")
