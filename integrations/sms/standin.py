"""A local stand-in for an SMS provider's HTTP API (the shape `integrations.sms.HttpSms` sends), for tests
and development: no test sends a real text message.

`POST /v1/messages` records the message (and answers 200 `{"id": …}`); `GET /v1/messages?to=+86…` lists what
was sent to a number, newest last. `failing = 503` makes it refuse every message (a provider in trouble);
`last_code(phone)` is the newest code sent to `phone`. Start it with `start()` (a free port of 127.0.0.1, a
daemon thread); `base_url` is then SMS_API_URL.
"""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class SmsStandIn:
    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.messages: list[dict[str, Any]] = []
        self.failing: int | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def _reply(self, status: int, body: Any) -> None:
                data = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                if parts.path != "/v1/messages":
                    self._reply(404, {"error": "not found"})
                    return
                to = parse_qs(parts.query).get("to", [None])[0]
                self._reply(200, {"items": standin.sent_to(to) if to else list(standin.messages)})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = standin.receive(self.path, raw, self.headers.get("Authorization"))
                self._reply(status, body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def receive(self, path: str, raw: bytes, authorization: str | None) -> tuple[int, dict[str, Any]]:
        if urlsplit(path).path != "/v1/messages":
            return 404, {"error": "not found"}
        if self.api_key and authorization != f"Bearer {self.api_key}":
            return 401, {"error": "bad key"}
        if self.failing:
            return self.failing, {"error": "provider unavailable"}
        try:
            body = json.loads(raw or b"{}")
            to, template, params = body["to"], body["template"], body.get("params") or {}
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "bad message"}
        message = {"id": uuid.uuid4().hex, "to": to, "template": template, "params": params}
        with self._lock:
            self.messages.append(message)
        return 200, {"id": message["id"]}

    def sent_to(self, phone: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["to"] == phone]

    def last_code(self, phone: str) -> str | None:
        sent = self.sent_to(phone)
        return str(sent[-1]["params"].get("code")) if sent else None
