"""Fast reads: a hot public GET answered before Litestar's routing, parameter parsing and middleware.

A fast read is a function of the request's scope that returns the answer's JSON, or None when it cannot
vouch for the answer (a parameter it does not parse strictly, a value out of range, an error): then the
request goes on to the full stack, whose route handler, with the same service, is the reference and
answers everything else (errors as problem+json with their codes, the OpenAPI document). So a fast read
only ever answers what the route would have answered, and a test holds the two to the same bytes and
headers (issue 22: the finder's floor is a bare Litestar route; ours went through seven layers).

What the full stack adds to such an answer, the fast read adds too: the request id, the access line
and the metrics (`request_context_middleware`, which wraps the fast read and not its fallback twice),
the security headers (Litestar's `before_send` hooks, which wrap `asgi_handler` and so wrap this too)
and gzip when asked (the app's `CompressionConfig`: level 6, from 500 bytes). It is meant for public
reads only: it does not authenticate, and CSRF, the abuse limits and the audit are for writes.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.lib.request_log import request_context_middleware

if TYPE_CHECKING:
    from litestar import Litestar

FastRead = Callable[[Scope, dict[str, str]], Awaitable[bytes | None]]
"""(scope, the query's parameters) -> the JSON body of a 200, or None: let the full stack answer."""

_PLAIN_VALUE = re.compile(r"[A-Za-z0-9._,-]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9._,=&-]*")
_JSON = [(b"content-type", b"application/json")]
_GZIP = [(b"content-encoding", b"gzip"), (b"vary", b"Accept-Encoding")]


def plain_query(raw: bytes, names: frozenset[str]) -> dict[str, str] | None:
    """The query's parameters, when every name is one of `names`, given once, with a value made only of
    letters, digits and `._,-` (after percent-decoding); None for anything else (the full stack decides)."""
    if not raw:
        return {}
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError:
        return None
    plain = _PLAIN_QUERY.fullmatch(text) is not None  # most queries: nothing to decode or look at twice
    params: dict[str, str] = {}
    for pair in text.split("&"):
        name, eq, value = pair.partition("=")
        if not eq or name not in names or name in params:
            return None
        if not plain:
            try:
                value = unquote_plus(value, errors="strict")
            except UnicodeDecodeError:
                return None
            if not _PLAIN_VALUE.fullmatch(value):
                return None
        params[name] = value
    return params


def install_fast_reads(
    app: Litestar, reads: dict[str, tuple[FastRead, frozenset[str]]], compress_from: int = 500, level: int = 6
) -> None:
    """Answer GET `path` by its fast read (with the query names it knows) before `app`'s own handling."""
    full_stack = app.asgi_handler
    handlers = {path: handler for route in app.routes for path, handler in _get_handlers(route)}

    def answer(path: str, read: FastRead, names: frozenset[str]) -> ASGIApp:
        handler = handlers[path]

        async def fast(scope: Scope, receive: Receive, send: Send) -> None:
            params = plain_query(scope.get("query_string", b""), names)
            body = None
            if params is not None:
                try:
                    body = await read(scope, params)
                except Exception:  # noqa: BLE001 - the full stack answers it, with its own error handling
                    body = None
            if body is None:
                await full_stack(scope, receive, send)
                return
            scope["route_handler"], scope["path_template"] = handler, path  # for the metrics, as routing sets
            headers = list(_JSON)
            if len(body) >= compress_from and "gzip" in (header(scope, b"accept-encoding") or ""):
                body = gzip.compress(body, level)
                headers += _GZIP
            headers.append((b"content-length", str(len(body)).encode()))
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return request_context_middleware(fast)

    fast_paths = {path: answer(path, read, names) for path, (read, names) in reads.items()}

    async def asgi_handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] == "GET":
            fast = fast_paths.get(scope["path"])
            if fast is not None:
                await fast(scope, receive, send)
                return
        await full_stack(scope, receive, send)

    app.asgi_handler = asgi_handler


def _get_handlers(route: Any) -> list[tuple[str, Any]]:
    handler_map = getattr(route, "route_handler_map", None) or {}
    entry = handler_map.get("GET")
    return [(route.path, entry[0] if isinstance(entry, tuple) else entry)] if entry is not None else []


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the header `name` (lower case), as Litestar's `request.headers.get` gives it."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
