"""The key-value and pub/sub edge: Litestar stores and channels, in-process or Redis (`REDIS_URL`)."""

from __future__ import annotations

from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from redis.asyncio import BlockingConnectionPool, Redis

from backend.settings import Settings

_redis: Redis | None = None


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


def store_registry(settings: Settings) -> StoreRegistry:
    """Named stores (`rate_limit`, `sessions`, `cache`, ...): namespaces of one Redis, or memory."""
    client = redis_client(settings)
    if client is None:
        root: Store = MemoryStore()
        memory: dict[str, Store] = {}

        def memory_factory(name: str) -> Store:
            return memory.setdefault(name, MemoryStore())

        return StoreRegistry(default_factory=memory_factory, stores={"root": root})
    root_redis = RedisStore(client, namespace="changxiang")
    return StoreRegistry(default_factory=root_redis.with_namespace)


def channels_plugin(settings: Settings, channels: list[str]) -> ChannelsPlugin:
    client = redis_client(settings)
    backend = MemoryChannelsBackend(history=50) if client is None else RedisChannelsPubSubBackend(redis=client)
    return ChannelsPlugin(backend=backend, channels=channels, create_ws_route_handlers=False)


async def ping_redis(settings: Settings) -> bool:
    client = redis_client(settings)
    if client is None:
        return True
    try:
        return bool(await client.ping())
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        return False


async def close_redis() -> None:
    global _redis
    if _redis is not None:
        await _redis.aclose(close_connection_pool=True)
        _redis = None
