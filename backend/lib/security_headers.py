"""Security headers on every response (a `before_send` hook, so 404s, auth refusals and static files get
them too).

The app's Content-Security-Policy allows no inline script: the PWA build has none (its service worker
is registered from /registerSW.js); `'wasm-unsafe-eval'` lets the scanner compile its QR decoder.
Styles may be inline (Vant sets style attributes; offline.html has a <style>). The API documentation
pages under /schema (Swagger UI) load their scripts from the app (/schema-ui) and start them
with an inline script, so /schema gets its own policy: inline scripts, still nothing from elsewhere
(docs/security.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar.types import Message, Scope

from backend.lib.client_config import tile_image_source
from backend.settings import Settings

APP_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SCHEMA_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(self), geolocation=(self), microphone=(), payment=(), usb=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
APP_HEADERS = [*_COMMON, (b"content-security-policy", APP_CSP.encode())]
SCHEMA_HEADERS = [*_COMMON, (b"content-security-policy", SCHEMA_CSP.encode())]


def _over_tls(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


def app_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    """The app's headers; a tile provider on another origin (CHANGXIANG_MAP_TILES) joins `img-src`."""
    extra = tile_image_source(settings)
    if extra is None:
        return APP_HEADERS
    csp = APP_CSP.replace("img-src 'self' data: blob:", f"img-src 'self' data: blob: {extra}")
    return [*_COMMON, (b"content-security-policy", csp.encode())]


def security_headers_hook(settings: Settings) -> Callable[[Message, Scope], Awaitable[None]]:
    always_hsts = settings.hsts
    app_headers_now = app_headers(settings)

    async def add_security_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = list(message.get("headers") or [])
        headers += SCHEMA_HEADERS if scope.get("path", "").startswith("/schema") else app_headers_now
        if always_hsts or _over_tls(scope):
            headers.append(HSTS)
        message["headers"] = headers

    return add_security_headers
