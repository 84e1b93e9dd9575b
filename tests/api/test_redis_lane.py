"""The lean lane to Redis (backend/lib/redis_lane.py) on a redis-server of the test's own: pipelined
commands each get their own answer, in order; error replies, scripts Redis forgot, a password and a
database from the URL; a lost connection or a silent server fails the commands waiting and the next
command connects again. Nothing mocked."""

from __future__ import annotations

import asyncio
import shutil
import socket
import time

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from backend.lib.redis_lane import RedisLane, Script
from backend.lib.stores import STORE_UNAVAILABLE
from tests.api.redis_helpers import OwnRedis, own_redis_fixture  # noqa: F401 - the `own_redis` fixture

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server (Debian) not installed"),
]


async def test_pipelined_commands_each_get_their_own_answer(own_redis: OwnRedis):
    lane = RedisLane(f"redis://127.0.0.1:{own_redis.port}/0")
    try:
        answers = await asyncio.gather(*[lane.call("INCR", "n") for _ in range(500)])
        assert sorted(answers) == list(range(1, 501))
        assert answers == sorted(answers)  # written in order, answered in order
        await lane.call("SET", "big", b"x" * 200_000)  # an answer that comes in many reads
        got = await asyncio.gather(lane.call("GET", "big"), lane.call("GET", "missing"), lane.call("EXISTS", "n"))
        assert got == [b"x" * 200_000, None, 1]
        with pytest.raises(ResponseError):
            await lane.call("INCR", "big")  # not an integer: an error reply, and the lane goes on
        assert await lane.call("INCR", "n") == 501
    finally:
        lane.close()


async def test_a_script_is_loaded_again_when_redis_forgot_it(own_redis: OwnRedis):
    lane = RedisLane(f"redis://127.0.0.1:{own_redis.port}/0")
    script = Script("return {redis.call('INCR', KEYS[1]), ARGV[1]}")
    try:
        assert await lane.run(script, ["s"], ["a"]) == [1, b"a"]
        await lane.call("SCRIPT", "FLUSH")
        assert await lane.run(script, ["s"], ["b"]) == [2, b"b"]
        with pytest.raises(ResponseError):
            await lane.run(Script("return redis.call('NOSUCHCOMMAND')"), [], [])
    finally:
        lane.close()


@pytest.fixture
def redis_with_password():
    server = OwnRedis(["--requirepass", "s3cret"])
    server.start()
    yield server
    server.kill()


async def test_password_and_database_come_from_the_url(redis_with_password: OwnRedis):
    port = redis_with_password.port
    lane = RedisLane(f"redis://:s3cret@127.0.0.1:{port}/3")
    await lane.call("SET", "where", "three")
    other = RedisLane(f"redis://:s3cret@127.0.0.1:{port}/0")
    assert await other.call("GET", "where") is None  # database 3 is not 0
    assert await lane.call("GET", "where") == b"three"
    wrong = RedisLane(f"redis://:nope@127.0.0.1:{port}/0")
    with pytest.raises(STORE_UNAVAILABLE):
        await wrong.call("PING")
    for one in (lane, other, wrong):
        one.close()


async def test_a_lost_connection_fails_the_waiting_and_the_next_command_reconnects(own_redis: OwnRedis):
    lane = RedisLane(f"redis://127.0.0.1:{own_redis.port}/0", timeout_s=2)
    try:
        assert await lane.call("PING") == b"PONG"
        waiting = asyncio.gather(*[lane.call("BLPOP", "never", 0) for _ in range(3)], return_exceptions=True)
        await asyncio.sleep(0.2)
        own_redis.kill()
        answers = await asyncio.wait_for(waiting, 10)
        assert all(isinstance(a, RedisConnectionError) for a in answers), answers
        with pytest.raises(STORE_UNAVAILABLE):
            await lane.call("PING")  # Redis is down: a clear failure, not a hang
        own_redis.start()
        assert await lane.call("PING") == b"PONG"
    finally:
        lane.close()


async def test_a_server_that_does_not_answer_fails_within_the_timeout():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    port = silent.getsockname()[1]
    lane = RedisLane(f"redis://127.0.0.1:{port}/0", timeout_s=0.5)
    try:
        started = time.monotonic()
        with pytest.raises(RedisConnectionError):
            await asyncio.wait_for(lane.call("PING"), 10)
        assert time.monotonic() - started < 3
    finally:
        lane.close()
        silent.close()
