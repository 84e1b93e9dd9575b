"""Cross-site request forgery: a write that rides on the session cookie must come from the app's own pages.

The PWA signs in with an HttpOnly cookie (`cx_token`, SameSite=Lax). SameSite alone is not the whole
defence: a "site" is wider than an origin (any sibling subdomain is same-site), older browsers ignore
the attribute, and a foreign page can still post a `<form enctype="text/plain">` whose body reads as
JSON. So a request that carries the cookie and no `Authorization` header (the cookie is what would
authenticate it), with an unsafe method (POST, PUT, PATCH, DELETE), is refused with 403
`csrf_rejected` (problem+json) unless
- its `Origin` (or, when a browser sent none, its `Referer`) is the app's own origin:
  `CHANGXIANG_PUBLIC_URL` when set, else the request's own `Host` (either scheme); a request with
  neither header is refused too (every browser sends `Origin` with such requests), and
- a body it carries is JSON (`application/json`, `application/*+json`), unless the route declares
  another encoding (a multipart upload); a form can't send that without the page's own script.
Bearer-token requests (no ambient credential a foreign page could borrow) and partner calls (Stripe, the
supervision platform: signed, never with our cookie, no Origin) are not concerned. Public JSON routes
(sign-in, registration) take no cookie, but a browser's request to them from a foreign page (its Origin)
is refused the same way, so a foreign page can't sign a visitor in to the attacker's account.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar.datastructures import Headers
from litestar.enums import RequestEncodingType, ScopeType
from litestar.handlers import ASGIRouteHandler
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, Receive, Scope, Send

from backend.lib.auth import AUTH_COOKIE
from backend.lib.problems import Forbidden

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int | None]  # scheme, host, port (None: the scheme's default)


def _origin(url: str) -> Origin | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), None if port == DEFAULT_PORTS[scheme] else port


def _host(value: str) -> tuple[str, int | None] | None:
    try:
        parts = urlsplit("//" + value.strip())
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.hostname.lower(), None if port in (80, 443) else port


def carries_session_cookie(headers: Headers) -> bool:
    for cookie in headers.getall("cookie", []):
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == AUTH_COOKIE and value.strip('"'):
                return True
    return False


def comes_from_own_origin(headers: Headers, public_url: str | None) -> bool:
    """The request's Origin (or Referer) is the app's: `public_url`'s origin, else the Host's."""
    claimed = headers.get("origin")
    if claimed is None or claimed.strip() == "":
        claimed = headers.get("referer")
    if not claimed or claimed.strip() == "null":
        return False
    source = _origin(claimed)
    if source is None:
        return False
    if public_url:
        return source == _origin(public_url)
    host = _host(headers.get("host") or "")
    return host is not None and (source[1], source[2]) == host


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


def _declared_encoding(handler: Any) -> str | None:
    """The body encoding a route declares other than JSON (multipart, url-encoded), if any."""
    signature = getattr(handler, "parsed_fn_signature", None)
    data = signature.parameters.get("data") if signature is not None else None
    kwarg = getattr(data, "kwarg_definition", None)
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        # the enum's value (`multipart/form-data`): str() of a str-Enum member is its name on Python 3.11
        media_type = kwarg.media_type
        return str(media_type.value if isinstance(media_type, RequestEncodingType) else media_type)
    return None


def body_type_allowed(headers: Headers, handler: Any) -> bool:
    """A body, if any, is JSON, or of the one other encoding the route declares; a mounted ASGI app (Piccolo
    Admin) speaks for itself."""
    if isinstance(handler, ASGIRouteHandler):
        return True
    has_body = headers.get("transfer-encoding") is not None or (headers.get("content-length") or "0").strip() != "0"
    if not has_body:
        return True
    content_type = headers.get("content-type") or ""
    declared = _declared_encoding(handler)
    if declared is not None:
        return content_type.split(";", 1)[0].strip().lower() == declared
    return _is_json(content_type)


def _takes_json(handler: Any) -> bool:
    """The route reads a JSON body into a `data` parameter (login, registration, most writes)."""
    signature = getattr(handler, "parsed_fn_signature", None)
    return signature is not None and "data" in signature.parameters and _declared_encoding(handler) is None


def _check(scope: Scope) -> None:
    headers = Headers.from_scope(scope)
    if "authorization" in headers:
        return  # a bearer token: nothing a foreign page could borrow
    handler = scope.get("route_handler")
    public_url = scope["app"].state.settings.public_url
    if getattr(handler, "opt", {}).get("exclude_from_auth"):
        # a public route (sign-in, registration, partner calls): no cookie authenticates it, but a browser
        # that says it comes from a foreign page must not sign the visitor in (into someone else's
        # account); partners' servers send no Origin
        if headers.get("origin") is not None and _takes_json(handler):
            if not comes_from_own_origin(headers, public_url):
                raise Forbidden("csrf_rejected", "this form must be sent from this app's pages")
        return
    if not carries_session_cookie(headers):
        return
    if not comes_from_own_origin(headers, public_url):
        raise Forbidden("csrf_rejected", "a write signed in by cookie must come from this app's pages")
    if not body_type_allowed(headers, handler):
        raise Forbidden("csrf_rejected", "a write signed in by cookie must send JSON")


def csrf_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] in UNSAFE_METHODS:
            _check(scope)
        await app(scope, receive, send)

    return middleware
