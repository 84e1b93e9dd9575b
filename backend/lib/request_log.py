"""Structured logs: one JSON object a line, each carrying the request id; personal data masked.

Litestar's own LoggingMiddleware can log bodies and headers, which carry ID numbers and tokens, so
the access line here logs only method, path, status and duration (docs/decisions.md).

Lines are written by a thread of their own (`LineWriter`): a request never waits on stdout (a full pipe to
`docker logs` would otherwise stall the event loop). The access line, one per request, skips the logging
machinery: its fields are encoded once, with msgspec, and handed to the writer (issue 22, item 5: the
default request log had halved the server's rate). Without `configure_logging` (tests' own handlers), it
goes through the `changxiang.access` logger as any other line.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import queue
import random
import re
import sys
import threading
import time
from typing import Any, BinaryIO

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from backend.lib import metrics

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# what the request's handler added to its access line (`annotate`); None outside a request
_annotations: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("access_fields", default=None)


def annotate(**fields: Any) -> bool:
    """Add `fields` to this request's one access line (what a handler would otherwise log on a line of its
    own: a gate scan's venue and result). False outside a request (nothing added): log them yourself.
    Strings are masked as every line's are; the line's own fields keep their names."""
    held = _annotations.get()
    if held is None:
        return False
    held.update(fields)
    return True


_REQUEST_ID_OK = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Mainland resident IDs (18 chars), passports/permits (letter + 8 digits), mobile numbers, bearer tokens.
_PERSONAL = [
    (re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9A-Za-z])"), r"\1***********\2"),
    (re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._-]+"), r"\1***"),
]


# What every pattern above needs somewhere in the text (eleven digits in a row, or "bearer"): one search,
# a tenth of the three substitutions' cost, and most log values (slugs, results, paths) have neither.
_MAYBE_PERSONAL = re.compile(r"\d{11}|[Bb][Ee][Aa][Rr][Ee][Rr]")


def mask_personal(text: str) -> str:
    if _MAYBE_PERSONAL.search(text) is None:
        return text
    for pattern, replacement in _PERSONAL:
        text = pattern.sub(replacement, text)
    return text


# a line's fields as JSON, what JSON has no type for written as its str() (msgspec: a tenth of json.dumps)
_encode_any = msgspec.json.Encoder(enc_hook=str).encode


class JsonFormatter(logging.Formatter):
    _SKIP = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": request_id_var.get(),
            "msg": mask_personal(record.getMessage()),
        }
        for key, value in record.__dict__.items():
            if key not in self._SKIP and not key.startswith("_"):
                entry[key] = mask_personal(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = mask_personal(self.formatException(record.exc_info))
        return _encode_any(entry).decode("utf-8")


class LineWriter:
    """Encoded log lines, written to `stream` by a daemon thread in batches, in the order they were put."""

    _STOP = b""

    def __init__(self, stream: BinaryIO, linger_s: float = 0.05) -> None:
        self.stream = stream
        self.linger_s = linger_s
        self._lines: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def put(self, line: bytes) -> None:
        self._lines.put(line)

    def _run(self) -> None:
        while True:
            batch = [self._lines.get()]
            # then gather what comes within a moment: one wake-up (and one GIL hand-over) per batch, not a line
            time.sleep(self.linger_s)
            while len(batch) < 4096:
                try:
                    batch.append(self._lines.get_nowait())
                except queue.Empty:
                    break
            stop = self._STOP in batch
            try:
                self.stream.write(b"".join(line for line in batch if line))
                self.stream.flush()
            except (OSError, ValueError):  # stdout closed or gone: logs are not worth a crash
                pass
            if stop:
                return

    def close(self, timeout: float = 2.0) -> None:
        """Write what is queued, then stop (at exit)."""
        if self._thread.is_alive():
            self._lines.put(self._STOP)
            self._thread.join(timeout)


class _WriterHandler(logging.Handler):
    """Formats a record where it was logged (its request id is there) and hands the line to the writer."""

    def __init__(self, writer: LineWriter) -> None:
        super().__init__()
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.put(self.format(record).encode("utf-8") + b"\n")
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


_writer: LineWriter | None = None


def use_writer(writer: LineWriter | None) -> LineWriter | None:
    """Make `writer` the one access lines go to (None: through the logger); the previous one."""
    global _writer
    previous, _writer = _writer, writer
    return previous


class _TextStream:
    """A text stream (one without `.buffer`, as some test runners' stdout) taking the writer's bytes."""

    def __init__(self, text: Any) -> None:
        self.text = text

    def write(self, data: bytes) -> None:
        self.text.write(data.decode("utf-8"))

    def flush(self) -> None:
        self.text.flush()


def configure_logging(level: str, stream: BinaryIO | None = None) -> None:
    out: Any = stream if stream is not None else getattr(sys.stdout, "buffer", None) or _TextStream(sys.stdout)
    previous = use_writer(LineWriter(out))
    if previous is not None:
        previous.close()
    assert _writer is not None
    atexit.register(_writer.close)
    handler = _WriterHandler(_writer)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = name != "uvicorn.access"  # our access line replaces uvicorn's


access_log = logging.getLogger("changxiang.access")
_LONG_NUMBER = re.compile(r"\d{11}")  # what mask_personal could match in a path
_second: tuple[int, str] = (-1, "")


def _timestamp(now: float) -> str:
    """A line's `ts` for this second, formatted once a second (one tuple, swapped whole: lines are
    formatted on the event loop and in worker threads)."""
    global _second
    sec = int(now)
    cached = _second
    if cached[0] != sec:
        cached = _second = (sec, time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(sec)))
    return cached[1]


def _log_access(
    writer: LineWriter | None, rid: str, method: str, path: str, status: int, ms: float, fields: dict[str, Any]
) -> None:
    if _LONG_NUMBER.search(path):
        path = mask_personal(path)
    if fields:
        fields = {k: mask_personal(v) if isinstance(v, str) else v for k, v in fields.items() if k not in _OWN}
    if writer is None:
        access_log.info("request", extra={**fields, "method": method, "path": path, "status": status, "ms": ms})
        return
    line = {
        **fields,
        "ts": _timestamp(time.time()),
        "level": "info",
        "logger": "changxiang.access",
        "request_id": rid,
        "msg": "request",
        "method": method,
        "path": path,
        "status": status,
        "ms": ms,
    }
    writer.put(_encode_any(line) + b"\n")


# an access line's own fields, and a log record's attributes (which `extra` may not set)
_OWN = frozenset({"ts", "level", "logger", "request_id", "msg", "method", "path", "status", "ms"}) | JsonFormatter._SKIP


def _new_request_id() -> str:
    """32 random hex digits, like `uuid4().hex` at a sixth of its cost: an id correlates log lines and is
    no secret, so Python's generator (seeded from the OS, and reseeded in a forked child) is enough."""
    return f"{random.getrandbits(128):032x}"


_HELD = "changxiang.request_context"  # in a scope whose request already has its id, access line and metrics


def request_context_middleware(app: ASGIApp) -> ASGIApp:
    """Give every request an id (the caller's X-Request-ID if sane), echo it, log one access line, and
    count it for Prometheus (lib/metrics.py)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or _HELD in scope:  # held: a fast read's fallback (lib/fast_reads)
            await app(scope, receive, send)
            return
        scope[_HELD] = True  # type: ignore[literal-required]  # an extension key of our own
        incoming = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        rid = incoming if _REQUEST_ID_OK.match(incoming) else _new_request_id()
        token = request_id_var.set(rid)
        fields: dict[str, Any] = {}
        fields_token = _annotations.set(fields)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            took = time.perf_counter() - started
            metrics.record(scope, status, took)
            if access_log.isEnabledFor(logging.INFO):
                method, path = scope.get("method", ""), scope.get("path", "")
                _log_access(_writer, rid, method, path, status, round(took * 1000, 2), fields)
            _annotations.reset(fields_token)
            request_id_var.reset(token)

    return middleware
