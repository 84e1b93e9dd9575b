"""Issue 16, SOS: one tap reaches the venue's staff and governance at once (the case stream, SSE), with the
visitor's location, and the location follows while the SOS is open."""

from __future__ import annotations

import json
import time

import anyio
import pytest

from tests.api.case_helpers import OTHER_VENUE, VENUE, file_case
from tests.api.security_helpers import RawStream

pytestmark = pytest.mark.anyio

STREAM = "/api/v1/cases/stream"


async def _next_event(stream: RawStream, name: str, within: float) -> dict | None:
    """The data of the next `name` event on `stream` within `within` seconds, or None."""
    deadline = time.monotonic() + within
    buffer = b""
    while time.monotonic() < deadline:
        try:
            chunk = await stream.next_chunk(within=max(0.01, deadline - time.monotonic()))
        except TimeoutError:
            return None
        if chunk is None:
            return None
        buffer += chunk
        while b"\r\n\r\n" in buffer or b"\n\n" in buffer:
            sep = b"\r\n\r\n" if b"\r\n\r\n" in buffer else b"\n\n"
            block, buffer = buffer.split(sep, 1)
            lines = block.decode().splitlines()
            event = next((ln[6:].strip() for ln in lines if ln.startswith("event:")), None)
            data = "".join(ln[5:].strip() for ln in lines if ln.startswith("data:"))
            if event == name:
                return json.loads(data)
    return None


async def test_an_sos_reaches_the_venue_staff_and_governance_within_two_seconds(app, client, make_account):
    visitor = await make_account("tourist")
    staff, elsewhere = await make_account("staff", venues=(VENUE,)), await make_account("staff", venues=(OTHER_VENUE,))
    governance = await make_account("governance")
    async with anyio.create_task_group() as tg:
        streams = {
            "staff": RawStream(app, STREAM, staff["headers"]),
            "governance": RawStream(app, STREAM, governance["headers"]),
            "elsewhere": RawStream(app, STREAM, elsewhere["headers"]),
        }
        for s in streams.values():
            assert await s.open(tg) == 200
            assert await _next_event(s, "ready", 5) == {}
        started = time.monotonic()
        sos = await file_case(
            client, visitor, kind="sos", text="", location={"lat": 31.8106, "lng": 119.9656, "accuracy_m": 20}
        )
        for who in ("staff", "governance"):
            event = await _next_event(streams[who], "sos", 2.0)
            assert event is not None, f"{who} did not hear the SOS within 2 s"
            assert event["id"] == sos["id"] and event["priority"] == "urgent" and event["venue_slug"] == VENUE
            assert event["location"] == {"lat": 31.8106, "lng": 119.9656, "accuracy_m": 20.0}
            assert "text" not in event and "contact_phone" not in event
        assert time.monotonic() - started < 2.0
        assert await _next_event(streams["elsewhere"], "sos", 0.5) is None  # another venue's staff: not theirs

        res = await client.post(
            f"/api/v1/cases/{sos['id']}/location", headers=visitor["headers"], json={"lat": 31.8120, "lng": 119.9670}
        )
        assert res.status_code == 200
        moved = await _next_event(streams["staff"], "location", 2.0)
        assert moved is not None and moved["location"]["lat"] == 31.812
        for s in streams.values():
            await s.close()


async def test_visitors_do_not_get_the_case_stream(app, client, make_account):
    visitor = await make_account("tourist")
    async with anyio.create_task_group() as tg:
        stream = RawStream(app, STREAM, visitor["headers"])
        assert await stream.open(tg) == 403
        await stream.close()
