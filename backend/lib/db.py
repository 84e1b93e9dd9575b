"""The database edge: which engine, its pool, readiness, migrations and write transactions.

`DATABASE_URL` picks the engine: `sqlite:///PATH` (the embedded default) or `postgres://…`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/x.db` is relative to the working directory, `sqlite:////abs/x.db` absolute."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"not a sqlite:///PATH URL: {url!r}")
    return Path(url[len(prefix) :])


class PooledSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLiteEngine opens a new aiosqlite connection (a new thread) for every query outside a
    transaction, which costs about a millisecond each; this one keeps a few open and reuses them.
    Transactions still get a connection of their own, as in Piccolo."""

    def __init__(self, *args: Any, idle_max: int = 8, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._idle: list[Any] = []
        self._idle_max = idle_max

    async def _acquire(self) -> Any:
        if self._idle:
            return self._idle.pop()
        connection = await self.get_connection()
        return connection

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
            async with connection.execute(query, args or []) as cursor:
                await connection.commit()
                return await cursor.fetchall()
        except BaseException:
            healthy = False
            try:
                await connection.rollback()
            except Exception:  # noqa: BLE001 - the connection is dropped below anyway
                pass
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
        await db.start_connection_pool(min_size=2, max_size=20)
    else:
        # WAL lets readers go on while one writer writes; set once per database file.
        await db.run_ddl("PRAGMA journal_mode=WAL;")


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
