"""Request metrics for Prometheus (`GET /metrics`), recorded by the request-context middleware, which
already times every request and sees its status for the access line: one middleware layer and one
rewrapped `send` fewer than Litestar's PrometheusMiddleware (issue 22), with the same metric names and
labels (`changxiang_requests_total`, `changxiang_request_duration_seconds`,
`changxiang_requests_error_total`; method, path template, status code, app name). Probes (route opt
`probe`, the liveness check) are not counted. The in-progress gauge is left out: it cost two label
lookups on every request and says nothing the request rate and the durations don't."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

APP_NAME = "changxiang"
_LABELS = ("method", "path", "status_code", "app_name")
REQUESTS = Counter("changxiang_requests_total", "Total requests.", _LABELS)
DURATION = Histogram("changxiang_request_duration_seconds", "Request duration, in seconds.", _LABELS)
ERRORS = Counter("changxiang_requests_error_total", "Total errors.", _LABELS)

_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}  # the labelled series, looked up once each


def record(scope: Any, status: int, seconds: float) -> None:
    """Count one answered request of `scope` (after routing: its route handler and path template)."""
    handler = scope.get("route_handler")
    if handler is None or handler.opt.get("probe"):
        return
    key = (scope.get("method", ""), scope.get("path_template") or scope.get("path", ""), status)
    series = _children.get(key)
    if series is None:
        labels = (key[0], key[1], str(status), APP_NAME)
        series = _children[key] = (REQUESTS.labels(*labels), DURATION.labels(*labels))
    series[0].inc()
    series[1].observe(seconds)
    if status >= 500:
        ERRORS.labels(key[0], key[1], str(status), APP_NAME).inc()
