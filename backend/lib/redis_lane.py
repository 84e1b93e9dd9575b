"""A lean lane to Redis for the hot path's few commands: the abuse counters and a token's revocation, which
every limited request asks (a gate scan), and the batches of live events (issue 22).

redis-py's asyncio client spends about 200 µs of CPU on one command (a pooled connection taken and given
back under a lock, a timeout context, retries, its stream reader and parser, observability hooks): as
much as the rest of a scan's middleware together. This lane is one connection per process and event
loop, pipelined: a command is packed and written at once, its answer's future waits in line, and the
answers, which Redis sends in order, are read off the socket by an `asyncio.Protocol` and handed out in
that order. About 50 µs a command. Everything else keeps using redis-py (docs/decisions.md).

Failures look like redis-py's (`redis.exceptions`): a lost connection, or no answer within `timeout_s`,
fails every command waiting on it with `ConnectionError` (so `STORE_UNAVAILABLE` catches it), and the
next command connects again. An error reply raises `ResponseError`. A script is run by its SHA-1 and
loaded once when Redis does not know it (after a restart or a `SCRIPT FLUSH`).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import ssl
import time
from typing import Any, cast

from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

_NEED_MORE = object()


class Script:
    """A Lua script, known to Redis by its SHA-1."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


def pack(args: tuple[Any, ...]) -> bytes:
    """A command in RESP: an array of bulk strings."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse(buf: bytes, pos: int) -> tuple[Any, int] | tuple[object, int]:
    """One reply from `buf` at `pos`: (value, position after it), or (`_NEED_MORE`, pos) when it is not
    all there yet. An error reply is returned as a `ResponseError` (raised by the caller)."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return _NEED_MORE, pos
    kind, line, after = buf[pos], buf[pos + 1 : end], end + 2
    if kind == 0x3A:  # :integer
        return int(line), after
    if kind == 0x24:  # $bulk
        size = int(line)
        if size < 0:
            return None, after
        if len(buf) < after + size + 2:
            return _NEED_MORE, pos
        return buf[after : after + size], after + size + 2
    if kind == 0x2B:  # +simple
        return line, after
    if kind == 0x2D:  # -error
        return ResponseError(line.decode("utf-8", "replace")), after
    if kind == 0x2A:  # *array
        size = int(line)
        if size < 0:
            return None, after
        items = []
        for _ in range(size):
            item, after = parse(buf, after)
            if item is _NEED_MORE:
                return _NEED_MORE, pos
            items.append(item)
        return items, after
    raise RedisConnectionError(f"unexpected reply from Redis: {bytes(buf[pos : pos + 16])!r}")


class _Wire(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiting: collections.deque[tuple[asyncio.Future[Any], float]] = collections.deque()
        self.buffer = b""
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # (uvloop's is not an asyncio.Transport subclass)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data if self.buffer else data
        pos = 0
        try:
            while pos < len(buf):
                value, after = parse(buf, pos)
                if value is _NEED_MORE:
                    break
                pos = after
                answer, _ = self.waiting.popleft()
                if not answer.done():
                    answer.set_result(value)
        except (RedisConnectionError, ValueError, IndexError):  # garbled, or an answer nobody asked for
            self.fail(RedisConnectionError("Redis sent what could not be read"))
            return
        self.buffer = buf[pos:]

    def connection_lost(self, exc: Exception | None) -> None:
        self.fail(RedisConnectionError(f"connection to Redis lost: {exc or 'closed'}"))

    def fail(self, exc: Exception) -> None:
        self.lost = True
        if self.transport is not None:
            try:
                self.transport.abort()
            except RuntimeError:  # its event loop is closed (a test's of the past): nothing left to abort
                pass
        while self.waiting:
            answer, _ = self.waiting.popleft()
            if not answer.done():
                answer.set_exception(exc)


class RedisLane:
    """One pipelined connection to the Redis at `url` (redis://, rediss:// or unix://, as redis-py reads it)
    per event loop; `call` and `run` from any task of that loop."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.options = parse_url(url)
        self.timeout_s = timeout_s
        self._wire: _Wire | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Future[_Wire] | None = None
        self._watching = False

    async def call(self, *args: Any) -> Any:
        """One command's reply (bulk strings as bytes); raises `ResponseError` for an error reply."""
        wire = self._wire
        if wire is None or wire.lost or self._loop is not asyncio.get_running_loop():
            wire = await self._connect()
        answer = self._send(wire, args)
        value = await answer
        if isinstance(value, ResponseError):
            raise value
        return value

    async def run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        """`script`'s answer for `keys` and `args`, by its SHA-1 (loaded first if Redis does not know it)."""
        try:
            return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)
        except ResponseError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
        await self.call("SCRIPT", "LOAD", script.source)
        return await self.call("EVALSHA", script.sha, len(keys), *keys, *args)

    def _send(self, wire: _Wire, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        loop = self._loop
        assert loop is not None and wire.transport is not None
        answer: asyncio.Future[Any] = loop.create_future()
        wire.waiting.append((answer, time.monotonic()))
        wire.transport.write(pack(args))
        if not self._watching:
            self._watching = True
            loop.call_later(self.timeout_s, self._watch)
        return answer

    def _watch(self) -> None:
        """No answer for `timeout_s`: the connection is given up (its commands fail, the next reconnects)."""
        self._watching = False
        wire = self._wire
        if wire is None or wire.lost or not wire.waiting:
            return
        if time.monotonic() - wire.waiting[0][1] >= self.timeout_s:
            wire.fail(RedisConnectionError(f"no answer from Redis within {self.timeout_s:g} s"))
            return
        self._watching = True
        assert self._loop is not None
        self._loop.call_later(self.timeout_s, self._watch)

    async def _connect(self) -> _Wire:
        loop = asyncio.get_running_loop()
        if self._loop is loop and self._connecting is not None:
            return await asyncio.shield(self._connecting)
        if self._wire is not None and self._loop is not loop:  # a loop of the past (tests): drop its wire
            self._wire.fail(RedisConnectionError("event loop changed"))
        self._loop, self._wire, self._watching = loop, None, False
        self._connecting = loop.create_future()
        try:
            wire = await asyncio.wait_for(self._open(loop), self.timeout_s)
        except (OSError, TimeoutError, ResponseError) as exc:
            error = RedisConnectionError(f"cannot connect to Redis: {exc}")
            self._connecting.set_exception(error)
            self._connecting.exception()  # retrieved: nobody else may be waiting
            self._connecting = None
            raise error from exc
        self._wire = wire
        self._connecting.set_result(wire)
        self._connecting = None
        return wire

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Wire:
        options = self.options
        if options.get("connection_class") is UnixDomainSocketConnection:
            _, wire = await loop.create_unix_connection(_Wire, options["path"])
        else:
            tls = ssl.create_default_context() if options.get("connection_class") is SSLConnection else None
            host, port = options.get("host", "localhost"), int(options.get("port", 6379))
            _, wire = await loop.create_connection(_Wire, host, port, ssl=tls)
        self._loop = loop
        setup: list[tuple[Any, ...]] = []
        if options.get("password"):
            user = options.get("username")
            setup.append(("AUTH", user, options["password"]) if user else ("AUTH", options["password"]))
        if options.get("db"):
            setup.append(("SELECT", options["db"]))
        for answer in [self._send(wire, args) for args in setup]:
            value = await answer
            if isinstance(value, ResponseError):
                wire.fail(RedisConnectionError(str(value)))
                raise value
        return wire

    def close(self) -> None:
        if self._wire is not None:
            self._wire.fail(RedisConnectionError("closed"))
            self._wire = None
