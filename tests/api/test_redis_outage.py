"""A Redis restart must not leave a replica deaf: live events (SSE, shared between replicas through
Redis pub/sub) flow again once Redis is back, without restarting the app.

Found by the load-and-fault bench (bench/load_and_faults.py): after Redis restarted, Litestar's
channel listener task had died, so a scan decided on one replica never reached a gate screen
streaming from the other, while /readyz said all was well. A real redis-server of our own is
started, killed and started again here; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import shutil

import anyio
import pytest
from redis.asyncio import Redis

from backend.lib.redis_lane import RedisLane
from backend.lib.stores import LiveChannelsPlugin, channels_backend
from tests.api.redis_helpers import OwnRedis, own_redis_fixture  # noqa: F401 - the `own_redis` fixture

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server (Debian) not installed"),
]


async def _next_event(subscriber, within: float) -> bytes | None:
    async def first() -> bytes:
        async for message in subscriber.iter_events():
            return message
        raise AssertionError("stream ended")

    try:
        return await asyncio.wait_for(first(), within)
    except TimeoutError:
        return None


async def test_live_events_flow_again_after_redis_restarts(own_redis: OwnRedis):
    url = f"redis://127.0.0.1:{own_redis.port}/0"
    client, lane = Redis.from_url(url), RedisLane(url)
    plugin = LiveChannelsPlugin(
        backend=channels_backend(client, lane), channels=["scans"], create_ws_route_handlers=False
    )
    try:
        # without the fix the listener and publisher tasks die, and closing the plugin waits forever
        with anyio.fail_after(30):
            await _outage(plugin, own_redis)
    finally:
        lane.close()
        await client.aclose()


async def _outage(plugin: LiveChannelsPlugin, own_redis: OwnRedis) -> None:
    async with plugin, plugin.start_subscription(["scans"]) as subscriber:
        plugin.publish(b"before", "scans")
        assert await _next_event(subscriber, 5) == b"before"

        own_redis.kill()
        plugin.publish(b"while-down", "scans")  # dropped, and must not stop later publishing
        await asyncio.sleep(0.5)
        own_redis.start()

        received = None
        for attempt in range(40):  # the listener subscribes again on its own, with a short backoff
            plugin.publish(f"after-{attempt}".encode(), "scans")
            received = await _next_event(subscriber, 0.5)
            if received is not None:
                break
        assert received is not None and received.startswith(b"after-"), "no live event after Redis came back"
