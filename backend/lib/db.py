"""The database edge: which engine, its pool, readiness, migrations and write transactions.

`DATABASE_URL` picks the engine: `sqlite:///PATH` (the embedded default) or `postgres://…`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import anyio
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString

from backend.lib.pg_lean import LEAN_POOL_SIZE, LeanPool
from backend.lib.sqlite_engine import PooledSQLiteEngine, _execute_fetch, sqlite_path
from backend.lib.sqlite_groups import run_grouped
from backend.lib.sqlite_inline import NotHere

log = logging.getLogger("changxiang.db")


def engine_for_url(url: str) -> Engine[Any]:
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config={"dsn": url})
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: writers wait for SQLite's lock instead of failing with "database is locked".
        return PooledSQLiteEngine(path=str(path), timeout=30)
    raise ValueError(f"DATABASE_URL must be sqlite:///PATH or postgres://…, got {url!r}")


_engine: Engine[Any] | None = None


def engine() -> Engine[Any]:
    """The engine Piccolo's tables use: `DB` of the module `PICCOLO_CONF` names (backend.piccolo_conf),
    found the way Piccolo finds it, so lib does not import the configuration that imports lib."""
    global _engine
    if _engine is None:
        found = engine_finder()
        if found is None:
            raise RuntimeError("no Piccolo engine: set PICCOLO_CONF (backend.piccolo_conf)")
        _engine = found
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


POSTGRES_POOL_MAX = 20


def connections_max() -> int:
    """The most connections this process holds open to the database at once (per event loop)."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        return db._open_max + 1  # and the loop's inline connection (lib/sqlite_inline.py)
    return POSTGRES_POOL_MAX + LEAN_POOL_SIZE


_lean: dict[asyncio.AbstractEventLoop, LeanPool] = {}


def _lean_pool(db: PostgresEngine) -> LeanPool:
    """This event loop's lean pool (lib/pg_lean.py), made on first use."""
    loop = asyncio.get_running_loop()
    pool = _lean.get(loop)
    if pool is None:
        pool = _lean[loop] = LeanPool(db.config["dsn"])
    return pool


async def start_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        # asyncpg resets every connection it takes back (advisory locks, cursors, LISTEN, SET): one more
        # round trip per query. We use none of those on pooled connections, so skip it.
        await db.start_connection_pool(min_size=2, max_size=POSTGRES_POOL_MAX, reset=_no_reset)
    else:
        # WAL lets readers go on while one writer writes; set once per database file.
        await db.run_ddl("PRAGMA journal_mode=WAL;")


async def _no_reset(connection: Any) -> None:
    return None


POOL_CLOSE_S = 10.0


async def stop_database() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        lean = _lean.pop(asyncio.get_running_loop(), None)
        if lean is not None:
            await lean.close()
        # asyncpg's close waits for every connection to come back: a task still holding one (a request the
        # server is abandoning) would hold the shutdown for ever, so after POOL_CLOSE_S they are cut
        pool = db.pool
        if pool is None:
            return
        try:
            with anyio.fail_after(POOL_CLOSE_S):
                await pool.close()
        except TimeoutError:
            log.warning("database pool: connections still out after %.0f s; terminated", POOL_CLOSE_S)
            pool.terminate()
        db.pool = None
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


async def run_atomically(*statements: QueryString) -> list[list[dict[str, Any]]]:
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


# What rooms ask of the engine, by intention: only lib knows which engine it is.


_compiled: dict[str, str] = {}


def _numbered(template: str) -> str:
    """`{}` placeholders → PostgreSQL's `$1`, `$2`, …, worked out once per statement."""
    sql = _compiled.get(template)
    if sql is None:
        parts = template.split("{}")
        sql = _compiled[template] = parts[0] + "".join(f"${i}{part}" for i, part in enumerate(parts[1:], 1))
    return sql


_qmarked: dict[str, str] = {}


def _qmarks(template: str) -> str:
    """`{}` placeholders → SQLite's `?`, worked out once per statement (what Piccolo's `compile_string`
    makes of a template without nested query strings or escaped braces, as every hot statement is)."""
    sql = _qmarked.get(template)
    if sql is None:
        sql = _qmarked[template] = template.replace("{}", "?")
    return sql


async def fetch(template: str, *args: Any) -> list[dict[str, Any]]:
    """Rows of a statement written with `{}` placeholders, as dicts, by the shortest way: on PostgreSQL
    straight through asyncpg (the statement numbered once; a Piccolo select built per call costs three
    times the CPU of the query, its raw path half again), on the transaction's own connection inside a
    transaction (so it sees the transaction's writes), else on the pool; on SQLite outside a transaction by
    our engine's one-hop statement (inside one, through Piccolo's engine, on the transaction's connection).
    For the hot paths (a scan, a booking): anything else goes through Piccolo."""
    db = engine()
    if isinstance(db, PostgresEngine):
        transaction = db.current_transaction.get()
        if transaction is not None:
            return [dict(row) for row in await transaction.connection.fetch(_numbered(template), *args)]
        # outside a transaction: on a connection of the lean pool (lib/pg_lean.py), not asyncpg's
        return [dict(row) for row in await _lean_pool(db).fetch(_numbered(template), *args)]
    elif isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        # on the loop itself when it is short and waits for no lock (lib/sqlite_inline.py), else our engine's
        # one-hop statement; either way without a Piccolo QueryString built and compiled per call
        sql, values = _qmarks(template), list(args)
        rows = db.inline().run(_execute_fetch, sql, values, True)
        if isinstance(rows, NotHere):
            rows = await db._run_in_new_connection(sql, values)
        return rows  # dicts already (the engine's row factory)
    rows = await db.run_querystring(QueryString(template, *args))
    return [dict(row) for row in rows]


