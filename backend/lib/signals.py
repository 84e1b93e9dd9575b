"""In-process signals: how a lower room tells the rooms above it what happened without importing them
(in the spirit of pretix's `checkin_created.send` / `@receiver`).

The lower room owns the signal and sends a plain value; create_app connects the receivers of the rooms
above. Receivers run in the order they were connected, awaited in the sender's task (so what they write
is done when the sender's request answers); an error in one propagates to the sender, as if the sender
had called it. Live streams (SSE) are another thing: `backend.lib.live_events`, best effort, across
replicas.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

Receiver = Callable[[T], Awaitable[None]]


class Signal(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: list[Receiver[T]] = []

    def connect(self, receiver: Receiver[T]) -> Receiver[T]:
        """Add `receiver` (once: connecting it again changes nothing). Usable as a decorator."""
        if receiver not in self._receivers:
            self._receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Receiver[T]) -> None:
        if receiver in self._receivers:
            self._receivers.remove(receiver)

    @property
    def receivers(self) -> tuple[Receiver[T], ...]:
        return tuple(self._receivers)

    async def send(self, value: T) -> None:
        for receiver in list(self._receivers):
            await receiver(value)

    def __repr__(self) -> str:
        return f"Signal({self.name!r}, receivers={len(self._receivers)})"


class Stamp:
    """A number that moves whenever something changes, for caches to key on: writers `move` it, readers
    put `value` in their cache keys. Lets a lower room tell caches of rooms beside it that their answers
    went stale without calling them (occupancy's movements, and the catalog's venue pages)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.value = 0

    def move(self) -> None:
        self.value += 1


# Live figures (occupancy, directives, warnings) changed in this process: pages that show them are stale.
live_figures = Stamp("live figures")
