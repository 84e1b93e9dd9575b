"""A local stand-in for a map tile provider (an XYZ raster server), for tests and development: it serves the
sketch basemap of `integrations.tiles` at `/{z}/{x}/{y}.png` and counts what it was asked for, so a test can
prove the map's tiles come from the configured provider and nowhere else. No test reaches a real provider.

`start()` picks a free port of 127.0.0.1 (a daemon thread); `template` is then a CHANGXIANG_MAP_TILES value.
"""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from integrations.tiles import render_tile, valid_tile

_PATH = re.compile(r"^/(\d{1,2})/(\d{1,7})/(\d{1,7})\.png$")


class TileStandIn:
    def __init__(self) -> None:
        self.requests: list[tuple[int, int, int]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.base_url = ""

    @property
    def template(self) -> str:
        return f"{self.base_url}/{{z}}/{{x}}/{{y}}.png"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:  # noqa: N802
                found = _PATH.match(self.path.split("?")[0])
                if not found or not valid_tile(*(int(g) for g in found.groups())):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                z, x, y = (int(g) for g in found.groups())
                with standin._lock:
                    standin.requests.append((z, x, y))
                body = render_tile(z, x, y)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "public, max-age=86400")
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer((host, port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
