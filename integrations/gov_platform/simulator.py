"""A local stand-in for the supervision platform, for development and tests (`changxiang gov-sim`).

It receives our pushes at `POST /v1/messages`, verifies their signature, keeps them (a page at `/`
and JSON at `GET /v1/messages`), can refuse the first N (or all, while `refusing` is set) with 503
to play an outage, and sends signed directives and CAP alerts to our server.
"""

from __future__ import annotations

import json
import threading
import time
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from integrations.gov_platform import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureRejected, signed_headers, verify


class GovPlatformSimulator:
    def __init__(self, secret: str, refuse_first: int = 0) -> None:
        self.secret = secret
        self.refuse_first = refuse_first
        self.refusing = False  # an outage for as long as it is set
        self.refused = 0
        self.rejected_signatures = 0
        self.messages: list[dict[str, Any]] = []  # acknowledged, in arrival order (with repeats)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # ---- receiving

    def receive(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
        try:
            verify(self.secret, headers.get(TIMESTAMP_HEADER.lower()), headers.get(SIGNATURE_HEADER.lower()), body)
        except SignatureRejected as exc:
            with self._lock:
                self.rejected_signatures += 1
            return 401, {"error": exc.reason}
        with self._lock:
            if self.refusing or self.refused < self.refuse_first:
                self.refused += 1
                return 503, {"error": "platform unavailable (simulated)"}
            try:
                message = json.loads(body)
            except ValueError:
                return 400, {"error": "not JSON"}
            self.messages.append(message)
        return 200, {"ack": message.get("id")}

    def received(self, type_: str | None = None) -> list[dict]:
        with self._lock:
            return [m for m in self.messages if type_ is None or m.get("type") == type_]

    def page(self) -> str:
        rows = "".join(
            f"<tr><td>{escape(str(m.get('sent_at')))}</td><td>{escape(str(m.get('type')))}</td>"
            f"<td><code>{escape(json.dumps(m.get('data'), ensure_ascii=False)[:400])}</code></td></tr>"
            for m in reversed(self.received())
        )
        return (
            "<!doctype html><meta charset=utf-8><title>一网统管 simulator</title>"
            f"<h1>Received {len(self.messages)} (refused {self.refused})</h1>"
            f"<table border=1 cellpadding=4><tr><th>sent_at</th><th>type</th><th>data</th></tr>{rows}</table>"
        )

    # ---- sending to our server

    def send(self, url: str, body: bytes, content_type: str, timestamp: int | None = None) -> httpx.Response:
        headers = signed_headers(self.secret, body, timestamp)
        headers["Content-Type"] = content_type
        return httpx.post(url, content=body, headers=headers, timeout=30)

    def send_directive(self, api_base: str, directive: dict, timestamp: int | None = None) -> httpx.Response:
        body = json.dumps(directive, ensure_ascii=False).encode()
        return self.send(api_base.rstrip("/") + "/gov/directives", body, "application/json", timestamp)

    def send_alert(self, api_base: str, cap_xml: str | bytes, timestamp: int | None = None) -> httpx.Response:
        body = cap_xml.encode() if isinstance(cap_xml, str) else cap_xml
        return self.send(api_base.rstrip("/") + "/gov/alerts", body, "application/cap+xml", timestamp)

    # ---- the HTTP server

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        sim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(self, status: int, payload: Any, content_type: str = "application/json") -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                if self.path.startswith("/v1/messages"):
                    self._reply(200, {"items": sim.received()})
                else:
                    self._reply(200, sim.page(), "text/html; charset=utf-8")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path != "/v1/messages":
                    self._reply(404, {"error": "not found"})
                    return
                status, payload = sim.receive(body, {k.lower(): v for k, v in self.headers.items()})
                self._reply(status, payload)

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://{host}:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, predicate, timeout_s: float = 90.0, interval_s: float = 0.2) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(interval_s)
        return predicate(self)
