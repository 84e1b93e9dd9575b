"""The city's supervision platform (一网统管): signing both ways, and the adapter that pushes messages.

Every request, in either direction, carries `X-Gov-Timestamp: <unix seconds>` and
`X-Gov-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>` (API.md). A request more
than `TOLERANCE_S` off, unsigned or wrongly signed is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Protocol

import httpx

TOLERANCE_S = 300
TIMESTAMP_HEADER = "X-Gov-Timestamp"
SIGNATURE_HEADER = "X-Gov-Signature"


class SignatureRejected(Exception):
    """Why a signed request was refused: `reason` is `signature_required`, `invalid_signature` or
    `stale_signature`."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature(secret, ts, body),
        "Content-Type": "application/json",
    }


def verify(secret: str | None, timestamp: str | None, sig: str | None, body: bytes, now: float | None = None) -> None:
    """Raise SignatureRejected unless `sig` is the HMAC of `timestamp.body` and the timestamp is fresh."""
    if not secret:
        raise SignatureRejected("invalid_signature", "no GOV_PLATFORM_SECRET is configured: nothing is accepted")
    if not timestamp or not sig:
        raise SignatureRejected("signature_required", f"send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}")
    try:
        ts = int(timestamp)
    except ValueError:
        raise SignatureRejected("invalid_signature", f"{TIMESTAMP_HEADER} must be unix seconds") from None
    if not hmac.compare_digest(signature(secret, ts, body), sig.strip()):
        raise SignatureRejected("invalid_signature", "the signature does not match the body")
    if abs((time.time() if now is None else now) - ts) > TOLERANCE_S:
        raise SignatureRejected("stale_signature", f"the timestamp is more than {TOLERANCE_S} s off")


class GovPlatform(Protocol):
    async def deliver(self, body: bytes) -> tuple[bool, str]:
        """POST one message; (acknowledged?, a short note for the log)."""
        ...


class HttpGovPlatform:
    """The real adapter: POST `{id, type, sent_at, data}` to `<base>/v1/messages`; any 2xx acknowledges."""

    def __init__(self, base_url: str, secret: str, timeout_s: float = 10.0) -> None:
        self.url = base_url.rstrip("/") + "/v1/messages"
        self.secret = secret
        self._client = httpx.AsyncClient(timeout=timeout_s)

    async def deliver(self, body: bytes) -> tuple[bool, str]:
        try:
            res = await self._client.post(self.url, content=body, headers=signed_headers(self.secret, body))
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}"
        return 200 <= res.status_code < 300, f"HTTP {res.status_code}"

    async def close(self) -> None:
        await self._client.aclose()
