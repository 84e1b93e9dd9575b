"""The request edge: inputs that can't be stored or computed are refused before any handler sees them.

One check for every route, whatever its parameters and body (docs/security.md, "Inputs we can't store"):
- path, query and JSON body text must be UTF-8 without NUL characters (PostgreSQL refuses NUL in text):
  `invalid_text`; a body that is not UTF-8, or JSON nested deeper than `MAX_DEPTH`: `invalid_body`;
- a value that is a date or a date-time (`2026-07-01`, `2026-07-01T10:00:00+08:00`), anywhere in the
  path, query or JSON body, must name a year FIRST_YEAR..LAST_YEAR: arithmetic at the calendar's ends
  overflows (`date_out_of_range`);
- an integer query or path parameter must fit the 32-bit columns it is looked up in, and a JSON body's
  integers the 64-bit ones (`out_of_range`); schemas bound their own fields more tightly (`lib/bounds`).
Everything else (unknown fields, wrong types, malformed JSON) is left to the handler's own validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import msgspec
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from litestar.typing import FieldDefinition

from backend.lib.bounds import FIRST_YEAR, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, LAST_YEAR
from backend.lib.problems import InvalidInput

MAX_DEPTH = 32
# a date or date-time value, with a year of any length or sign (`+10000-01-01`, `0001-01-01T00:00Z`)
_DATE = re.compile(r"[+-]?(\d{4,})-\d{1,2}-\d{1,2}(?:[T ]\d[\d:.,+\-Z ]*)?")
_INTEGER = re.compile(r"[+-]?\d+")
# what a plain ASCII query (no %-escapes) must hold for any check below to refuse it: a year before its
# dash (a date), or ten digits in a row (an integer past 32 bits). Without either, nothing is decoded.
_RISKY = re.compile(rb"\d{4}-|\d{10}")


def _check_text(value: str, where: str) -> None:
    if "\x00" in value:
        raise InvalidInput("invalid_text", f"{where} contains a NUL character", field=where)
    match = _DATE.fullmatch(value)
    if match is not None and not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise InvalidInput(
            "date_out_of_range", f"{where}: dates must fall in the years {FIRST_YEAR}..{LAST_YEAR}", field=where
        )


def _check_json(value: Any, where: str = "body") -> None:
    """Walk the decoded body without recursion: depth, text and integer range of every value."""
    stack: list[tuple[Any, str, int]] = [(value, where, 1)]
    while stack:
        item, at, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item, at)
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not INT64_MIN <= item <= INT64_MAX:
                raise InvalidInput("out_of_range", f"{at}: the number is too large to store", field=at)
        elif isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidInput("invalid_body", f"the JSON body is nested deeper than {MAX_DEPTH} levels")
            if isinstance(item, dict):
                for key, sub in item.items():
                    _check_text(key, at)
                    stack.append((sub, f"{at}.{key}", depth + 1))
            else:
                stack.extend((sub, f"{at}[{i}]", depth + 1) for i, sub in enumerate(item))


def _utf8_kind(content_type: str) -> str | None:
    """The media type of a body that must be UTF-8 (JSON, forms, text without another charset), else None.
    XML declares its own encoding and is read by its parser (a CAP warning may come in GB 18030)."""
    kind, _, params = content_type.partition(";")
    kind = kind.strip().lower()
    charset = params.lower().split("charset=", 1)[1].strip(' "') if "charset=" in params.lower() else "utf-8"
    if charset.replace("-", "").replace("_", "") not in ("utf8", "usascii", "ascii"):
        return None
    if kind in ("", "application/json", "application/x-www-form-urlencoded") or kind.endswith("+json"):
        return kind
    if kind.startswith("text/"):
        return kind
    return None


def check_body(body: bytes, content_type: str) -> None:
    """Refuse a text body that is not UTF-8, and a JSON body too deep, with NUL, a date at the calendar's
    ends or an integer past 64 bits. JSON that does not parse is left to the handler to refuse."""
    kind = _utf8_kind(content_type)
    if not body or kind is None:
        return
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("invalid_body", "the body is not valid UTF-8") from None
    if "\x00" in text:
        raise InvalidInput("invalid_text", "the body contains a NUL character")
    if not ("json" in kind or (not kind and text.lstrip()[:1] in ("{", "["))):
        return
    try:
        value = msgspec.json.decode(body)
    except RecursionError:
        raise InvalidInput("invalid_body", f"the JSON body is nested deeper than {MAX_DEPTH} levels") from None
    except msgspec.DecodeError:
        return
    _check_json(value)


def _is_int(field: FieldDefinition) -> bool:
    return any(t.annotation is int for t in (field, *field.inner_types))


_int_queries: dict[int, tuple[BaseRouteHandler, frozenset[str]]] = {}


def _integer_query_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The query parameters of `handler` that are integers (by their alias, as they appear in the URL)."""
    known = _int_queries.get(id(handler))
    if known is not None and known[0] is handler:
        return known[1]
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None) or not _is_int(field):
            continue
        names.add(getattr(kwarg, "query", None) or name)
    _int_queries[id(handler)] = (handler, frozenset(names))
    return frozenset(names)


