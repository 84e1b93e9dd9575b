"""CPU-bound work off the event loop: `await offload.cpu(fn, *args)` runs `fn(*args)` in a worker thread.

One event loop serves every request of a replica, so a handler that computes for 50 ms stalls every
other request (and /healthz) for 50 ms. Work that is CPU-bound and reachable from a request (password
hashing and checks, recurrence expansion, big exports, image work) goes through `cpu()`.

At most `CPU_SLOTS` (the number of cores, at least 2) such jobs run at once per process; the others
wait their turn without holding the loop, so a burst of expensive requests queues instead of starving
the cheap ones, and the thread pool Litestar uses for sync handlers is not taken. The work itself must
release the GIL to run truly in parallel (argon2-cffi does); pure-Python work still lets the loop run
between its bytecode slices.

The limiter belongs to the event loop that first used it (tests run one loop per session).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar, TypeVarTuple

import anyio
import anyio.to_thread

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

CPU_SLOTS = max(2, os.cpu_count() or 2)

_limiter: anyio.CapacityLimiter | None = None


def limiter() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:
        _limiter = anyio.CapacityLimiter(CPU_SLOTS)
    return _limiter


async def cpu(fn: Callable[[*Ts], T], *args: *Ts) -> T:
    """`fn(*args)`, computed in a worker thread (at most CPU_SLOTS at once); the caller's task waits."""
    return await anyio.to_thread.run_sync(fn, *args, limiter=limiter())


_making: dict[str, asyncio.Lock] = {}


async def make_once(key: str, ready: Callable[[], bool], make: Callable[[], Awaitable[object]]) -> None:
    """Run `make()` unless `ready()`, one at a time per `key` in this process: whoever asks while it runs waits
    for it and then finds it ready (a picture variant or a deep-zoom tile cut once, however many ask at once).
    The key's lock is dropped once nobody holds it, so the table does not grow with every file ever made."""
    if ready():
        return
    lock = _making.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            if not ready():
                await make()
    finally:
        if not lock.locked() and _making.get(key) is lock:
            del _making[key]
