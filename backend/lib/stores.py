"""The key-value and pub/sub edge: Litestar stores and channels, in-process or Redis (`REDIS_URL`).

Redis holds nothing the database does not: caches' version stamps, rate-limit counters, revoked
tokens, and live events. So a Redis outage degrades the service instead of stopping it (callers catch
`STORE_UNAVAILABLE`), and everything reconnects by itself when Redis is back, the pub/sub listener
included (`ReconnectingRedisChannels`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Iterable
from typing import Any

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError

from backend.lib.redis_lane import RedisLane, Script
from backend.settings import Settings

log = logging.getLogger("changxiang.stores")

# What a store call raises when Redis cannot be reached (refused, reset, timed out, restarting).
STORE_UNAVAILABLE: tuple[type[BaseException], ...] = (RedisError, OSError)

_redis: Redis | None = None


_lane: RedisLane | None = None


def redis_lane(settings: Settings) -> RedisLane | None:
    """The process's lean lane to Redis for the hot commands (lib/redis_lane.py); None without Redis."""
    global _lane
    if settings.redis_url is None:
        return None
    if _lane is None:
        _lane = RedisLane(settings.redis_url)
    return _lane


def redis_client(settings: Settings) -> Redis | None:
    global _redis
    if settings.redis_url is None:
        return None
    if _redis is None:
        # a burst of requests waits for a free connection instead of failing ("Too many connections":
        # redis-py's default pool raises once its 100 connections are in use)
        pool = BlockingConnectionPool.from_url(settings.redis_url, max_connections=100, timeout=10)
        _redis = Redis(connection_pool=pool)
    return _redis


class CountingRedisStore(RedisStore):
    """Litestar's RedisStore, and counters: `incr_many` adds one to several keys in one round trip. The hot
    commands (`incr_many`, `exists`) take the `lane` (lib/redis_lane.py) instead of redis-py."""

    def __init__(self, redis: Redis, lane: RedisLane, namespace: str | None = "LITESTAR", **kw: Any):
        super().__init__(redis=redis, namespace=namespace, **kw)
        self.lane = lane

    def with_namespace(self, namespace: str) -> CountingRedisStore:
        return CountingRedisStore(
            self._redis,
            self.lane,
            namespace=f"{self.namespace}_{namespace}" if self.namespace else namespace,
            handle_client_shutdown=self.handle_client_shutdown,
        )

    async def exists(self, key: str) -> bool:
        return bool(await self.lane.call("EXISTS", self._make_key(key)) == 1)

    async def incr_many(self, keys: list[str], expires_in: int, unless: str | None = None) -> list[int] | None:
        """Add one to each counter in `keys` (made with `expires_in` seconds to live) and return the new
        values: one command whatever the number of keys (a script Redis runs atomically, which sets the
        time to live only on a counter's first hit), where a MULTI/EXEC pipeline of INCR and EXPIRE sent
        2n + 2 commands for the client to pack and parse on every limited request. With `unless` (a full
        key, `full_key` of any store of this Redis): None, and nothing counted, when that key exists
        (a revoked token's mark, checked in the same round trip: lib/rate_limits.py)."""
        counters = [self._make_key(key) for key in keys]
        if unless is None:
            keys_args = (counters, [expires_in, 0])
        else:
            keys_args = ([unless, *counters], [expires_in, 1])
        answers = await self.lane.run(_INCR_MANY_SCRIPT, *keys_args)
        if answers and int(answers[0]) < 0:
            return None
        return [int(count) for count in answers]

    def full_key(self, key: str) -> str:
        """`key` as this store names it in Redis (its namespace prefixed)."""
        return self._make_key(key)


# KEYS: [the key whose existence stops the count, when ARGV[2] is 1], then the counters;
# ARGV[1]: seconds to live, set when a counter is made. {-1} when the stopping key exists.
_INCR_MANY_SCRIPT = Script("""
local first = 1
if ARGV[2] == '1' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
  first = 2
end
local out = {}
for i = first, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then redis.call('EXPIRE', KEYS[i], ARGV[1]) end
  out[#out + 1] = n
end
return out
""")


def store_registry(settings: Settings) -> StoreRegistry:
    """Named stores (`rate_limit`, `sessions`, `cache`, ...): namespaces of one Redis, or memory."""
    client = redis_client(settings)
    if client is None:
        root: Store = MemoryStore()
        memory: dict[str, Store] = {}

        def memory_factory(name: str) -> Store:
            return memory.setdefault(name, MemoryStore())

        return StoreRegistry(default_factory=memory_factory, stores={"root": root})
    lane = redis_lane(settings)
    assert lane is not None  # (configured with the client)
    root_redis = CountingRedisStore(client, lane, namespace="changxiang")
    return StoreRegistry(default_factory=root_redis.with_namespace)


