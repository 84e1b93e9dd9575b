"""Short SQLite statements on the event loop's own thread, bounded so that they cannot stall it (issue 22).

A statement through aiosqlite's thread costs a hop there and back: the queue, waking the thread, the GIL
handed over twice, the loop woken through its self-pipe, and the task that sees it to the end. Measured
alone that is about 120 µs of CPU for the gate scan's read, which SQLite itself answers in 14 µs; under
load the GIL hand-overs cost more. So the hot statements (`lib.db.fetch` outside a transaction, and the
grouped writes of `lib.sqlite_groups`) are tried here first, on one connection per event loop, under two
bounds:

- no waiting for a lock: the connection's busy timeout is 0, so a statement that would wait for another
  writer fails at once (SQLITE_BUSY) instead of sleeping on the loop;
- a budget of virtual-machine steps (`set_progress_handler`): a statement that runs longer than a small
  read or write is interrupted (SQLITE_INTERRUPT).

Either way the statement (or the whole transaction) is undone and `run` answers `NOT_HERE`: the caller goes
the usual way, through the thread, which waits and runs as long as it must. Any other error is the
statement's own and is raised as the thread would raise it.

The connection never checkpoints by itself (`wal_autocheckpoint=0`): a checkpoint copies the log into
the database file and syncs it, which can take milliseconds. After every `CHECKPOINT_ROWS` rows changed
here, a passive checkpoint runs on the thread instead. Reads in WAL mode never wait for writers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any, Final, TypeVar

from piccolo.engine.sqlite import dict_factory

T = TypeVar("T")

STEP_OPS = 1_000  # virtual-machine instructions between two calls of the progress handler
STEP_BUDGET = 25  # calls allowed a statement: 25,000 instructions, a few hundred µs at most
CHECKPOINT_ROWS = 2_000  # rows changed here between two passive checkpoints on the thread


class NotHere:
    def __repr__(self) -> str:
        return "NOT_HERE"


NOT_HERE: Final = NotHere()
"""What `run` answers when the work could not be done on the loop: do it through the thread."""

_GIVE_WAY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT}


def gives_way(exc: BaseException) -> bool:
    """True for the errors that mean "not here, not now" (a lock held elsewhere, the budget spent), not
    that the statement itself is wrong: grouped writes re-raise these rather than answer them."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.OperationalError) and code is not None and code & 0xFF in _GIVE_WAY


class InlineConnection:
    """One SQLite connection used only on its event loop's thread, between two awaits."""

    def __init__(self, connection_kwargs: dict[str, Any], checkpoint: Callable[[], object]) -> None:
        # busy timeout 0: never sleep on the loop; used by one loop's thread only, closed by whichever stops it
        kwargs = dict(connection_kwargs, timeout=0, check_same_thread=False)
        self.conn = sqlite3.connect(**kwargs)
        self.conn.row_factory = dict_factory
        self.conn.execute("PRAGMA foreign_keys = 1")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.conn.set_progress_handler(self._step, STEP_OPS)
        self._steps = 0
        self._checkpoint = checkpoint
        self._changes_checkpointed = 0

    def _step(self) -> int:
        self._steps += 1
        return 1 if self._steps > STEP_BUDGET else 0  # non-zero: SQLite interrupts the statement

    def run(self, work: Callable[..., T], *args: Any) -> T | NotHere:
        """`work(connection, *args)` here and now, or NOT_HERE when it would wait or run long (undone)."""
        self._steps = 0
        try:
            result = work(self.conn, *args)
        except sqlite3.OperationalError as exc:
            if not gives_way(exc):
                raise
            self._steps = -(10**9)  # the rollback below must not be interrupted in its turn
            if self.conn.in_transaction:
                self.conn.rollback()
            return NOT_HERE
        finally:
            if self.conn.in_transaction:  # work that raised half-way: nothing it began stays open
                self._steps = -(10**9)
                self.conn.rollback()
        if self.conn.total_changes - self._changes_checkpointed >= CHECKPOINT_ROWS:
            self._changes_checkpointed = self.conn.total_changes
            self._checkpoint()
        return result

    def close(self) -> None:
        self.conn.close()
