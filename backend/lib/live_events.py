"""Live events for streams (SSE): services publish plain dicts on a named channel, knowing nothing of
Litestar; create_app binds the channels plugin (memory, or Redis pub/sub so every replica's streams
see every replica's events). Publishing is best effort: the database stays the record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("changxiang.live")

_publisher: Callable[[Any, str], None] | None = None


def bind(publisher: Callable[[Any, str], None] | None) -> None:
    global _publisher
    _publisher = publisher


def publish(channel: str, data: dict) -> None:
    if _publisher is None:
        return
    try:
        _publisher(data, channel)
    except Exception:  # noqa: BLE001 - a stream missing one event must not fail the write that caused it
        log.warning("live event not published", extra={"channel": channel})