def _check_integer(value: str, where: str, low: int = INT32_MIN, high: int = INT32_MAX) -> None:
    if _INTEGER.fullmatch(value.strip()) and not low <= int(value) <= high:
        raise InvalidInput("out_of_range", f"{where} is out of range ({low}..{high})", field=where)


def check_url(scope: Scope) -> None:
    """Path and query: UTF-8 without NUL, dates inside the calendar, integer parameters inside 32 bits."""
    raw_path = scope.get("raw_path") or scope["path"].encode()
    if b"%" in raw_path or not raw_path.isascii():
        try:
            unquote_to_bytes(raw_path).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("invalid_text", "the path is not valid UTF-8") from None
    if "\x00" in scope["path"]:
        raise InvalidInput("invalid_text", "the path contains a NUL character")
    for name, value in (scope.get("path_params") or {}).items():
        if isinstance(value, str):
            _check_text(value, name)
        elif isinstance(value, int) and not isinstance(value, bool):
            _check_integer(str(value), name)
    query = scope.get("query_string") or b""
    if not query or (query.isascii() and b"%" not in query and b"\x00" not in query and not _RISKY.search(query)):
        return  # nothing here can be refused: don't decode it (most queries; issue 22)
    handler = scope.get("route_handler")
    check_query(query, _integer_query_names(handler) if isinstance(handler, BaseRouteHandler) else frozenset())


def check_query(query: bytes, integers: frozenset[str]) -> None:
    """Every name and value of a query string, decoded (`integers`: the names that are integers)."""
    try:
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise InvalidInput("invalid_text", "the query is not valid UTF-8") from None
    for name, value in pairs:
        _check_text(name, "query")
        _check_text(value, name)
        if name in integers:
            _check_integer(value, name)


def _content_type(scope: Scope) -> tuple[str, int | None]:
    kind, length = "", None
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            kind = value.decode("latin-1")
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return kind, length


def input_guard(max_body_bytes: int) -> Callable[[ASGIApp], ASGIApp]:
    """The guard as Litestar middleware: `middleware=[..., input_guard(settings.max_body_bytes), ...]`.
    Bodies over `max_body_bytes` pass through unread (Litestar refuses them with 413)."""

    def middleware_factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            check_url(scope)
            kind, length = _content_type(scope)
            if scope.get("method") in ("GET", "HEAD", "OPTIONS") and not length:
                await app(scope, receive, send)
                return
            if length is not None and length > max_body_bytes:
                await app(scope, receive, send)
                return
            messages: list[ReceiveMessage] = []
            body = bytearray()
            while True:
                message = await receive()
                messages.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False) or len(body) > max_body_bytes:
                    break
            complete = messages[-1]["type"] == "http.request" and not messages[-1].get("more_body", False)
            if complete:
                check_body(bytes(body), kind)

            async def replay() -> ReceiveMessage:
                if messages:
                    return messages.pop(0)
                return await receive()

            await app(scope, replay, send)

        return middleware

    return middleware_factory
