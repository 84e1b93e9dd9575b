"""Lean routes: a hot route's handler called without Litestar's per-request machinery (issue 22).

For every request, Litestar's route step builds the handler's arguments through a kwargs model and a
signature model, opens a dependency exit stack, and wraps the answer in a `Response` that it renders and
turns into an ASGI response. For the gate scan that is about a tenth of its CPU, for what amounts to
decoding one small body into one struct and encoding one struct back.

A lean route keeps everything around that step: the routing, the route's middleware stack as Litestar
built it (authentication, the request id and access line, CSRF, the abuse limits, the input guard, the
audit), the route's `before_request` hook (its role check), Litestar's exception handling (every error is
the same problem+json with the same code), and the `before_send` hooks (security headers). Only the
innermost step is replaced:

- the body is decoded into the handler's `data` type by Litestar's own decoder, with the route's type
  decoders and the same lax coercion its signature model applies;
- the handler is called with the request, that data, and the values the app provides by name (a plugin's
  dependency, such as the channels);
- its answer is encoded by the route's own serializer, with the route's status and media type.

What the lean step would not decide exactly as Litestar does, it hands to Litestar's own step: a body that
does not decode into the type (Litestar then answers it, with its own 400 and details; the body is read
once, and Litestar reads it again from the scope). Installing refuses a handler that uses anything the
lean step does not do (guards, other dependencies, a cache, after-request or after-response hooks,
response headers, cookies or a background task), so a change to the route fails at start-up, not later.
`test_lean_routes.py` holds the lean and the full step to the same bytes and headers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from litestar._asgi.routing_trie.mapping import build_route_middleware_stack
from litestar._asgi.routing_trie.types import ASGIHandlerTuple
from litestar.handlers import HTTPRouteHandler
from litestar.response import Response
from litestar.routes import HTTPRoute
from litestar.serialization import decode_json, encode_json, get_serializer
from litestar.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from litestar import Litestar


def install_lean_route(app: Litestar, path: str, method: str, provided: dict[str, Any]) -> None:
    """Answer `method path` (a path without parameters) by a lean step; `provided`: the values, by
    parameter name, that the app gives the handler besides `request` and `data` (plugin dependencies)."""
    node = app.asgi_router.root_route_map_node.children[path]
    handler = node.asgi_handlers[method].handler  # type: ignore[index]  # a method name, as Litestar keys them
    if not isinstance(handler, HTTPRouteHandler):
        raise RuntimeError(f"{method} {path} is not an HTTP route")
    route = next(r for r in app.routes if r.path == path and isinstance(r, HTTPRoute))
    _refuse_unless_lean(handler, provided)
    step = _Stepped(_lean_step(handler, provided, fallback=route.handle), route.route_handlers)
    node.asgi_handlers[method] = ASGIHandlerTuple(  # type: ignore[index]  # a method name, as above
        asgi_app=build_route_middleware_stack(app=app, route=step, route_handler=handler),  # type: ignore[arg-type]  # duck-typed
        handler=handler,
    )
    app.asgi_router.handle_routing.cache_clear()  # the router remembers what it resolved (lru_cache)


class _Stepped:
    """What `build_route_middleware_stack` reads of a route: its innermost step, and its handlers."""

    def __init__(self, handle: ASGIApp, route_handlers: list[Any]) -> None:
        self.handle = handle
        self.route_handlers = route_handlers


def _refuse_unless_lean(handler: HTTPRouteHandler, provided: dict[str, Any]) -> None:
    parameters = set(inspect.signature(handler.fn).parameters)
    problems = {
        "parameters other than request, data and the provided": parameters - {"request", "data", *provided},
        "guards": handler.resolve_guards(),
        "dependencies not provided": set(handler.resolve_dependencies()) - set(provided),
        "a function that is not a coroutine": handler.has_sync_callable,
        "a response cache": handler.cache,
        "after-request hooks": [layer for layer in handler.ownership_layers if layer.after_request],
        "after-response hooks": handler.resolve_after_response(),
        "response headers": handler.resolve_response_headers(),
        "response cookies": handler.resolve_response_cookies(),
        "a background task": handler.background,
        "no data parameter": "data" not in parameters,
        "a response class of its own": handler.resolve_response_class() is not Response,
        "a Response or ASGI app for an answer": handler.parsed_fn_signature.return_type.is_subclass_of(Response)
        or handler.parsed_fn_signature.return_type.annotation is ASGIApp,
    }
    found = [what for what, present in problems.items() if present]
    if found:
        raise RuntimeError(f"{handler} cannot be a lean route: it has {', '.join(found)}")


def _lean_step(handler: HTTPRouteHandler, provided: dict[str, Any], fallback: Callable[..., Any]) -> ASGIApp:
    fn = handler.fn
    before = handler.resolve_before_request()
    request_class = handler.resolve_request_class()
    data_type = handler.parsed_fn_signature.parameters["data"].annotation
    type_decoders = handler.resolve_type_decoders()
    serializer = get_serializer(handler.resolve_type_encoders())
    media_type = (handler.media_type.value if isinstance(handler.media_type, Enum) else handler.media_type).encode()
    status = handler.status_code

    async def step(scope: Scope, receive: Receive, send: Send) -> None:
        request = request_class(scope=scope, receive=receive, send=send)
        if before is not None and await before(request):  # an answer of its own: Litestar's step gives it
            await fallback(scope, receive, send)
            return
        body = await request.body()
        try:
            data = decode_json(body, target_type=data_type, type_decoders=type_decoders, strict=False)
        except Exception:  # noqa: BLE001 - Litestar's own step answers it, with its own 400 and details
            await fallback(scope, receive, send)
            return
        answer = encode_json(await fn(request=request, data=data, **provided), serializer)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", media_type), (b"content-length", str(len(answer)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer, "more_body": False})

    return step
