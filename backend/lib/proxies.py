"""Who the client is, behind a reverse proxy: `X-Forwarded-For` is believed only when the connection
comes from a proxy we run (`CHANGXIANG_TRUSTED_PROXIES`: addresses or networks, none by default).

Anyone can send `X-Forwarded-For: 1.2.3.4`; if the app took it from everyone, a client would choose its
own address, and with it its per-address limits and the address on the audit log. So:
- the direct peer is not a trusted proxy: its own address is the client, the headers are ignored;
- it is one: the client is the right-most address of `X-Forwarded-For` that is not itself a trusted
  proxy (our nginx *sets* the header from `$remote_addr`, so there is one address), and
  `X-Forwarded-Proto` gives the scheme.
The answer is written into the ASGI scope (`client`, `scheme`), where the abuse limits, the audit log and
Litestar read it. uvicorn's own proxy-header handling is off (`changxiang run`), so this is the one
place that decides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_WS_SCHEME = {"http": "ws", "https": "wss"}


@lru_cache(maxsize=8)
def parse_networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    """`("10.0.0.5", "172.30.0.0/24")` → networks; a bare address is a network of one."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False) for item in spec if item.strip())


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def _header(scope: Scope, name: bytes) -> str | None:
    values = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name]
    return ",".join(values) if values else None


def forwarded_client(peer: str, forwarded_for: str | None, networks: tuple[Network, ...]) -> str:
    """The client's address: `peer` unless `peer` is a trusted proxy that says whom it forwards for."""
    if not networks or not forwarded_for or not _is_trusted(peer, networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return peer  # a hop we can't read: don't guess past it
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def trusted_proxy_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in (ScopeType.HTTP, ScopeType.WEBSOCKET) and client:
            networks = parse_networks(tuple(scope["app"].state.settings.trusted_proxies))
            if networks and _is_trusted(str(client[0]), networks):
                address = forwarded_client(str(client[0]), _header(scope, b"x-forwarded-for"), networks)
                scope["client"] = (address, 0)
                proto = (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto if scope["type"] == ScopeType.HTTP else _WS_SCHEME[proto]
        await app(scope, receive, send)

    return middleware
