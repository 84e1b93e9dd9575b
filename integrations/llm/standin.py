"""A local stand-in for an OpenAI-compatible chat completions server, for tests and development (no
test talks to a real model). It keeps every request body it received (`requests`), and answers by
`mode`:

- `cite` (default): a short answer citing the first item of the data block the guide sends ([kind:slug]);
- `fabricate`: an answer citing an item that was never sent (`[venue:made-up-place]`);
- `uncited`: an answer with no citation at all;
- `fail`: HTTP 500; `garbage`: a 200 whose body is not a completion.

Start it with `start()` (a free port of 127.0.0.1, a daemon thread); `base_url` is then GUIDE_LLM_URL.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_REF = re.compile(r'"ref":\s*"([a-z]+:[^"]+)"')


class ChatStandIn:
    def __init__(self, mode: str = "cite") -> None:
        self.mode = mode
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = standin.handle(self.path, raw, self.headers.get("Authorization"))
                data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}/v1"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def handle(self, path: str, raw: bytes, authorization: str | None) -> tuple[int, Any]:
        with self._lock:
            self.raw.append(raw)
        if not path.endswith("/chat/completions"):
            return 404, {"error": {"message": "not found"}}
        try:
            body = json.loads(raw)
        except ValueError:
            return 400, {"error": {"message": "not JSON"}}
        with self._lock:
            self.requests.append({"body": body, "authorization": authorization})
        if self.mode == "fail":
            return 500, {"error": {"message": "the stand-in was told to fail"}}
        if self.mode == "garbage":
            return 200, b"<html>not a completion</html>"
        prompt = "\n".join(str(m.get("content", "")) for m in body.get("messages", []))
        refs = _REF.findall(prompt)
        if self.mode == "fabricate":
            content = "Go to the night market at 21:30 [venue:made-up-place]."
        elif self.mode == "uncited" or not refs:
            content = "It is a lovely place to visit."
        else:
            content = f"The city's data has this for you [{refs[0]}]."
        return 200, {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "model": body.get("model", "standin"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        }
