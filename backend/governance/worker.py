"""The bridge's worker in the app's lifespan: a clock that enqueues the periodic feed (occupancy every
`GOV_OCCUPANCY_PUSH_S`, daily figures after `GOV_DAILY_REPORT_HOUR`) and a drainer that delivers the
outbox to `GOV_PLATFORM_URL`. Both run only when the platform is configured; every replica runs them
(dedup keys and row leases make that safe)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from litestar import Litestar

from backend.governance import outbox
from backend.governance.services import supervision
from backend.settings import get_settings
from integrations.gov_platform import HttpGovPlatform

log = logging.getLogger("changxiang.governance.worker")


@asynccontextmanager
async def gov_bridge(app: Litestar) -> AsyncIterator[None]:
    settings = app.state.settings if "settings" in app.state else get_settings()
    if not (settings.gov_platform_url and settings.gov_platform_secret):
        yield
        return
    platform = HttpGovPlatform(settings.gov_platform_url, settings.gov_platform_secret)

    async def clock() -> None:
        await anyio.sleep(0.5)  # on_startup (the database) runs after lifespans are entered
        while True:
            try:
                await supervision.tick()
            except Exception:  # noqa: BLE001 - the next tick retries
                log.exception("gov feed tick failed")
            await anyio.sleep(min(settings.gov_occupancy_push_s / 2, 5.0))

    async def drainer() -> None:
        await anyio.sleep(0.5)
        while True:
            try:
                delivered, _ = await outbox.drain_once(platform)
            except Exception:  # noqa: BLE001 - keep draining; leases make a half-done batch safe
                log.exception("gov outbox drain failed")
                delivered = 0
            if not delivered:
                await anyio.sleep(settings.gov_outbox_interval_s)

    async with anyio.create_task_group() as tg:
        tg.start_soon(clock)
        tg.start_soon(drainer)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()
            await platform.close()
