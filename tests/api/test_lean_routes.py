"""The gate scan as a lean route (lib/lean_routes.py; issue 22): its handler is called without Litestar's
kwargs, signature and response machinery, and answers with the bytes and headers Litestar's own step
gives; a body that does not decode, and every error, are answered exactly as Litestar answers them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from litestar import Litestar, get, post
from litestar._asgi.routing_trie.mapping import build_route_middleware_stack
from litestar._asgi.routing_trie.types import ASGIHandlerTuple
from litestar.datastructures import ResponseHeader
from litestar.di import Provide
from litestar.routes.http import HTTPRoute

from backend.lib.lean_routes import install_lean_route
from tests.api.test_passes import OTHER, VENUE, booked_now, code_of

pytestmark = pytest.mark.anyio

PATH = "/api/v1/scans"


class _OnBothSteps:
    """The session app's client, and the same client with Litestar's own step put back for the gate scan
    (its middleware stack built anew, as Litestar builds it) for one request at a time."""

    def __init__(self, app: Litestar, client: httpx.AsyncClient) -> None:
        self.client = client
        self._routing = app.asgi_router.handle_routing  # remembers what it resolved: forgotten at each swap
        self._node = app.asgi_router.root_route_map_node.children[PATH]
        handler = self._node.asgi_handlers["POST"].handler
        route = next(r for r in app.routes if r.path == PATH and isinstance(r, HTTPRoute))
        self._full = ASGIHandlerTuple(
            build_route_middleware_stack(app=app, route=route, route_handler=handler), handler
        )

    async def post(self, *args: Any, **kwargs: Any) -> httpx.Response:
        lean = self._node.asgi_handlers["POST"]
        self._node.asgi_handlers["POST"] = self._full
        self._routing.cache_clear()
        try:
            return await self.client.post(*args, **kwargs)
        finally:
            self._node.asgi_handlers["POST"] = lean
            self._routing.cache_clear()


@pytest.fixture
def reference(app, client) -> _OnBothSteps:
    return _OnBothSteps(app, client)


@pytest.fixture
def full_steps(monkeypatch) -> list[str]:
    """The gate scans Litestar's own route step answered."""
    answered: list[str] = []
    real = HTTPRoute._call_handler_function

    async def counted(self, scope, *args, **kwargs):
        if scope["path"] == PATH:
            answered.append(scope["path"])
        return await real(self, scope, *args, **kwargs)

    monkeypatch.setattr(HTTPRoute, "_call_handler_function", counted)
    return answered


def _comparable(res: httpx.Response, *values: str) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers, with this request's own values (nonce, reservation, name) written as `#`."""
    body = res.content
    for value in values:
        body = body.replace(value.encode(), b"#")
    headers = {k: v for k, v in res.headers.items() if k not in ("x-request-id", "content-length")}
    return res.status_code, body, headers


async def test_a_scan_is_answered_lean_with_the_bytes_and_headers_of_litestars_step(
    client, reference, make_account, full_steps
):
    staff = await make_account("staff", venues=(VENUE,))
    answers = []
    for c in (client, reference):
        tourist = await make_account("tourist")
        booking = await booked_now(client, tourist)
        nonce = uuid.uuid4().hex
        body = {"code": await code_of(client, tourist), "venue_slug": VENUE, "nonce": nonce, "gate": "east"}
        res = await c.post(PATH, headers=staff["headers"], json=body)
        assert res.status_code == 200 and res.json()["result"] == "ok", res.text
        answers.append(_comparable(res, nonce, booking["id"], res.json().get("holder_name_masked") or "-"))
    assert answers[0] == answers[1]
    assert full_steps == [PATH]  # the reference's; the lean route's own answer came from the lean step
    assert answers[0][2]["content-type"] == "application/json"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[]",
        b'{"venue_slug": "changzhou-museum"}',
        b'{"code": "", "venue_slug": "changzhou-museum"}',
        b'{"code": "x", "venue_slug": "changzhou-museum", "direction": "sideways"}',
        b'{"code": "x", "venue_slug": "changzhou-museum", "unknown": 1}',
        b'{"code": 7, "venue_slug": "changzhou-museum"}',
        b'{"code": "x", "venue_slug": "changzhou-museum", "scanned_at": "yesterday"}',
    ],
)
async def test_a_body_that_does_not_decode_gets_litestars_own_answer(client, reference, make_account, full_steps, body):
    staff = await make_account("staff", venues=(VENUE,))
    headers = {**staff["headers"], "content-type": "application/json"}
    lean = await client.post(PATH, headers=headers, content=body)
    full = await reference.post(PATH, headers=headers, content=body)
    assert lean.status_code == 400, lean.text
    assert _comparable(lean) == _comparable(full)
    assert full_steps == [PATH, PATH]  # both answered by Litestar's step


async def test_refusals_are_the_same_problem_on_both_steps(client, reference, make_account):
    staff = await make_account("staff", venues=(VENUE,))
    other_staff = await make_account("staff", venues=(OTHER,))
    tourist = await make_account("tourist")
    cases = [
        ({}, {"code": "x", "venue_slug": VENUE}),  # no token: 401
        (tourist["headers"], {"code": "x", "venue_slug": VENUE}),  # not staff: 403 forbidden_role
        (other_staff["headers"], {"code": "x", "venue_slug": VENUE}),  # another venue's staff: 403
        (staff["headers"], {"code": "x", "venue_slug": "no-such-venue"}),  # 403 or 404, as the service says
    ]
    for headers, body in cases:
        lean = await client.post(PATH, headers=headers, json=body)
        full = await reference.post(PATH, headers=headers, json=body)
        assert lean.status_code >= 400 and lean.headers["content-type"] == "application/problem+json", lean.text
        assert _comparable(lean) == _comparable(full), body


async def test_a_decision_is_the_same_on_both_steps(client, reference, make_account):
    """A code that is not valid: a 200 decision, logged, from the service on both steps."""
    staff = await make_account("staff", venues=(VENUE,))
    for code in ("not-a-code", "A" * 100):
        answers = []
        for c in (client, reference):
            nonce = uuid.uuid4().hex
            res = await c.post(PATH, headers=staff["headers"], json={"code": code, "venue_slug": VENUE, "nonce": nonce})
            assert res.status_code == 200 and res.json()["result"] == "invalid", res.text
            answers.append(_comparable(res, nonce))
        assert answers[0] == answers[1]


def test_a_handler_the_lean_step_cannot_call_is_refused_at_start_up():
    async def provide_x() -> int:
        return 1

    @post("/guarded", guards=[lambda connection, handler: None])
    async def guarded(data: dict) -> dict:
        return data

    @post("/depends", dependencies={"x": Provide(provide_x)})
    async def depends(data: dict, x: int) -> dict:
        return data

    @post("/headers", response_headers=[ResponseHeader(name="x-a", value="1")])
    async def headers(data: dict) -> dict:
        return data

    @get("/nodata")
    async def nodata() -> dict:
        return {}

    @post("/plain", sync_to_thread=False)
    def plain(data: dict) -> dict:
        return data

    @post("/fine")
    async def fine(data: dict) -> dict:
        return data

    app = Litestar([guarded, depends, headers, nodata, plain, fine])
    for path, method, what in (
        ("/guarded", "POST", "guards"),
        ("/depends", "POST", "dependencies not provided"),
        ("/headers", "POST", "response headers"),
        ("/nodata", "GET", "no data parameter"),
        ("/plain", "POST", "a function that is not a coroutine"),
    ):
        with pytest.raises(RuntimeError, match=what):
            install_lean_route(app, path, method, {})
    install_lean_route(app, "/fine", "POST", {})
