"""The deadline worker in the app's lifespan: every replica runs it (escalation is a conditional UPDATE,
deadlines.py), every `CHANGXIANG_SWEEP_INTERVAL_S`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from backend.cases.deadlines import escalate_due
from backend.settings import get_settings

log = logging.getLogger("changxiang.cases.worker")


@asynccontextmanager
async def case_deadlines(app: Any) -> AsyncIterator[None]:
    settings = app.state.settings if "settings" in app.state else get_settings()

    async def loop() -> None:
        await anyio.sleep(0.5)  # on_startup (the database) runs after lifespans are entered
        while True:
            try:
                while await escalate_due():
                    pass
            except Exception:  # noqa: BLE001 - keep going; the next pass retries what this one left
                log.exception("case deadline sweep failed")
            await anyio.sleep(settings.sweep_interval_s)

    async with anyio.create_task_group() as tg:
        tg.start_soon(loop)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
