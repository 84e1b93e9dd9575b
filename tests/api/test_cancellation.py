"""Requests cancelled at any point give their database connections back (issue 15, finding 14).

A client that hangs up (a dropped event stream, a phone leaving the Wi-Fi) cancels its request wherever it
is: waiting for the write lock, opening a connection, inside a write transaction, in an event stream. Each
connection the request held must go back to the pool or be closed: the process's open file descriptors
and threads (an SQLite connection is a file and a worker thread) stay where they were, without waiting
for the garbage collector.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import threading
from datetime import datetime

import anyio
import pytest

from backend.lib.clock import CITY_TZ
from backend.lib.db import connections_max
from tests.api.reservation_helpers import fresh_slot, visitor

pytestmark = pytest.mark.anyio

ROUNDS, AT_ONCE = 200, 50
STREAMS = (3, 4)  # the event streams among `requests()`
# What a settled process may hold more than before the flood: the connections SQLite keeps (the pool's idle
# ones, each a file and a thread, and the files of closed ones, which SQLite keeps open while other
# connections hold the file's locks), its WAL and shared memory, a few descriptors of the loop.
SLACK = 8


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle() -> None:
    """Let work that was running when its request was cancelled finish (it runs to its end, then hands its
    connection back)."""
    for _ in range(50):
        await asyncio.sleep(0.02)


def quiet_about_cancelled_connects(loop: asyncio.AbstractEventLoop):
    """asyncpg leaves a future unretrieved when a connection is cancelled while it negotiates TLS (an asyncio
    warning, logged, nothing leaks); the test's loop would raise it at the end of the test."""
    forward = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, ConnectionError) and "connection_lost" in str(exc):
            return
        if forward is not None:
            forward(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    return forward


async def test_cancelled_requests_return_their_connections(client, make_account):
    venue = "changzhou-museum"
    admin = await make_account("admin")
    tourist = await make_account("tourist")
    staff = await make_account("staff", venues=(venue,))
    slot = await fresh_slot(client, venue, admin["headers"])
    day = datetime.fromisoformat(slot["starts_at"]).astimezone(CITY_TZ).date().isoformat()
    rng = random.Random(15)

    def requests():
        """One request of each kind a flood brings: reads, write transactions, scans, event streams."""
        return [
            lambda: client.get("/api/v1/venues", params={"lang": "en"}),
            lambda: client.get(f"/api/v1/venues/{venue}/slots", params={"date": day}),
            lambda: client.get("/api/v1/me/notifications", headers=tourist["headers"]),
            lambda: client.get("/api/v1/me/notifications/stream", headers=tourist["headers"]),
            lambda: client.get("/api/v1/gov/occupancy/stream", headers=admin["headers"]),
            lambda: client.post(
                "/api/v1/reservations",
                json={"slot_id": slot["id"], "visitors": [visitor()]},
                headers=tourist["headers"],
            ),
            lambda: client.patch(
                f"/api/v1/venues/{venue}/slots/{slot['id']}", json={"status": "open"}, headers=admin["headers"]
            ),
            lambda: client.post(
                "/api/v1/scans", json={"code": "CX1.not-a-code", "venue_slug": venue}, headers=staff["headers"]
            ),
        ]

    async def flood(kinds: list, n: int) -> list[BaseException]:
        """`n` requests, each in a task of its own (as a server runs them) and cancelled after a random moment:
        half by anyio's cancellation (how a stream learns its client left: delivered again at every await),
        half by asyncio's (one CancelledError, wherever the task is). Returns what they raised besides."""
        tasks: list[asyncio.Task] = []
        for _ in range(n):
            make, delay = rng.choice(kinds), rng.uniform(0, 0.03)
            # a server stops a stream by anyio's cancellation (the client's disconnect), never by a bare
            # asyncio cancel, which a stream's task groups may absorb (the stream then runs on)
            if make in streams or rng.random() < 0.5:

                async def in_scope(make=make, delay=delay) -> None:
                    with anyio.move_on_after(delay):
                        await make()

                tasks.append(asyncio.ensure_future(in_scope()))
            else:
                task = asyncio.ensure_future(make())
                asyncio.get_running_loop().call_later(delay, task.cancel)
                tasks.append(task)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        return [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]

    kinds = requests()
    streams = {kinds[i] for i in STREAMS}
    # warm up: every kind once, so lazily made things (pools, caches, subscriptions) exist before counting
    # (each in a task of its own, as every request of a server is: nothing the app starts lazily belongs to
    # the test's own task)
    for make in kinds:

        async def once(make=make) -> None:
            with anyio.move_on_after(0.5):
                await make()

        await asyncio.ensure_future(once())
    await settle()
    gc.collect()
    fds_before, threads_before = open_descriptors(), threading.active_count()

    loop = asyncio.get_running_loop()
    forward = quiet_about_cancelled_connects(loop)
    gc.disable()  # what leaks must show as leaked, not be tidied by a collection halfway
    try:
        for _ in range(0, ROUNDS, AT_ONCE):
            # a lock or a connection lost to a cancelled request would hang the requests after it
            with anyio.fail_after(30):
                raised = await flood(kinds, AT_ONCE)
            assert not raised, raised
        await settle()
        fds_after, threads_after = open_descriptors(), threading.active_count()
    finally:
        gc.enable()
        loop.set_exception_handler(forward)
    most = connections_max()
    assert fds_after - fds_before <= most + SLACK, (fds_before, fds_after)
    assert threads_after - threads_before <= most + SLACK, (threads_before, threads_after)

    # and the app still answers, reads and writes
    with anyio.fail_after(10):
        assert (await client.get("/readyz")).status_code == 200
        booked = await client.post(
            "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=admin["headers"]
        )
    assert booked.status_code in (201, 409), booked.text
