"""The lean pool of PostgreSQL connections for the hot statements (backend/lib/pg_lean.py): an idle
connection is handed out without awaiting anything, at most `size` are open, callers beyond wait their
turn, a statement's own error leaves its connection in the pool, and a caller cancelled mid-statement
leaves a connection that is closed, never handed out again. A real PostgreSQL; the PostgreSQL pass only."""

from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from backend.lib.pg_lean import LeanPool

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL pass only"),
]


@pytest.fixture
async def pool():
    lean = LeanPool(os.environ["DATABASE_URL"], size=3)
    try:
        yield lean
    finally:
        await lean.close()


async def _pid(pool: LeanPool) -> int:
    return (await pool.fetch("SELECT pg_backend_pid() AS pid"))[0]["pid"]


async def test_one_caller_at_a_time_uses_one_connection(pool):
    pids = {await _pid(pool) for _ in range(50)}
    assert len(pids) == 1 and pool._open == 1


async def test_many_callers_share_at_most_size_connections_in_order(pool):
    async def one(i: int) -> tuple[int, int]:
        rows = await pool.fetch("SELECT $1::int AS i, pg_backend_pid() AS pid, pg_sleep(0.01)", i)
        return rows[0]["i"], rows[0]["pid"]

    answers = await asyncio.gather(*[one(i) for i in range(60)])
    assert [i for i, _ in answers] == list(range(60))
    assert len({pid for _, pid in answers}) <= 3 and pool._open <= 3 and not pool._waiters


async def test_a_statements_own_error_keeps_its_connection(pool):
    before = await _pid(pool)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await pool.fetch("SELECT 1 / 0")
    assert await _pid(pool) == before and pool._open == 1


async def test_a_caller_cancelled_mid_statement_leaves_no_connection_behind(pool):
    before = await _pid(pool)
    task = asyncio.ensure_future(pool.fetch("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool._open == 0 and not pool._idle
    assert await _pid(pool) != before  # a new connection; the cancelled one is gone
    # and the cancelled connection's backend ends (terminated, not left running its sleep)
    for _ in range(50):
        rows = await pool.fetch("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE pid = $1", before)
        if rows[0]["n"] == 0:
            break
        await asyncio.sleep(0.1)
    assert rows[0]["n"] == 0


async def test_waiters_are_served_when_a_connection_is_discarded(pool):
    sleepers = [asyncio.ensure_future(pool.fetch("SELECT pg_sleep(5)")) for _ in range(3)]
    await asyncio.sleep(0.2)
    waiting = asyncio.ensure_future(_pid(pool))  # all three are out: it waits
    await asyncio.sleep(0.1)
    assert not waiting.done()
    for task in sleepers:
        task.cancel()
    await asyncio.gather(*sleepers, return_exceptions=True)
    assert isinstance(await asyncio.wait_for(waiting, 5), int)


async def test_a_closed_pool_hands_out_nothing(pool):
    await _pid(pool)
    await pool.close()
    assert pool._open == 0
    with pytest.raises(asyncpg.InterfaceError):
        await pool.fetch("SELECT 1")
