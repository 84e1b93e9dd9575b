"""Rate limiting through Litestar's own middleware and the `rate_limit` store (Redis when configured,
so every replica counts together). Keyed by client address *and* route, so login and register have
separate budgets."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware


class PerRouteRateLimitMiddleware(RateLimitMiddleware):
    def cache_key_from_request(self, request: Request[Any, Any, Any]) -> str:
        return f"{super().cache_key_from_request(request)}::{request.scope['path']}"


def per_minute(limit: int) -> RateLimitConfig:
    return RateLimitConfig(
        rate_limit=("minute", limit),
        store="rate_limit",
        middleware_class=PerRouteRateLimitMiddleware,
    )