class ReconnectingRedisChannels(RedisChannelsPubSubBackend):
    """Litestar's Redis pub/sub backend, made to outlive a Redis restart.

    Litestar's plugin runs one publishing task and one listening task per process; an error from Redis
    ends either task for good, and from then on that replica's live streams (SSE) see nothing from
    the others, while /readyz says all is well. Here a publish that fails is dropped (live events are
    best effort: the database is the record) and the listener, when its connection fails, waits,
    subscribes again on a new connection and carries on.
    """

    def __init__(self, *, redis: Redis, lane: RedisLane, retry_max_s: float = 2.0, **kwargs: Any) -> None:
        super().__init__(redis=redis, **kwargs)
        self.lane = lane
        self._wanted: set[str] = set()
        self._retry_max_s = retry_max_s

    async def subscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._wanted.update(channels)
        await super().subscribe(channels)

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        channels = list(channels)
        self._wanted.difference_update(channels)
        await super().unsubscribe(channels)

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            await super().publish(data, channels)
        except STORE_UNAVAILABLE as exc:
            log.warning("live event dropped: Redis unavailable", extra={"error": str(exc)})

    async def publish_many(self, batch: list[tuple[bytes, list[str]]]) -> None:
        """Every message of `batch` in one command (a script that publishes them in order), where Litestar's
        backend runs a script per message. One command, not a pipeline of PUBLISH: the client packs and
        parses one command and one answer."""
        args: list[Any] = []
        for data, channels in batch:
            for channel in dict.fromkeys(channels):
                args += (channel, data)
        try:
            await self.lane.run(_PUBLISH_MANY_SCRIPT, [], args)
        except STORE_UNAVAILABLE as exc:
            log.warning("live events dropped: Redis unavailable", extra={"error": str(exc), "events": len(batch)})

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        while True:
            try:
                async for event in super().stream_events():
                    yield event
            except STORE_UNAVAILABLE as exc:
                log.warning("Redis pub/sub connection lost; subscribing again", extra={"error": str(exc)})
                await self._resubscribe()

    async def _resubscribe(self) -> None:
        delay = 0.05
        while True:
            await asyncio.sleep(delay)
            try:
                await self._pub_sub.aclose()  # type: ignore[no-untyped-call]  # redis-py's PubSub.aclose is unannotated
            except STORE_UNAVAILABLE:
                pass
            self._RedisChannelsPubSubBackend__pub_sub = None  # the parent's property opens a new PubSub
            try:
                if self._wanted:
                    await self._pub_sub.subscribe(*self._wanted)
                return
            except STORE_UNAVAILABLE:
                delay = min(delay * 2, self._retry_max_s)


async def shared_version(store: Store, key: str, what: str) -> str | None:
    """The version stamp (`key`) that replicas bump when `what` changes, so each process knows when to
    re-read its own snapshot; None while Redis is down (logged): the caller keeps the snapshot it has,
    or reads the database."""
    try:
        return (await store.get(key) or b"0").decode()
    except STORE_UNAVAILABLE:
        log.warning("%s version unreadable: Redis unavailable", what)
        return None


def channels_backend(client: Redis | None, lane: RedisLane | None) -> MemoryChannelsBackend | ReconnectingRedisChannels:
    if client is None or lane is None:
        return MemoryChannelsBackend(history=50)
    return ReconnectingRedisChannels(redis=client, lane=lane)


# ARGV: channel, message, channel, message, … published in that order
_PUBLISH_MANY_SCRIPT = Script("""
for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
return 0
""")


class LiveChannelsPlugin(ChannelsPlugin):
    """Litestar's channels plugin, with two changes for a replica under load (issue 22):

    - A replica listens to a channel only while one of its streams does. Litestar's plugin subscribes to
      every declared channel at start-up, so every replica received, decoded and dropped every event of
      every other replica (a gate scan's own event came back to the replica that sent it).
    - The events queued within `PUBLISH_LINGER_S` of the first go out together, in one round trip
      (`publish_many`), instead of one round trip an event.

    Both lean on the plugin's start-up and publishing task (`_on_startup`, `_pub_worker`, `_pub_queue`),
    which are Litestar 2's internals; test_live_channels.py holds them to the behaviour."""

    async def _on_startup(self) -> None:
        await self._backend.on_startup()
        self._pub_queue = asyncio.Queue()
        self._pub_task = asyncio.create_task(self._pub_worker())
        self._sub_task = asyncio.create_task(self._sub_worker())

    async def _pub_worker(self) -> None:
        while self._pub_queue:
            queue = self._pub_queue
            batch = [await queue.get()]
            await asyncio.sleep(PUBLISH_LINGER_S)  # what comes meanwhile goes in the same round trip
            while len(batch) < PUBLISH_BATCH_MAX:
                try:
                    batch.append(queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                if isinstance(self._backend, ReconnectingRedisChannels):
                    await self._backend.publish_many(batch)
                else:
                    for data, channels in batch:
                        await self._backend.publish(data, channels)
            finally:
                for _ in batch:
                    queue.task_done()


PUBLISH_BATCH_MAX = 500  # events sent in one round trip at most
# How long the first event of a batch waits for others: a live screen is 10 ms later, and a replica under
# load sends one round trip per several events instead of one per event or two.
PUBLISH_LINGER_S = 0.01


def channels_plugin(settings: Settings, channels: list[str]) -> ChannelsPlugin:
    backend = channels_backend(redis_client(settings), redis_lane(settings))
    return LiveChannelsPlugin(backend=backend, channels=channels, create_ws_route_handlers=False)


async def ping_redis(settings: Settings) -> bool:
    client = redis_client(settings)
    if client is None:
        return True
    try:
        return bool(await client.ping())
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        return False


async def close_redis() -> None:
    global _redis, _lane
    if _lane is not None:
        _lane.close()
        _lane = None
    if _redis is not None:
        await _redis.aclose(close_connection_pool=True)
        _redis = None
