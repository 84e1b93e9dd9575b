"""The rebooking offers' sweeper: every replica expires the offers past their time (each once: a conditional
UPDATE), making the refunds the lapsed offers of closed bookings owe."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from backend.forecast.rebooking import rebooking
from backend.settings import get_settings

log = logging.getLogger("changxiang.forecast")


@asynccontextmanager
async def offer_sweeper(app: Any) -> AsyncIterator[None]:
    interval = get_settings().sweep_interval_s

    async def loop() -> None:
        while True:
            await anyio.sleep(interval)
            try:
                await rebooking.sweep()
            except Exception:  # noqa: BLE001 - keep sweeping; the next pass retries
                log.exception("rebooking offer sweep failed")

    async with anyio.create_task_group() as tg:
        tg.start_soon(loop)
        yield
        tg.cancel_scope.cancel()
