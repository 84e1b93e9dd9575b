"""Abuse limits on the endpoints worth abusing: login, registration, booking and scanning, per client
address and (once the caller is known) per account, counted in the `rate_limit` store (Redis when
configured, so every replica counts together). The numbers are settings (`CHANGXIANG_*_LIMIT_*`), so a
benchmark can raise them; docs/security.md lists them.

Counting is a fixed one-minute window: one counter per (limit, who, minute), incremented atomically
(Redis `INCR`; in-process under a lock). Over the limit: 429 problem+json `rate_limited` with
`Retry-After` = seconds to the next window.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import msgspec
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException
from litestar.stores.base import StorageObject, Store
from litestar.stores.memory import MemoryStore
from litestar.types import ASGIApp, HTTPResponseStartEvent, Receive, Scope, Send

from backend.lib.auth import REVOCATION_PENDING, revocation_key
from backend.lib.clock import clock
from backend.lib.problems import PROBLEM_TYPE_BASE
from backend.lib.stores import STORE_UNAVAILABLE, CountingRedisStore
from backend.settings import Settings

WINDOW_S = 60

# (method, route template) → the limit it counts against
LIMITED_ROUTES: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/auth/login"): "login",
    ("POST", "/api/v1/auth/register"): "register",
    ("POST", "/api/v1/auth/sms-code"): "sms",
    ("POST", "/api/v1/reservations"): "booking",
    ("POST", "/api/v1/plans/{plan_id:str}/book"): "booking",
    ("POST", "/api/v1/scans"): "scan",
    ("POST", "/api/v1/scans/batch"): "scan",
    ("POST", "/api/v1/campaigns/{campaign_id:int}/claim"): "claim",
    ("POST", "/api/v1/campaigns/{campaign_id:int}/apply"): "claim",
    ("POST", "/api/v1/campaigns/{campaign_id:int}/claim-ticket"): "claim",
    ("POST", "/api/v1/redemptions"): "scan",
}


def _without_converters(path: str) -> str:
    """`/plans/{plan_id:str}/book` → `/plans/{plan_id}/book`: a route's path as the router's scope has it
    (`path_template`)."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", path)


_BY_TEMPLATE = {(method, _without_converters(path)): name for (method, path), name in LIMITED_ROUTES.items()}


def limit_of(method: str, path: str) -> str | None:
    """The limit a request counts against, from a route's path with or without its converters (worked
    out once per route: every POST asks, twice)."""
    key = (method, path)
    if key not in _limit_of_path:
        _limit_of_path[key] = _BY_TEMPLATE.get((method, _without_converters(path)))
    return _limit_of_path[key]


_limit_of_path: dict[tuple[str, str], str | None] = {}  # grows with the app's routes only (path templates)


def limits_for(settings: Settings, name: str) -> tuple[int | None, int | None]:
    """(per address, per account) requests a minute for limit `name`; None = not limited that way.
    Login's per-account protection is the lock-out (backend/lib/login_lockout.py): the account is in
    the body, not known to a middleware."""
    if name in ("login", "register"):
        return settings.auth_rate_limit_per_minute, None
    if name == "sms":  # per phone: the resend gap and daily cap of backend/accounts/phone.py
        return settings.sms_limit_per_address, None
    if name == "booking":
        return settings.booking_limit_per_address, settings.booking_limit_per_account
    if name == "claim":  # vouchers: per account only; a release minute puts whole carriers' NATs on one address
        return None, settings.booking_limit_per_account
    return settings.scan_limit_per_address, settings.scan_limit_per_account


_memory_locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}


async def count_hits(store: Store, keys: list[str], expires_in: int) -> list[int]:
    """Add one to each counter in `keys` (made with `expires_in` seconds to live) and return the new
    values: one round trip to Redis whatever the number of keys."""
    counts = await count_hits_unless(store, keys, expires_in, None)
    assert counts is not None
    return counts


async def count_hits_unless(
    store: Store, keys: list[str], expires_in: int, unless: tuple[Store, str] | None
) -> list[int] | None:
    """`count_hits`, unless the key `unless` names (a store and its key) exists: then None, and nothing
    counted. On Redis the check and the counts are one round trip (one script)."""
    if isinstance(store, CountingRedisStore):
        if unless is None:
            return await store.incr_many(keys, expires_in)
        if isinstance(unless[0], CountingRedisStore):
            return await store.incr_many(keys, expires_in, unless[0].full_key(unless[1]))
    if unless is not None and await unless[0].exists(unless[1]):
        return None
    if isinstance(store, MemoryStore):
        return _count_in_memory(store, keys, expires_in)
    loop = asyncio.get_running_loop()
    lock = _memory_locks.setdefault(loop, asyncio.Lock())
    out = []
    async with lock:
        for key in keys:
            count = int(await store.get(key) or 0) + 1
            await store.set(key, str(count), expires_in=expires_in)
            out.append(count)
    return out


