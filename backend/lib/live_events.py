"""Live events for streams (SSE): services publish plain dicts on a named channel, knowing nothing of
Litestar; create_app binds the channels plugin (memory, or Redis pub/sub so every replica's streams
see every replica's events). Publishing is best effort: the database stays the record.

The streams themselves are held in check here too (`stream_guard_middleware`): a cap per account across
replicas, and a stream ends when its token is revoked (docs/security.md)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

import anyio
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send
from redis.asyncio import Redis

from backend.lib.auth import revocation_key
from backend.lib.clock import clock
from backend.lib.problems import DomainError
from backend.lib.stores import STORE_UNAVAILABLE, redis_client

log = logging.getLogger("changxiang.live")

_publisher: Callable[[Any, str], None] | None = None


def bind(publisher: Callable[[Any, str], None] | None) -> None:
    global _publisher
    _publisher = publisher


def publish(channel: str, data: dict[str, Any]) -> None:
    if _publisher is None:
        return
    try:
        _publisher(data, channel)
    except Exception:  # noqa: BLE001 - a stream missing one event must not fail the write that caused it
        log.warning("live event not published", extra={"channel": channel})


# ---------------------------------------------------------------- the streams themselves: a cap, and logout

EVENT_STREAM = "text/event-stream"


class TooManyStreams(DomainError):
    status = 429


_LEASE_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""


class StreamLeases:
    """Who holds which open stream: per account, a set of leases (id → expiry, wall clock), shared by every
    replica through Redis when configured (a sorted set per account, taken in one atomic script), else kept
    in this process. A stream renews its lease while it runs and gives it back when it ends; the lease of a
    replica that died expires by itself."""

    def __init__(self) -> None:
        self._memory: dict[int, dict[str, float]] = {}

    @staticmethod
    def _key(account_id: int) -> str:
        return f"changxiang:streams:{account_id}"

    async def acquire(self, redis: Redis | None, account_id: int, lease: str, cap: int, ttl_s: float) -> bool:
        now = clock.wall()
        if redis is None:
            held = {k: v for k, v in self._memory.get(account_id, {}).items() if v > now}
            if len(held) >= cap:
                self._memory[account_id] = held
                return False
            held[lease] = now + ttl_s
            self._memory[account_id] = held
            return True
        answer = await redis.eval(_LEASE_SCRIPT, 1, self._key(account_id), now, now + ttl_s, cap, lease, int(ttl_s) + 1)
        return bool(answer)

    async def renew(self, redis: Redis | None, account_id: int, lease: str, ttl_s: float) -> None:
        expiry = clock.wall() + ttl_s
        if redis is None:
            held = self._memory.get(account_id)
            if held is not None and lease in held:
                held[lease] = expiry
            return
        key = self._key(account_id)
        async with redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {lease: expiry}, xx=True)
            pipe.expire(key, int(ttl_s) + 1)
            await pipe.execute()

    async def release(self, redis: Redis | None, account_id: int, lease: str) -> None:
        if redis is None:
            held = self._memory.get(account_id, {})
            held.pop(lease, None)
            if not held:
                self._memory.pop(account_id, None)
            return
        await redis.zrem(self._key(account_id), lease)


leases = StreamLeases()


def is_event_stream(handler: Any) -> bool:
    return getattr(handler, "media_type", None) == EVENT_STREAM


async def _token_still_good(app: Any, token: Any) -> bool:
    """False once the token is revoked (logout, on any replica: the shared `auth` store) or expired."""
    if token is None:
        return True
    if getattr(token, "exp", None) is not None and token.exp <= clock.now():
        return False
    jti = getattr(token, "jti", None)
    if not jti:
        return True
    try:
        return not await app.stores.get("auth").exists(revocation_key(jti))
    except STORE_UNAVAILABLE:  # Redis down: the stream goes on, as every request does (lib/auth.py)
        log.warning("stream's token revocation not checked: Redis unavailable")
        return True


def stream_guard_middleware(app: ASGIApp) -> ASGIApp:
    """Every route declared `media_type="text/event-stream"` (all our SSE endpoints): at most
    `streams_per_account` open at once per account, across replicas (the next is refused with 429
    `too_many_streams`); and each stream checks every `stream_check_s` that its token is still good, and
    ends when it is revoked (logout) or expired, on whichever replica the logout happened."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        account_id = getattr(user, "id", None)
        if scope["type"] != ScopeType.HTTP or not is_event_stream(scope.get("route_handler")) or account_id is None:
            await app(scope, receive, send)
            return
        litestar_app = scope["app"]
        settings = litestar_app.state.settings
        check_s = float(settings.stream_check_s)
        ttl_s = max(3 * check_s, 1.0)
        redis = redis_client(settings)
        lease = uuid.uuid4().hex
        try:
            granted = await leases.acquire(redis, account_id, lease, settings.streams_per_account, ttl_s)
        except STORE_UNAVAILABLE:
            log.warning("stream not counted: Redis unavailable")
            redis, granted = None, await leases.acquire(None, account_id, lease, settings.streams_per_account, ttl_s)
        if not granted:
            raise TooManyStreams(
                "too_many_streams",
                f"at most {settings.streams_per_account} live streams per account; close one first",
                retry_after=max(1, int(ttl_s)),
            )
        ended = anyio.Event()
        response: dict[str, bool] = {"started": False, "finished": False}

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                response["started"] = True
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                response["finished"] = True
            await send(message)

        async def ending_receive() -> ReceiveMessage:
            """The client's messages, or a disconnect once the token is no longer good: the streaming
            response then stops as if the client had gone."""
            if ended.is_set():
                return {"type": "http.disconnect"}
            received: list[ReceiveMessage] = []
            async with anyio.create_task_group() as tg:

                async def from_client() -> None:
                    received.append(await receive())
                    tg.cancel_scope.cancel()

                async def from_guard() -> None:
                    await ended.wait()
                    tg.cancel_scope.cancel()

                tg.start_soon(from_client)
                tg.start_soon(from_guard)
            return received[0] if received else {"type": "http.disconnect"}

        async def watch() -> None:
            token = scope.get("auth")
            while True:
                await anyio.sleep(check_s)
                if not await _token_still_good(litestar_app, token):
                    ended.set()
                    return
                try:
                    await leases.renew(redis, account_id, lease, ttl_s)
                except STORE_UNAVAILABLE:
                    log.warning("stream lease not renewed: Redis unavailable")

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(watch)
                await app(scope, ending_receive, tracking_send)
                tg.cancel_scope.cancel()
            if ended.is_set() and response["started"] and not response["finished"]:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await leases.release(redis, account_id, lease)
                except STORE_UNAVAILABLE:
                    log.warning("stream lease not released (it expires by itself): Redis unavailable")

    return middleware
