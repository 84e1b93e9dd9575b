"""Live events between replicas (backend/lib/stores.py `LiveChannelsPlugin`), on a redis-server of the
test's own: a replica listens to a channel only while one of its streams does, and the events queued
meanwhile go out in one round trip, in order (issue 22: every replica received every other replica's
scans, and each event cost a round trip of its own)."""

from __future__ import annotations

import asyncio
import shutil

import anyio
import pytest
from litestar.channels.backends.memory import MemoryChannelsBackend
from redis.asyncio import Redis

from backend.lib.redis_lane import RedisLane
from backend.lib.stores import LiveChannelsPlugin, ReconnectingRedisChannels, channels_backend
from tests.api.redis_helpers import OwnRedis, own_redis_fixture  # noqa: F401 - the `own_redis` fixture

pytestmark = [pytest.mark.anyio]
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server (Debian) not installed")


async def _events(subscriber, n: int, within: float = 10) -> list[bytes]:
    got: list[bytes] = []
    with anyio.fail_after(within):
        async for message in subscriber.iter_events():
            got.append(message)
            if len(got) == n:
                return got
    return got


async def _listeners(client: Redis, channel: str) -> int:
    return dict(await client.pubsub_numsub(channel))[channel.encode()]


@needs_redis
async def test_a_replica_listens_to_a_channel_only_while_a_stream_does(own_redis: OwnRedis):
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    client, lane = Redis.from_url(url), RedisLane(url)
    plugin = LiveChannelsPlugin(backend=channels_backend(client, lane), channels=["scans", "occupancy"])
    try:
        async with plugin:
            plugin.publish({"n": 0}, "scans")  # nobody listens anywhere: sent, and received by no one
            await asyncio.sleep(0.2)
            assert await _listeners(client, "scans") == 0
            assert await _listeners(client, "occupancy") == 0
            async with plugin.start_subscription(["scans"]) as subscriber:
                assert await _listeners(client, "scans") == 1
                assert await _listeners(client, "occupancy") == 0
                plugin.publish({"n": 1}, "scans")
                assert await _events(subscriber, 1) == [b'{"n":1}']
            for _ in range(50):  # the unsubscribe is sent as the stream ends
                if await _listeners(client, "scans") == 0:
                    break
                await asyncio.sleep(0.05)
            assert await _listeners(client, "scans") == 0
    finally:
        lane.close()
        await client.aclose()


@needs_redis
async def test_events_queued_together_go_out_in_one_round_trip_in_order(own_redis: OwnRedis, monkeypatch):
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    client, lane = Redis.from_url(url), RedisLane(url)
    backend = channels_backend(client, lane)
    assert isinstance(backend, ReconnectingRedisChannels)
    batches: list[int] = []
    publish_many = backend.publish_many

    async def counted(batch):
        batches.append(len(batch))
        await publish_many(batch)

    monkeypatch.setattr(backend, "publish_many", counted)
    plugin = LiveChannelsPlugin(backend=backend, channels=["scans"])
    try:
        async with plugin, plugin.start_subscription(["scans"]) as subscriber:
            for i in range(200):  # as 200 scans decided in one tick of the event loop
                plugin.publish({"n": i}, "scans")
            got = await _events(subscriber, 200)
            assert got == [b'{"n":%d}' % i for i in range(200)]
            assert sum(batches) == 200
            assert len(batches) <= 2, batches  # one round trip for what was queued (Litestar's: 200)
    finally:
        lane.close()
        await client.aclose()


async def test_in_process_events_flow_and_listening_starts_with_a_stream():
    backend = MemoryChannelsBackend()
    plugin = LiveChannelsPlugin(backend=backend, channels=["scans"])
    async with plugin:
        assert not backend._channels  # Litestar's own plugin had subscribed to every channel at start-up
        async with plugin.start_subscription(["scans"]) as subscriber:
            assert backend._channels == {"scans"}
            for i in range(3):
                plugin.publish({"n": i}, "scans")
            assert await _events(subscriber, 3) == [b'{"n":0}', b'{"n":1}', b'{"n":2}']
