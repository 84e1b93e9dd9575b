"""The request log (issue 22, item 5): one JSON line per request, personal data masked, written by a thread of
its own so a request never waits on stdout."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest

from backend.lib import request_log
from backend.lib.request_log import LineWriter, request_context_middleware


class Recording:
    """A binary stream that records what was written and by which thread; `gate` can hold writes back."""

    def __init__(self) -> None:
        self.data = b""
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def write(self, data: bytes) -> None:
        self.entered.set()
        self.gate.wait(30)
        self.threads.add(threading.current_thread().name)
        self.data += data

    def flush(self) -> None:
        pass


async def _ok(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def _request(path: str, request_id: str = "req-1") -> int:
    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    scope = {"type": "http", "method": "GET", "path": path, "headers": [(b"x-request-id", request_id.encode())]}
    await request_context_middleware(_ok)(scope, receive, send)
    return sent[0]["status"]


@pytest.fixture
def writer():
    stream = Recording()
    line_writer = LineWriter(stream)
    previous = request_log.use_writer(line_writer)
    level = request_log.access_log.level
    request_log.access_log.setLevel(logging.INFO)
    yield line_writer, stream
    request_log.use_writer(previous)
    request_log.access_log.setLevel(level)
    stream.gate.set()
    line_writer.close()


def test_one_json_line_per_request_masked_and_written_off_the_callers_thread(writer):
    line_writer, stream = writer
    asyncio.run(_request("/api/v1/things"))
    asyncio.run(_request("/api/v1/lookup/320402198512310015", request_id="req-2"))
    line_writer.close()
    lines = [json.loads(line) for line in stream.data.decode("utf-8").splitlines()]
    assert [(x["request_id"], x["method"], x["status"], x["logger"]) for x in lines] == [
        ("req-1", "GET", 204, "changxiang.access"),
        ("req-2", "GET", 204, "changxiang.access"),
    ]
    assert lines[0]["path"] == "/api/v1/things" and lines[0]["msg"] == "request" and lines[0]["ms"] >= 0
    assert "198512310015" not in lines[1]["path"] and lines[1]["path"].startswith("/api/v1/lookup/320")
    assert stream.threads == {"log-writer"}


def test_a_stuck_stdout_does_not_hold_a_request(writer):
    line_writer, stream = writer
    stream.gate.clear()  # the reader of our stdout has stopped reading
    asyncio.run(_request("/first"))
    assert stream.entered.wait(5)  # the writer thread is stuck in write()...
    assert asyncio.run(_request("/second")) == 204  # ...and requests still finish,
    assert stream.data == b""  # while nothing has been written yet (a write on the request's path would have)
    stream.gate.set()
    line_writer.close()
    assert [json.loads(x)["path"] for x in stream.data.decode().splitlines()] == ["/first", "/second"]


def test_without_a_writer_the_line_goes_through_the_logger(caplog):
    previous = request_log.use_writer(None)
    try:
        with caplog.at_level(logging.INFO, logger="changxiang.access"):
            asyncio.run(_request("/via-logging"))
    finally:
        request_log.use_writer(previous)
    [record] = [r for r in caplog.records if r.name == "changxiang.access"]
    assert record.path == "/via-logging" and record.status == 204


def test_a_handler_adds_its_fields_to_the_one_access_line(writer):
    """A gate scan's decision rides on its request's access line (issue 22: one line a request), masked as
    every line is; the line's own fields are not overwritten, and outside a request nothing is added."""
    line_writer, stream = writer

    async def scan_like(scope, receive, send) -> None:
        assert request_log.annotate(venue="changzhou-museum", result="ok", note="call 13912345678", status=999)
        await _ok(scope, receive, send)

    async def run() -> None:
        def scope(path: str) -> dict:
            return {"type": "http", "method": "POST", "path": path, "headers": []}

        async def send(message) -> None:
            pass

        async def receive() -> dict:
            return {"type": "http.request", "body": b""}

        await request_context_middleware(scan_like)(scope("/api/v1/scans"), receive, send)
        await request_context_middleware(_ok)(scope("/next"), receive, send)

    asyncio.run(run())
    assert request_log.annotate(venue="x") is False
    line_writer.close()
    first, second = [json.loads(line) for line in stream.data.decode("utf-8").splitlines()]
    assert (first["venue"], first["result"], first["status"], first["path"]) == (
        "changzhou-museum",
        "ok",
        204,
        "/api/v1/scans",
    )
    assert "13912345678" not in first["note"] and first["note"].startswith("call 139")
    assert "venue" not in second  # the next request's line is its own