HOT_ROW_WRITERS = 2  # transactions of one process that may wait on one hot row at once


class HotRowQueue:
    """Writers of one process that will all update the same row (a hot slot) wait here, at most
    `width` of them inside the database at once. PostgreSQL wakes every transaction waiting on a row's
    lock each time its holder commits, and all but one go back to sleep: with dozens waiting that
    herd costs more database CPU than the writes. Waiting in the event loop instead costs nothing, and
    the order of arrival is kept. Entered before the transaction begins (it holds no database lock).

    A turn is an asyncio semaphore's, taken without a pass through the loop when one is free (anyio's
    semaphore yields to the loop even then, and made a gate scan's turn cost about 50 µs: issue 22)."""

    def __init__(self, width: int = HOT_ROW_WRITERS) -> None:
        self.width = width
        self._gates: dict[Any, _Gate] = {}

    def turn(self, key: Any) -> _Turn:
        """`async with queue.turn(key):` the caller's turn at the row `key`."""
        return _Turn(self, key)


class _Gate:
    __slots__ = ("places", "users")

    def __init__(self, width: int) -> None:
        self.places = asyncio.Semaphore(width)
        self.users = 0  # in or waiting; the gate goes when none is left


class _Turn:
    __slots__ = ("queue", "key", "gate")

    def __init__(self, queue: HotRowQueue, key: Any) -> None:
        self.queue, self.key = queue, key

    async def __aenter__(self) -> None:
        gates = self.queue._gates
        gate = gates.get(self.key)
        if gate is None:
            gate = gates[self.key] = _Gate(self.queue.width)
        gate.users += 1
        self.gate = gate
        try:
            await gate.places.acquire()
        except BaseException:  # cancelled while waiting: it holds no place
            self._leave()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self.gate.places.release()
        self._leave()

    def _leave(self) -> None:
        self.gate.users -= 1
        if self.gate.users == 0:
            self.queue._gates.pop(self.key, None)


async def lock_row(table: str, row_id: int) -> None:
    """Inside a write transaction: hold row `row_id` of `table` until it ends, so writers that depend on
    it queue behind each other (one user's bookings, so the booking limit holds). PostgreSQL:
    `SELECT … FOR UPDATE`. SQLite: nothing to do, the write transaction (`BEGIN IMMEDIATE`) already is
    the only writer."""
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {table!r}")
    if isinstance(engine(), SQLiteEngine):
        return
    await fetch(f"SELECT id FROM {table} WHERE id = {{}} FOR UPDATE", row_id)


async def take_turns(lock_key: int) -> None:
    """Inside a write transaction: writers holding the same `lock_key` take turns until it ends (an
    append-only chain read at its head, then extended). PostgreSQL: a transaction-scoped advisory lock.
    SQLite: nothing to do, the write transaction already is the only writer."""
    if isinstance(engine(), SQLiteEngine):
        return
    await fetch("SELECT pg_advisory_xact_lock({})", lock_key)


def skip_locked() -> str:
    """The lock clause for the inner SELECT of a claim (`UPDATE … WHERE id IN (SELECT … {here})`), so
    workers claiming at once take different rows instead of waiting for each other: ` FOR UPDATE SKIP
    LOCKED` on PostgreSQL; nothing on SQLite, whose one writer at a time claims alone."""
    return "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"


# A statement as the hot paths hand it over: SQL with `{}` placeholders, and their values. A Piccolo
# `QueryString` is built from one only where Piccolo runs it (its constructor walks every value).
Statement = tuple[str, tuple[Any, ...]]


async def atomic_write(
    single: Statement, steps: Sequence[Statement], answer: int | tuple[int, ...]
) -> list[dict[str, Any]]:
    """One atomic write, given two ways: `single`, one statement that writes through data-modifying CTEs
    (`WITH x AS (UPDATE … RETURNING …) INSERT …`), or `steps`, plain statements run in one write
    transaction. PostgreSQL runs `single` (one round trip); SQLite, which has no data-modifying CTEs,
    runs `steps` in one `BEGIN IMMEDIATE` hop (`run_atomically`). Returns the rows of `single`, or of
    `steps[answer]`: the caller writes both so they answer the same. `answer` may name several steps
    that return a row each at most: the answer is then their first rows as one row (in that order)."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine) and db.current_transaction.get() is None:
        results = await run_grouped(db, [(_qmarks(sql), list(args)) for sql, args in steps])
    elif isinstance(db, SQLiteEngine):
        results = await run_atomically(*(QueryString(sql, *args) for sql, args in steps))
    else:
        return await fetch(single[0], *single[1])  # one statement: atomic by itself
    if isinstance(answer, int):
        return results[answer]
    if not results[answer[0]]:
        return []
    merged: dict[str, Any] = {}
    for step in answer:
        if results[step]:
            merged.update(results[step][0])
    return [merged]


async def migrate() -> None:
    """Apply every app's committed Piccolo migrations (idempotent)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


def is_deadlock(exc: BaseException) -> bool:
    """True when PostgreSQL broke a lock cycle by failing this transaction (SQLSTATE 40P01): the transaction
    did nothing and may simply be run again. SQLite serialises writers, so it never says this."""
    return type(exc).__name__ == "DeadlockDetectedError" or getattr(exc, "sqlstate", None) == "40P01"


def is_unique_violation(exc: BaseException) -> bool:
    """True for a unique-constraint failure on either engine (sqlite3 or asyncpg)."""
    name = type(exc).__name__
    if name == "UniqueViolationError":
        return True
    return name == "IntegrityError" and "UNIQUE" in str(exc).upper()
