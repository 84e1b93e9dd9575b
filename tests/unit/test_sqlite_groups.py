"""Group commit on SQLite (backend/lib/sqlite_groups.py `run_grouped`): atomic writes that come while one
is being written share the next write transaction, each in a savepoint of its own. Every caller gets its
own rows; one whose statement fails (a repeated scan nonce) is undone alone and gets its own error; the
others are written. A real SQLite file, nothing mocked."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from backend.lib import sqlite_groups
from backend.lib.sqlite_engine import PooledSQLiteEngine
from backend.lib.sqlite_groups import run_grouped

pytestmark = pytest.mark.anyio


async def test_concurrent_atomic_writes_share_transactions_and_fail_alone(tmp_path, monkeypatch):
    db = PooledSQLiteEngine(path=str(tmp_path / "groups.sqlite3"), timeout=30)
    await db.run_ddl("PRAGMA journal_mode=WAL;")
    await db.run_ddl("CREATE TABLE log (nonce TEXT PRIMARY KEY, n INTEGER)")
    await db.run_ddl("CREATE TABLE total (id INTEGER PRIMARY KEY, n INTEGER)")
    await db.run_ddl("INSERT INTO total (id, n) VALUES (1, 0)")
    transactions = 0
    real = sqlite_groups._run_groups

    def counted(conn, groups):  # one grouped transaction, on the loop (lib/sqlite_inline.py) or its thread
        nonlocal transactions
        transactions += 1
        return real(conn, groups)

    monkeypatch.setattr(sqlite_groups, "_run_groups", counted)

    def write(i: int) -> list[tuple[str, list]]:
        nonce = "same" if i % 10 == 0 else f"n{i}"  # every tenth repeats one nonce: only the first is written
        return [
            ("UPDATE total SET n = n + 1 WHERE id = 1", []),
            ("INSERT INTO log (nonce, n) VALUES (?, ?) RETURNING n", [nonce, i]),
        ]

    try:
        answers = await asyncio.gather(*[run_grouped(db, write(i)) for i in range(200)], return_exceptions=True)
        failed = [i for i, a in enumerate(answers) if isinstance(a, BaseException)]
        assert all(isinstance(answers[i], sqlite3.IntegrityError) for i in failed)
        assert len(failed) == 19  # the ten-multiples after the first one to be written
        for i, a in enumerate(answers):
            if not isinstance(a, BaseException):
                assert a[1] == [{"n": i}]  # its own rows
        rows = await db._run_in_new_connection("SELECT COUNT(*) AS c FROM log", [])
        total = await db._run_in_new_connection("SELECT n FROM total WHERE id = 1", [])
        assert rows[0]["c"] == 181 and total[0]["n"] == 181  # a failed write's update was undone with it
        assert 0 < transactions < 50, transactions  # two hundred writes, a few transactions
        assert await run_grouped(db, [("SELECT n FROM total", [])]) == [[{"n": 181}]]  # and alone, at once
    finally:
        await db.close_idle()
