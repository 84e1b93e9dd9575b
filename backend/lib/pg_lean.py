"""A lean pool of PostgreSQL connections for the hot statements outside transactions (issue 22).

asyncpg's pool costs about 60 µs of CPU to hand a connection out and take it back (an acquire context, a
queue, a holder, timeouts and shields), as much as the statement itself: measured alone, 127 µs for a
one-row `fetch` through the pool against 64 µs on a held connection. A gate scan makes two such
statements. This pool hands out an idle connection without awaiting anything, and takes it back by
appending it to a list; the statement itself runs on asyncpg's connection as before (its prepared-
statement cache, its codecs).

- At most `size` connections per event loop, opened on demand (so a process that never scans opens none);
  callers beyond wait in order of arrival.
- A statement that raises a server error (a unique violation, a refusal) leaves its connection usable: it
  goes back. Anything else (the caller cancelled mid-statement, a connection lost) may leave the protocol
  mid-way, so the connection is closed, not handed out again, and a waiter may open a new one.
- Only `lib.db.fetch` outside a transaction uses it; transactions keep Piccolo's pool.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import asyncpg

LEAN_POOL_SIZE = 8  # connections per event loop, beside Piccolo's pool


class LeanPool:
    def __init__(self, dsn: str, size: int = LEAN_POOL_SIZE) -> None:
        self.dsn = dsn
        self.size = size
        self._idle: list[asyncpg.Connection] = []
        self._open = 0  # connections out, idle or being opened
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closed = False

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        """The statement's rows (asyncpg records), on a connection of the pool."""
        connection = self._idle.pop() if self._idle else await self._connection()
        try:
            rows: list[Any] = await connection.fetch(sql, *args)
        except asyncpg.PostgresError:  # the statement's own error: the connection is ready for the next
            self._give_back(connection)
            raise
        except BaseException:  # cancelled mid-statement, or the connection lost: not to be used again
            self._discard(connection)
            raise
        self._give_back(connection)
        return rows

    async def _connection(self) -> asyncpg.Connection:
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the lean pool is closed")
            if self._open < self.size:
                self._open += 1
                try:
                    return await asyncpg.connect(self.dsn)
                except BaseException:
                    self._open -= 1
                    self._wake(None)  # a waiter may try to open one in its turn
                    raise
            waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._give_back(waiter.result())  # handed over as the caller went away
                raise
            if handed is not None:
                return handed
            # None: a place came free (a connection closed); go round and open one

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed:
            self._discard(connection)
        elif not self._wake(connection):
            self._idle.append(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        self._open -= 1
        connection.terminate()  # at once, without a round trip: it may be mid-statement
        self._wake(None)

    def _wake(self, handed: asyncpg.Connection | None) -> bool:
        """Hand `handed` (or a free place, None) to the first caller still waiting; False if none."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(handed)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()
        for connection in idle:
            try:
                await asyncio.wait_for(connection.close(), 5)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()
