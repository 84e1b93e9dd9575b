"""Short SQLite statements on the event loop's own thread (backend/lib/sqlite_inline.py): a read or a grouped
write that waits for no lock and runs briefly is done there; one that would wait for another writer, or
run past its budget of steps, is undone and goes through the thread instead, with the same answer, while
the loop goes on. A real SQLite file, nothing mocked."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import pytest

from backend.lib import sqlite_inline
from backend.lib.sqlite_engine import PooledSQLiteEngine, _execute_fetch
from backend.lib.sqlite_groups import run_grouped
from backend.lib.sqlite_inline import NOT_HERE

pytestmark = pytest.mark.anyio

# a read that runs long: a million rows counted by a recursive query
LONG = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT COUNT(*) AS c FROM n"


@pytest.fixture
async def db(tmp_path):
    engine = PooledSQLiteEngine(path=str(tmp_path / "inline.sqlite3"), timeout=30)
    await engine.run_ddl("PRAGMA journal_mode=WAL;")
    await engine.run_ddl("CREATE TABLE log (nonce TEXT PRIMARY KEY, n INTEGER)")
    try:
        yield engine
    finally:
        await engine.close_idle()


async def test_a_short_read_is_answered_on_the_loop(db):
    inline = db.inline()
    assert inline.run(_execute_fetch, "SELECT 1 AS one", [], True) == [{"one": 1}]
    assert db.inline() is inline  # one connection per loop


async def test_a_long_read_is_interrupted_and_left_to_the_thread(db):
    inline = db.inline()
    started = time.perf_counter()
    assert inline.run(_execute_fetch, LONG, [], True) is NOT_HERE
    assert time.perf_counter() - started < 0.05  # a million steps would take far longer
    assert not inline.conn.in_transaction
    assert inline.run(_execute_fetch, "SELECT 2 AS two", [], True) == [{"two": 2}]  # the budget is per call
    # the thread answers it in full
    assert await db._run_in_new_connection(LONG, []) == [{"c": 1000000}]


async def test_a_statements_own_error_is_raised_not_passed_on(db):
    inline = db.inline()
    assert inline.run(_execute_fetch, "INSERT INTO log (nonce, n) VALUES ('a', 1)", [], True) == []
    with pytest.raises(sqlite3.IntegrityError):
        inline.run(_execute_fetch, "INSERT INTO log (nonce, n) VALUES ('a', 2)", [], True)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        inline.run(_execute_fetch, "SELECT * FROM nowhere", [], True)
    assert not inline.conn.in_transaction


async def test_a_write_that_would_wait_goes_through_the_thread_and_the_loop_goes_on(db, tmp_path):
    other = sqlite3.connect(tmp_path / "inline.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock
    other.execute("INSERT INTO log (nonce, n) VALUES ('theirs', 0)")
    inline = db.inline()
    started = time.perf_counter()
    assert inline.run(_execute_fetch, "INSERT INTO log (nonce, n) VALUES ('x', 1)", [], True) is NOT_HERE
    assert time.perf_counter() - started < 0.05  # no waiting on the loop
    assert not inline.conn.in_transaction

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    def write(i: int) -> list[tuple[str, list]]:
        return [("INSERT INTO log (nonce, n) VALUES (?, ?) RETURNING n", [f"n{i}", i])]

    ticking = asyncio.ensure_future(ticker())
    writes = asyncio.gather(*[run_grouped(db, write(i)) for i in range(20)])
    await asyncio.sleep(0.3)
    assert not writes.done()  # waiting in the thread for the other writer
    assert ticks >= 10  # while the loop went on
    other.execute("COMMIT")
    answers = await writes
    ticking.cancel()
    assert answers == [[[{"n": i}]] for i in range(20)]
    rows = await db._run_in_new_connection("SELECT COUNT(*) AS c FROM log", [])
    assert rows[0]["c"] == 21  # theirs and the twenty; the refused inline insert was never written
    other.close()


async def test_rows_written_on_the_loop_are_checkpointed_on_the_thread(db, monkeypatch):
    monkeypatch.setattr(sqlite_inline, "CHECKPOINT_ROWS", 10)
    checkpoints = 0
    real = db._run_in_new_connection

    async def counted(query, args=None, *rest, **kw):
        nonlocal checkpoints
        checkpoints += query.startswith("PRAGMA wal_checkpoint")
        return await real(query, args, *rest, **kw)

    monkeypatch.setattr(db, "_run_in_new_connection", counted)
    assert db.inline().conn.execute("PRAGMA wal_autocheckpoint").fetchone() == {"wal_autocheckpoint": 0}
    for i in range(25):
        await run_grouped(db, [("INSERT INTO log (nonce, n) VALUES (?, ?)", [f"c{i}", i])])
    await asyncio.sleep(0.2)  # the checkpoints run in the background
    assert checkpoints == 2


async def test_a_checkpoint_that_fails_is_logged(db, monkeypatch, caplog):
    monkeypatch.setattr(sqlite_inline, "CHECKPOINT_ROWS", 10)

    real = db._run_in_new_connection

    async def failing(query, args=None, *rest, **kw):
        if query.startswith("PRAGMA wal_checkpoint"):
            raise sqlite3.OperationalError("disk I/O error")
        return await real(query, args, *rest, **kw)

    monkeypatch.setattr(db, "_run_in_new_connection", failing)
    with caplog.at_level(logging.WARNING, logger="changxiang.db"):
        for i in range(12):
            await run_grouped(db, [("INSERT INTO log (nonce, n) VALUES (?, ?)", [f"f{i}", i])])
        await asyncio.sleep(0.1)  # the checkpoint runs in the background
    failed = [r for r in caplog.records if r.getMessage() == "sqlite checkpoint failed"]
    assert len(failed) == 1 and "disk I/O error" in str(failed[0].exc_info[1])
