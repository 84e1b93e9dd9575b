"""Issue 15, finding 11: live event streams (SSE) are capped per account, across replicas, and end when
their token is revoked (logout) — backend/lib/live_events.py `stream_guard_middleware`."""

from __future__ import annotations

import json

import anyio
import httpx
import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.response import ServerSentEvent

from backend.lib.live_events import EVENT_STREAM
from tests.api import security_helpers
from tests.api.security_helpers import RawStream

pytestmark = pytest.mark.anyio

settings_for_test = security_helpers.settings_for_test  # the fixture, for this module

STREAM = "/api/v1/me/notifications/stream"


def problem_of(body: bytes) -> dict:
    return json.loads(body)


async def test_every_event_stream_route_is_guarded(app):
    """The guard recognises a stream by its declared media type: every route that answers with
    server-sent events must declare it, or it would escape the cap and the logout."""
    streams = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            returns = handler.parsed_fn_signature.return_type.annotation
            if returns is ServerSentEvent or handler.media_type == EVENT_STREAM:
                assert handler.media_type == EVENT_STREAM, route.path
                streams.append(route.path)
    assert {STREAM, "/api/v1/scans/stream", "/api/v1/gov/occupancy/stream"} <= set(streams)


async def test_streams_are_capped_per_account(app, client, make_account, settings_for_test):
    settings_for_test(streams_per_account=5, stream_check_s=0.2)
    tourist, other = await make_account("tourist"), await make_account("tourist")
    async with anyio.create_task_group() as tg:
        mine = [RawStream(app, STREAM, tourist["headers"]) for _ in range(6)]
        for stream in mine[:5]:
            assert await stream.open(tg) == 200
            assert b"event: ready" in await stream.next_chunk()
        sixth = mine[5]
        assert await sixth.open(tg) == 429
        problem = problem_of(await sixth.body())
        assert problem["code"] == "too_many_streams"
        theirs = RawStream(app, STREAM, other["headers"])
        assert await theirs.open(tg) == 200  # another account's budget is its own
        await mine[0].close()  # one closes: a slot is free again
        again = RawStream(app, STREAM, tourist["headers"])
        assert await again.open(tg) == 200
        for stream in [*mine[1:5], theirs, again]:
            await stream.close()


async def test_a_stream_ends_when_its_token_is_revoked(app, client, make_account, settings_for_test):
    settings_for_test(stream_check_s=0.2)
    tourist = await make_account("tourist")
    async with anyio.create_task_group() as tg:
        stream = RawStream(app, STREAM, tourist["headers"])
        assert await stream.open(tg) == 200
        assert b"event: ready" in await stream.next_chunk()
        assert (await client.post("/api/v1/auth/logout", headers=tourist["headers"])).status_code == 204
        with anyio.fail_after(3):
            await stream.body(within=3)  # the response ends (the last chunk says so) within a few checks
        assert stream.ended
        await stream.close()
    # and its slot is given back
    settings_for_test(streams_per_account=1, stream_check_s=0.2)
    fresh = await make_account("tourist")
    async with anyio.create_task_group() as tg:
        first = RawStream(app, STREAM, fresh["headers"])
        assert await first.open(tg) == 200
        await first.close()
        second = RawStream(app, STREAM, fresh["headers"])
        assert await second.open(tg) == 200
        await second.close()


async def test_the_cap_holds_across_replicas(app, client, make_account, settings_for_test, peer_server_url):
    """With Redis, the leases are shared: streams held on this replica count on the other one too."""
    if app.state.settings.redis_url is None:
        pytest.skip("one process, in-process stores: the cap is this process's (tested above)")
    settings_for_test(streams_per_account=5, stream_check_s=0.2)
    tourist = await make_account("tourist")
    async with anyio.create_task_group() as tg:
        here = [RawStream(app, STREAM, tourist["headers"]) for _ in range(5)]
        for stream in here:
            assert await stream.open(tg) == 200
        async with httpx.AsyncClient(base_url=peer_server_url, timeout=10) as http:
            async with http.stream("GET", STREAM, headers=tourist["headers"]) as there:
                assert there.status_code == 429
                assert json.loads(await there.aread())["code"] == "too_many_streams"
        for stream in here:
            await stream.close()