def _count_in_memory(store: MemoryStore, keys: list[str], expires_in: int) -> list[int]:
    """Counters in Litestar's in-process store, read and written with nothing awaited in between (so no
    other request of the event loop comes between): four lock round trips a limited request fewer. A
    counter keeps the expiry of its first hit, as Redis's script does."""
    table = store._store  # MemoryStore's own mapping: its lock guards sections that await nothing either
    out = []
    for key in keys:
        held = table.get(key)
        if held is None or held.expired:
            count, held = 1, StorageObject.new(data=b"1", expires_in=expires_in)
        else:
            count = int(held.data) + 1
            held = StorageObject(expires_at=held.expires_at, data=str(count).encode())
        table[key] = held
        out.append(count)
    return out


async def count_hit(store: Store, key: str, expires_in: int) -> int:
    """Add one to the counter `key` and return its new value."""
    return (await count_hits(store, [key], expires_in))[0]


def problem_body(status: int, code: str, title: str, detail: str, **extra: Any) -> bytes:
    return msgspec.json.encode(
        {"type": PROBLEM_TYPE_BASE + code, "title": title, "status": status, "detail": detail, "code": code, **extra}
    )


async def send_problem(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode()),
            *headers,
        ],
    }
    await send(start)
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _limit_of_request(scope: Scope) -> str | None:
    if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
        return None
    return limit_of("POST", scope.get("path_template") or "")


def checks_revocation(scope: Scope) -> bool:
    """True for the requests whose token's revocation `abuse_limit_middleware` checks, in the same round
    trip to Redis as their counters (given to lib/auth's `build_jwt_auth`: one round trip a scan fewer)."""
    return _limit_of_request(scope) is not None


def abuse_limit_middleware(app: ASGIApp) -> ASGIApp:
    """Count each limited request against its address and its account; refuse over either limit."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        name = _limit_of_request(scope)
        if name is None:
            await app(scope, receive, send)
            return
        litestar_app = scope["app"]
        settings: Settings = litestar_app.state.settings
        per_address, per_account = limits_for(settings, name)
        now = clock.wall()
        window = int(now // WINDOW_S)
        retry_after = max(1, int((window + 1) * WINDOW_S - now))
        store = litestar_app.stores.get("rate_limit")
        checks = []
        if per_address:
            client = scope.get("client")
            checks.append((f"{name}:addr:{client[0] if client else '-'}:{window}", per_address))
        user = scope.get("user")
        if per_account and user is not None and getattr(user, "id", None) is not None:
            checks.append((f"{name}:acct:{user.id}:{window}", per_account))
        # the caller's token, when the authentication left its revocation to be checked here (lib/auth.py):
        # one round trip to Redis for both
        jti = scope.get(REVOCATION_PENDING)
        unless = None if not isinstance(jti, str) else (litestar_app.stores.get("auth"), revocation_key(jti))
        try:
            if checks or unless is not None:
                counts = await count_hits_unless(store, [key for key, _ in checks], WINDOW_S + 5, unless)
            else:
                counts = []
        except STORE_UNAVAILABLE:  # Redis down: let the request through rather than fail it
            log.warning("abuse limit not counted: Redis unavailable", extra={"limit": name})
            counts = [0] * len(checks)
        if counts is None:
            raise NotAuthorizedException()  # a revoked token: as the authentication answers it
        for (_key, limit), count in zip(checks, counts, strict=True):
            if count > limit:
                body = problem_body(
                    429,
                    "rate_limited",
                    "Too many requests",
                    "too many requests; try again later",
                    retry_after=retry_after,
                )
                headers = [
                    (b"retry-after", str(retry_after).encode()),
                    (b"ratelimit-limit", str(limit).encode()),
                    (b"ratelimit-remaining", b"0"),
                    (b"ratelimit-reset", str(retry_after).encode()),
                ]
                await send_problem(send, 429, body, headers)
                return
        await app(scope, receive, send)

    return middleware


# Litestar's own per-route limiter, kept for routes that want a plain per-address budget of their own.
from litestar import Request  # noqa: E402
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware  # noqa: E402

log = logging.getLogger("changxiang.limits")


class PerRouteRateLimitMiddleware(RateLimitMiddleware):
    def cache_key_from_request(self, request: Request[Any, Any, Any]) -> str:
        return f"{super().cache_key_from_request(request)}::{request.scope['path']}"


def per_minute(limit: int) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", limit),
        store="rate_limit",
        middleware_class=PerRouteRateLimitMiddleware,
    )
