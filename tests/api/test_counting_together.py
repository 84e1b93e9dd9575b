"""The abuse counters of requests that come together share one command to Redis (backend/lib/stores.py
`CountingRedisStore.incr_many`: group commit), on a redis-server of the test's own: every request still
gets its own exact count, a revoked token's request counts nothing, and a Redis failure reaches every
request that was waiting."""

from __future__ import annotations

import asyncio
import shutil

import pytest
from redis.asyncio import Redis

from backend.lib.stores import STORE_UNAVAILABLE, CountingRedisStore
from tests.api.redis_helpers import OwnRedis, own_redis_fixture  # noqa: F401 - the `own_redis` fixture

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server (Debian) not installed"),
]


async def test_counts_asked_together_are_exact_and_share_commands(own_redis: OwnRedis, monkeypatch):
    client = Redis.from_url(f"redis://127.0.0.1:{own_redis.port}/0")
    store = CountingRedisStore(client, namespace="limits")
    marks = CountingRedisStore(client, namespace="auth")
    await marks.set("revoked:gone", b"1", expires_in=60)
    commands = 0
    real = client.evalsha

    async def counted(*args, **kwargs):
        nonlocal commands
        commands += 1
        return await real(*args, **kwargs)

    monkeypatch.setattr(client, "evalsha", counted)
    try:
        answers = await asyncio.gather(
            *[
                store.incr_many(
                    ["addr:1", f"acct:{i % 2}"],
                    65,
                    marks.full_key("revoked:gone" if i % 10 == 9 else f"revoked:fine-{i}"),
                )
                for i in range(100)
            ]
        )
        refused = [i for i, a in enumerate(answers) if a is None]
        assert refused == list(range(9, 100, 10))  # a revoked token's request counts nothing
        counted_ok = [a for a in answers if a is not None]
        assert sorted(a[0] for a in counted_ok) == list(range(1, 91))  # each its own count, none lost
        for parity in (0, 1):
            mine = [a[1] for i, a in enumerate(answers) if a is not None and i % 2 == parity]
            assert sorted(mine) == list(range(1, len(mine) + 1))
        assert int(await store.get("addr:1")) == 90
        assert 0 < await store.expires_in("addr:1") <= 65
        assert commands < 10, commands  # a hundred requests, a handful of commands (one each without it)
        assert await store.incr_many(["addr:1"], 65) == [91]  # and alone, at once
    finally:
        await client.aclose()


async def test_a_redis_failure_reaches_every_waiting_request(own_redis: OwnRedis):
    client = Redis.from_url(f"redis://127.0.0.1:{own_redis.port}/0", socket_connect_timeout=1)
    store = CountingRedisStore(client, namespace="limits")
    try:
        assert await store.incr_many(["k"], 65) == [1]
        own_redis.kill()
        answers = await asyncio.wait_for(
            asyncio.gather(*[store.incr_many(["k"], 65) for _ in range(20)], return_exceptions=True), 30
        )
        assert all(isinstance(a, STORE_UNAVAILABLE) for a in answers), answers
        own_redis.start()
        for _ in range(50):  # the client connects again by itself
            try:
                assert await store.incr_many(["fresh"], 65) == [1]
                break
            except STORE_UNAVAILABLE:
                await asyncio.sleep(0.1)
        else:
            raise AssertionError("counting did not come back with Redis")
    finally:
        await client.aclose()
