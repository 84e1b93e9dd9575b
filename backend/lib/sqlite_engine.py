"""The pooled SQLite engine: Piccolo's SQLiteEngine with a pool of connections, transactions that hold one
connection each, and whole write transactions run in one thread hop (`run_atomically`). Used by
`backend.lib.db` when `DATABASE_URL` is `sqlite:///PATH`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from backend.lib.sqlite_inline import InlineConnection

log = logging.getLogger("changxiang.db")

T = TypeVar("T")


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/x.db` is relative to the working directory, `sqlite:////abs/x.db` absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"not a sqlite:///PATH URL: {url!r}")
    return Path(url[len(prefix) :])


def _execute_fetch(conn: sqlite3.Connection, query: str, args: list[Any], commit: bool) -> list[Any]:
    """Run one statement to the end on aiosqlite's thread, in one hop: execute, fetch, close and, outside
    a transaction, commit (or roll back on error). Piccolo's engine makes four to five hops per query."""
    try:
        cursor = conn.execute(query, args)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        if commit:
            conn.commit()
        return rows
    except BaseException:
        if commit:
            conn.rollback()
        raise


def _each(conn: sqlite3.Connection, statements: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    """Every statement to the end, in order: each one's rows."""
    out = []
    for query, args in statements:
        cursor = conn.execute(query, args)
        try:
            out.append(cursor.fetchall())
        finally:
            cursor.close()
    return out


def _run_statements(conn: sqlite3.Connection, statements: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    """BEGIN IMMEDIATE, every statement to the end, COMMIT: one write transaction in one hop."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = _each(conn, statements)
        conn.commit()
        return out
    except BaseException:
        conn.rollback()
        raise


# Cancellation. A request is cancelled wherever it is when its client hangs up (a dropped event stream, a
# phone leaving the Wi-Fi), and anyio delivers the cancellation again at every later await: cleanup that
# awaits (a ROLLBACK, a close) in a cancelled task never runs, and the connection (a file and a thread) and
# the writer lock stay taken. So each step that holds a connection runs as a task of its own, to its end,
# and gives the connection back itself; the caller only waits for it, and may stop waiting.

_background: set[asyncio.Task[Any]] = set()


def _in_background(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    task = asyncio.ensure_future(work)
    _background.add(task)  # the loop keeps only weak references to its tasks
    task.add_done_callback(_background.discard)
    return task


def _checkpoint_failed(task: asyncio.Task[Any]) -> None:
    """Say so when a background checkpoint failed (nobody awaits it; the WAL then grows until the next)."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("sqlite checkpoint failed", exc_info=exc)


async def _to_the_end(
    work: Coroutine[Any, Any, T], abandoned: Callable[[T], Coroutine[Any, Any, None]] | None = None
) -> T:
    """Await `work`, run as a task of its own that a cancellation of the caller does not stop: a cancelled
    caller stops waiting at once, `work` goes on to its end (a statement in SQLite's thread can't be
    stopped anyway), then `abandoned(result)` undoes what nobody will use."""
    task = _in_background(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:

        def after(done: asyncio.Task[T]) -> None:
            # looking at the exception marks it seen: the caller that would have raised it is gone
            if not done.cancelled() and done.exception() is None and abandoned is not None:
                _in_background(abandoned(done.result()))

        task.add_done_callback(after)
        raise


class PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a pooled connection, handed back (not closed) at the end, whatever
    cancels the caller on the way in, inside or on the way out."""

    engine: PooledSQLiteEngine  # narrowed: this transaction is only made by PooledSQLiteEngine.transaction
    _writer_lock: asyncio.Lock | None = None

    async def get_connection(self) -> Any:
        return await self.engine._acquire()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        if self.transaction_type != TransactionType.deferred:
            # Writers of this process queue here instead of in SQLite's busy handler, which sleeps
            # with back-off and would stall every writer under load.
            self._writer_lock = self.engine._writer_lock()
            await self._writer_lock.acquire()
        try:
            self.connection = await self.get_connection()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.release()
            raise
        await _to_the_end(self._begin(), abandoned=self._abandon)
        self.context = self.engine.current_transaction.set(self)
        return self

    async def _begin(self) -> None:
        try:
            await self.begin()  # type: ignore[no-untyped-call]  # piccolo's begin() is unannotated
        except BaseException:
            self._hand_back(healthy=False)
            raise

    async def _abandon(self, _: None) -> None:
        """BEGIN ran for a caller cancelled meanwhile: roll it back and hand everything back."""
        await self._end(rollback=True)

    async def _end(self, *, rollback: bool = False, commit: bool = False) -> None:
        healthy = True
        try:
            if rollback:
                await self.rollback()  # type: ignore[no-untyped-call]  # piccolo's rollback() is unannotated
            elif commit:
                await self.commit()  # type: ignore[no-untyped-call]  # piccolo's commit() is unannotated
        except BaseException:
            healthy = False
            raise
        finally:
            self._hand_back(healthy)

    def _hand_back(self, healthy: bool) -> None:
        try:
            self.engine._give_back(self.connection, healthy)
        finally:
            if self._writer_lock is not None:
                self._writer_lock.release()

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent:
            return exception is None
        try:
            await _to_the_end(
                self._end(
                    rollback=exception is not None and not self._rolled_back,
                    commit=exception is None and not self._committed and not self._rolled_back,
                )
            )
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine opens a new aiosqlite connection (a new thread) for every query and every
    transaction, about a millisecond each; this one keeps a few open and reuses them.

    At most `open_max` connections are out at once per event loop (callers beyond wait their turn): a
    flood of requests would otherwise open one each, and SQLite keeps the file descriptor of a connection
    closed while others hold the file's locks (as WAL readers always do) until the process exits.

    Connections run in WAL mode with `synchronous=NORMAL`: a crash of the process never loses a
    committed transaction; a power cut may lose the last ones (docs/decisions.md). Production runs on
    PostgreSQL.
    """

    def __init__(self, *args: Any, idle_max: int = 8, open_max: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[Any] = []
        self._idle_max = idle_max
        self._open_max = open_max
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._places: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._groups: dict[asyncio.AbstractEventLoop, Any] = {}  # lib/sqlite_groups.py
        self._inline: dict[asyncio.AbstractEventLoop, InlineConnection] = {}  # lib/sqlite_inline.py

    def inline(self) -> InlineConnection:
        """This loop's connection for short statements run on the loop itself (lib/sqlite_inline.py)."""
        loop = asyncio.get_running_loop()
        connection = self._inline.get(loop)
        if connection is None:
            connection = self._inline[loop] = InlineConnection(self.connection_kwargs, self._checkpoint)
        return connection

    def _checkpoint(self) -> None:
        """A passive checkpoint on the thread, for the rows the inline connections wrote (they never do)."""
        _in_background(self._run_in_new_connection("PRAGMA wal_checkpoint(PASSIVE)")).add_done_callback(
            _checkpoint_failed
        )

    def _writer_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    def _place(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        places = self._places.get(loop)
        if places is None:
            places = self._places[loop] = asyncio.Semaphore(self._open_max)
        return places

    async def get_connection(self) -> Any:
        pending = aiosqlite.connect(**self.connection_kwargs)
        # aiosqlite's worker thread is not a daemon: a connection still checked out when the database
        # stops (a request or the sweeper mid-query) would keep the process from ever exiting.
        pending._thread.daemon = True
        connection = await pending
        try:
            connection.row_factory = dict_factory  # type: ignore[assignment]  # aiosqlite says a class; any callable works
            await connection.execute("PRAGMA foreign_keys = 1")
            await connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _acquire(self) -> Any:
        """A connection for the caller alone, handed back with `_give_back`: an idle one, or a new one while
        fewer than `open_max` are out. A caller cancelled while its connection opens leaves it to the pool."""
        await self._place().acquire()
        if self._idle:
            return self._idle.pop()
        return await _to_the_end(self._open(), abandoned=self._adopt)

    async def _open(self) -> Any:
        try:
            return await self.get_connection()
        except BaseException:
            self._place().release()
            raise

    async def _adopt(self, connection: Any) -> None:
        self._give_back(connection, True)

    def _give_back(self, connection: Any, healthy: bool) -> None:
        """Back to the idle connections, or closed; it never waits, so no cancellation stops it halfway."""
        try:
            if healthy and len(self._idle) < self._idle_max:
                self._idle.append(connection)
            else:
                _in_background(connection.close())
        finally:
            self._place().release()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return PooledSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self._acquire()
        return await _to_the_end(self._statement(connection, query, args or []))

    async def _statement(self, connection: Any, query: str, args: list[Any]) -> Any:
        healthy = True
        try:
            return await connection._execute(_execute_fetch, connection._conn, query, args, True)
        except BaseException:
            healthy = False
            raise
        finally:
            self._give_back(connection, healthy)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        return await connection._execute(_execute_fetch, connection._conn, query, args or [], False)

    async def run_atomically(self, statements: list[tuple[str, list[Any]]]) -> list[list[Any]]:
        """Statements compiled for SQLite, run in one `BEGIN IMMEDIATE` transaction and one thread hop."""
        lock = self._writer_lock()
        await lock.acquire()
        try:
            connection = await self._acquire()
        except BaseException:
            lock.release()
            raise
        return await _to_the_end(self._atomically(connection, statements, lock))

    async def _atomically(
        self, connection: Any, statements: list[tuple[str, list[Any]]], lock: asyncio.Lock
    ) -> list[list[Any]]:
        healthy = True
        try:
            rows: list[list[Any]] = await connection._execute(_run_statements, connection._conn, statements)
            return rows
        except BaseException:
            healthy = False
            raise
        finally:
            try:
                self._give_back(connection, healthy)
            finally:
                lock.release()

    async def close_idle(self) -> None:
        while self._inline:
            self._inline.popitem()[1].close()
        while self._idle:
            await self._idle.pop().close()
