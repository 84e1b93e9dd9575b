"""Helpers of the security tests: clients at chosen addresses, settings changed for one test."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
import anyio.abc
import httpx
import msgspec
import pytest


@asynccontextmanager
async def client_at(app, address: str, port: int = 40000):
    """A client of the in-process app whose requests come from `address` (the ASGI `client`)."""
    transport = httpx.ASGITransport(app=app, client=(address, port))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as http:
        yield http


async def post_from(app, address: str, path: str, body: dict) -> httpx.Response:
    async with client_at(app, address) as http:
        return await http.post(path, json=body)


@pytest.fixture
def settings_for_test(app):
    """Replace some of the app's settings for one test."""
    original = app.state.settings

    def replace(**values: object) -> None:
        app.state.settings = msgspec.structs.replace(original, **values)

    yield replace
    app.state.settings = original


class RawStream:
    """One request to the in-process app, driven at the ASGI level so a streaming answer (SSE) can be read
    as it comes (httpx's ASGITransport waits for the whole body), and the client can go away."""

    def __init__(self, app, path: str, headers: dict[str, str], client: tuple[str, int] = ("127.0.0.1", 50001)):
        self.app = app
        raw_headers = [(b"host", b"testserver.local")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": raw_headers,
            "client": client,
            "server": ("testserver.local", 80),
            "state": {},
        }
        self._out_send, self._out = anyio.create_memory_object_stream(1000)
        self._gone = anyio.Event()
        self.status: int | None = None
        self.ended = False
        self._task_done = anyio.Event()

    async def _receive(self):
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message):
        await self._out_send.send(message)

    async def _run(self) -> None:
        try:
            await self.app(self.scope, self._receive, self._send)
        finally:
            self._task_done.set()

    async def open(self, tg) -> int:
        """Start the request in `tg`; the answer's status."""
        tg.start_soon(self._run)
        with anyio.fail_after(10):
            start = await self._out.receive()
        assert start["type"] == "http.response.start"
        self.status = start["status"]
        return self.status

    async def next_chunk(self, within: float = 5.0) -> bytes | None:
        """The next piece of the body; None once the response has ended."""
        if self.ended:
            return None
        with anyio.fail_after(within):
            message = await self._out.receive()
        if not message.get("more_body", False):
            self.ended = True
            return message.get("body") or None
        return message["body"]

    async def body(self, within: float = 5.0) -> bytes:
        out = b""
        while (chunk := await self.next_chunk(within)) is not None:
            out += chunk
        return out

    async def close(self) -> None:
        """The client goes away."""
        self._gone.set()
        with anyio.fail_after(10):
            await self._task_done.wait()
