"""The database edge: which engine, its pool, readiness, migrations and write transactions.

`DATABASE_URL` picks the engine: `sqlite:///PATH` (the embedded default) or `postgres://…`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory
from piccolo.querystring import QueryString


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


def _run_statements(conn: sqlite3.Connection, statements: list[tuple[str, list[Any]]]) -> list[list[Any]]:
    """BEGIN IMMEDIATE, every statement to the end, COMMIT: one write transaction in one hop."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        out = []
        for query, args in statements:
            cursor = conn.execute(query, args)
            try:
                out.append(cursor.fetchall())
            finally:
                cursor.close()
        conn.commit()
        return out
    except BaseException:
        conn.rollback()
        raise


class PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction on a pooled connection, handed back (not closed) at the end."""

    _writer_lock: asyncio.Lock | None = None

    async def get_connection(self) -> Any:
        return await self.engine._acquire()  # type: ignore[attr-defined]

    async def __aenter__(self) -> SQLiteTransaction:
        if self.engine.current_transaction.get() is None and self.transaction_type != TransactionType.deferred:
            # Writers of this process queue here instead of in SQLite's busy handler, which sleeps
            # with back-off and would stall every writer under load.
            self._writer_lock = self.engine._writer_lock()  # type: ignore[attr-defined]
            await self._writer_lock.acquire()
        try:
            return await super().__aenter__()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.release()
            raise

    async def __aexit__(self, exception_type, exception, traceback) -> bool:  # type: ignore[no-untyped-def]
        if self._parent:
            return exception is None
        healthy = True
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            healthy = False
            raise
        finally:
            await self.engine._release(self.connection, healthy)  # type: ignore[attr-defined]
            self.engine.current_transaction.reset(self.context)
            if self._writer_lock is not None:
                self._writer_lock.release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine opens a new aiosqlite connection (a new thread) for every query and every
    transaction, about a millisecond each; this one keeps a few open and reuses them.

    Connections run in WAL mode with `synchronous=NORMAL`: a crash of the process never loses a
    committed transaction; a power cut may lose the last ones (docs/decisions.md). Production runs on
    PostgreSQL.
    """

    def __init__(self, *args: Any, idle_max: int = 8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[Any] = []
        self._idle_max = idle_max
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def _writer_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        return lock

    async def get_connection(self) -> Any:
        pending = aiosqlite.connect(**self.connection_kwargs)
        # aiosqlite's worker thread is not a daemon: a connection still checked out when the database
        # stops (a request or the sweeper mid-query) would keep the process from ever exiting.
        pending._thread.daemon = True
        connection = await pending
        connection.row_factory = dict_factory
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")
        return connection

    async def _acquire(self) -> Any:
        if self._idle:
            return self._idle.pop()
        return await self.get_connection()

    def transaction(
        self, transaction_type: TransactionType = TransactionType.deferred, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return PooledSQLiteTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def _release(self, connection: Any, healthy: bool) -> None:
        if healthy and len(self._idle) < self._idle_max:
            self._idle.append(connection)
        else:
            await connection.close()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> Any:
        connection = await self._acquire()
        healthy = True
        try:
            return await connection._execute(_execute_fetch, connection._conn, query, args or [], True)
        except BaseException:
            healthy = False
            raise
        finally:
            await self._release(connection, healthy)

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
        async with lock:
            connection = await self._acquire()
            healthy = True
            try:
                return await connection._execute(_run_statements, connection._conn, statements)
            except BaseException:
                healthy = False
                raise
            finally:
                await self._release(connection, healthy)

    async def close_idle(self) -> None:
        while self._idle:
            await self._idle.pop().close()


def engine_for_url(url: str) -> Engine:
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: writers wait for SQLite's lock instead of failing with "database is locked".
        return PooledSQLiteEngine(path=str(path), timeout=30)
    raise ValueError(f"DATABASE_URL must be sqlite:///PATH or postgres://…, got {url!r}")


def engine() -> Engine:
    from backend.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def start_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        # asyncpg resets every connection it takes back (advisory locks, cursors, LISTEN, SET): one more
        # round trip per query. We use none of those on pooled connections, so skip it.
        await db.start_connection_pool(min_size=2, max_size=20, reset=_no_reset)
    else:
        # WAL lets readers go on while one writer writes; set once per database file.
        await db.run_ddl("PRAGMA journal_mode=WAL;")


async def _no_reset(connection: Any) -> None:
    return None


async def stop_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, PooledSQLiteEngine):
        await db.close_idle()


async def ping_database() -> bool:
    try:
        rows = await engine().run_ddl("SELECT 1 AS ok;")
    except Exception:  # noqa: BLE001 - readiness reports any failure as not ready
        return False
    return bool(rows)


def write_transaction() -> Any:
    """A transaction that takes the write lock up front: `BEGIN IMMEDIATE` on SQLite.

    On PostgreSQL it is an ordinary transaction; rows that must not be read-then-written concurrently
    are locked with `SELECT … FOR UPDATE` or changed in one conditional UPDATE.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def run_atomically(*statements: QueryString) -> list[list[dict]]:
    """Run statements (Piccolo `QueryString`s, `{}` placeholders) as one write transaction and return
    each one's rows. On SQLite the whole transaction is one `BEGIN IMMEDIATE … COMMIT` in one thread
    hop (the hot path of a gate scan); on PostgreSQL one pooled connection and transaction."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        compiled = [qs.compile_string(engine_type="sqlite") for qs in statements]
        return await db.run_atomically([(sql, list(args)) for sql, args in compiled])
    out = []
    async with write_transaction():
        for qs in statements:
            out.append(await db.run_querystring(qs))
    return out


async def migrate() -> None:
    """Apply every app's committed Piccolo migrations (idempotent)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either engine (sqlite3 or asyncpg)."""
    name = type(exc).__name__
    if name == "UniqueViolationError":
        return True
    return name == "IntegrityError" and "UNIQUE" in str(exc).upper()
