"""Follow one `POST /scans` through the code (ARCHITECTURE.md: "a request should visit each room at most
once, top to bottom"): every function call of the request is watched, and each entry into a room from
outside it (from another room, a floor below, or the framework) is written down in order."""

from __future__ import annotations

import asyncio
import sys
from types import FrameType
from typing import Any

import pytest

from tests.api.test_passes import VENUE, booked_now, code_of, scan

pytestmark = pytest.mark.anyio

NOT_ROOMS = {"lib", "settings", "app", "cli", "piccolo_conf"}


def _room(frame: FrameType | None) -> str | None:
    """The room a frame runs in (`backend.<room>.…`), "" for backend's floors and wiring, None outside."""
    if frame is None:
        return None
    parts = str(frame.f_globals.get("__name__", "")).split(".")
    if parts[0] != "backend" or len(parts) < 2:
        return None
    return "" if parts[1] in NOT_ROOMS else parts[1]


def _caller_room(frame: FrameType) -> str | None:
    back = frame.f_back
    while back is not None and _room(back) is None:
        back = back.f_back
    return _room(back)


def _caller(frame: FrameType) -> str:
    back = frame.f_back
    while back is not None and _room(back) is None:
        back = back.f_back
    return "outside" if back is None else f"{back.f_globals['__name__']}.{back.f_code.co_qualname}"


class RoomTrace:
    """Entries into rooms, in order: a new frame in room R whose nearest backend caller is not in R, in the
    request's own task (the profiler sees the whole thread, and the app's workers, such as the cases'
    escalation loop, run in tasks of their own on the same event loop)."""

    def __init__(self) -> None:
        self.task = asyncio.current_task()
        self.entries: list[str] = []
        self.where: list[str] = []
        self._seen: list[Any] = []  # frames already counted (a coroutine's frame is "called" on every resume)
        self._ids: set[int] = set()

    def __call__(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or id(frame) in self._ids or frame.f_code.co_filename == "<string>":
            return
        try:
            if asyncio.current_task() is not self.task:
                return
        except RuntimeError:  # a worker thread's frame (no event loop there)
            return
        self._seen.append(frame)  # generated code (a dataclass's __init__) is making a value, not a visit
        self._ids.add(id(frame))
        room = _room(frame)
        if room and _caller_room(frame) != room:
            self.entries.append(room)
            self.where.append(f"{room}.{frame.f_code.co_qualname} <- {_caller(frame)}")


async def test_a_scan_visits_each_room_once_top_to_bottom(client, make_account):
    tourist = await make_account("tourist")
    staff = await make_account("staff", venues=(VENUE,))
    await booked_now(client, tourist)
    code = await code_of(client, tourist)
    trace = RoomTrace()
    sys.setprofile(trace)
    try:
        res = await scan(client, staff, code)
    finally:
        sys.setprofile(None)
    assert res.status_code == 200 and res.json()["result"] == "ok", res.text
    # auth, then the audit middleware; the gate's room looks the venue up in the catalog and hands the
    # movement to occupancy, which tells the supervision bridge (its listener) what happened
    assert trace.entries == ["accounts", "audit", "passes", "venues", "occupancy", "governance"], trace.where
    assert len(set(trace.entries)) == len(trace.entries), f"a room entered twice: {trace.where}"


async def test_a_scan_reads_once_and_writes_once(client, make_account, monkeypatch):
    """Issue 22: an online scan is one read (the pass, the holder's bookings of the day and their visitors)
    and one atomic write (the redemption, under the venue's capacity read in the same statement, its gate
    count and its log line). The venue's counts are not read before, nor the visitors after, and the
    figure the supervision bridge hears is the venue's true one after the entry."""
    from backend.occupancy import services as occupancy_services
    from backend.occupancy.services import occupancy, occupancy_changed
    from backend.passes import scanning

    tourist = await make_account("tourist")
    staff = await make_account("staff", venues=(VENUE,))
    await booked_now(client, tourist, party=2)
    code = await code_of(client, tourist)
    calls: list[str] = []

    def spy(module, name: str) -> None:
        real = getattr(module, name)

        async def spied(*args, **kwargs):
            calls.append(name)
            return await real(*args, **kwargs)

        monkeypatch.setattr(module, name, spied)

    spy(scanning, "fetch")
    spy(scanning, "visitors_of")
    spy(occupancy_services, "gate_counts")
    spy(occupancy_services, "atomic_write")
    heard = []

    async def listener(figure) -> None:
        heard.append(figure)

    occupancy_changed.connect(listener)
    try:
        res = await scan(client, staff, code)
    finally:
        occupancy_changed.disconnect(listener)
    assert res.status_code == 200 and res.json()["result"] == "ok", res.text
    assert len(res.json()["visitors"]) == 2
    assert calls == ["fetch", "atomic_write"]
    assert len(heard) == 1
    assert heard[0] == await occupancy.venue(VENUE)
