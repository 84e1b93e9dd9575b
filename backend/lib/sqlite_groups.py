"""Group commit on SQLite (issue 22): atomic writes that come while one is being written share the next
write transaction, each in a savepoint of its own (`run_grouped`). Used by `lib.db.atomic_write`, the gate
scan's write; `PooledSQLiteEngine.run_atomically` stays the one-caller way."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from backend.lib.sqlite_engine import PooledSQLiteEngine, _each, _in_background
from backend.lib.sqlite_inline import NotHere, gives_way


def _run_groups(conn: sqlite3.Connection, groups: list[list[tuple[str, list[Any]]]]) -> list[Any]:
    """Several callers' atomic writes in one write transaction and one hop, each in a savepoint of its own:
    one that fails is rolled back alone and its exception is its answer; the others commit together."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        answers: list[Any] = []
        for statements in groups:
            conn.execute("SAVEPOINT one_write")
            try:
                out = _each(conn, statements)
                conn.execute("RELEASE one_write")
                answers.append(out)
            except sqlite3.Error as exc:
                if gives_way(exc):  # not this write's fault (lib/sqlite_inline.py): the whole group goes
                    raise
                conn.execute("ROLLBACK TO one_write")
                conn.execute("RELEASE one_write")
                answers.append(exc)
        conn.commit()
        return answers
    except BaseException:
        conn.rollback()
        raise


GROUP_MAX = 32  # atomic writes in one grouped transaction at most (on the loop: a millisecond or two)


class _Group:
    """The atomic writes waiting for the next grouped transaction, and the task writing them."""

    def __init__(self) -> None:
        self.waiting: list[tuple[list[tuple[str, list[Any]]], asyncio.Future[list[list[Any]]]]] = []
        self.writer: asyncio.Task[None] | None = None


async def run_grouped(engine: PooledSQLiteEngine, statements: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    """`run_atomically`, sharing the write transaction with the other callers of this loop that come
    while one is being written (group commit): SQLite writes one transaction at a time, and each costs a
    hop to its thread and back, so under load the writers queued behind one go together in the next,
    each in a savepoint of its own (a failing one is undone alone and raises for its caller alone)."""
    loop = asyncio.get_running_loop()
    group = engine._groups.get(loop)
    if group is None:
        group = engine._groups[loop] = _Group()
    answer: asyncio.Future[list[list[Any]]] = loop.create_future()
    group.waiting.append((statements, answer))
    if group.writer is None:
        group.writer = _in_background(_write_groups(engine, group))
    return await answer


async def _write_groups(engine: PooledSQLiteEngine, group: _Group) -> None:
    try:
        while group.waiting:
            batch, group.waiting = group.waiting[:GROUP_MAX], group.waiting[GROUP_MAX:]
            groups = [statements for statements, _ in batch]
            try:
                lock = engine._writer_lock()
                await lock.acquire()  # at once, unless a writer of this process is in a transaction
                try:
                    here = engine.inline().run(_run_groups, groups)  # on the loop, when it waits for nothing
                    if isinstance(here, NotHere):
                        connection = await engine._acquire()
                except BaseException:
                    lock.release()
                    raise
                if isinstance(here, NotHere):
                    answers = await _grouped(engine, connection, groups, lock)
                else:
                    lock.release()
                    answers = here
            except Exception as exc:  # noqa: BLE001 - every caller of the batch hears it
                answers = [exc] * len(batch)
            for (_, answer), result in zip(batch, answers, strict=True):
                if answer.done():  # its caller went away (the write stands, as run_atomically's does)
                    continue
                if isinstance(result, BaseException):
                    answer.set_exception(result)
                else:
                    answer.set_result(result)
    finally:
        group.writer = None


async def _grouped(
    engine: PooledSQLiteEngine, connection: Any, groups: list[list[tuple[str, list[Any]]]], lock: asyncio.Lock
) -> list[Any]:
    healthy = True
    try:
        answers: list[Any] = await connection._execute(_run_groups, connection._conn, groups)
        return answers
    except BaseException:
        healthy = False
        raise
    finally:
        try:
            engine._give_back(connection, healthy)
        finally:
            lock.release()
