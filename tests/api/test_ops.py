"""Operations endpoints: liveness, readiness, metrics, OpenAPI, request ids, problem+json."""

import pytest

pytestmark = pytest.mark.anyio


async def test_healthz_and_readyz(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "redis": True}


async def test_metrics_are_prometheus_text(client):
    await client.get("/healthz")
    res = await client.get("/metrics")
    assert res.status_code == 200
    assert "changxiang_requests_total" in res.text


async def test_openapi_schema_lists_the_contract(client):
    res = await client.get("/schema/openapi.json")
    assert res.status_code == 200
    paths = res.json()["paths"]
    for path in (
        "/api/v1/venues",
        "/api/v1/venues/{slug}",
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/me",
        "/api/v1/admin/users",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    ui = await client.get("/schema")
    assert ui.status_code == 200 and "<html" in ui.text.lower()


async def test_request_id_is_echoed_or_made(client):
    res = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert res.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)  # each its own, 32 hex digits


async def test_unknown_api_path_is_problem_json(client):
    res = await client.get("/api/v1/nothing-here")
    assert res.status_code == 404
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "not_found"


async def test_malformed_json_body_is_400_not_500(client):
    res = await client.post("/api/v1/auth/login", content=b"{not json", headers={"Content-Type": "application/json"})
    assert res.status_code == 400
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] == "bad_request"


async def test_oversized_body_is_refused(client):
    res = await client.post(
        "/api/v1/auth/register", content=b"x" * (1024 * 1024 + 10), headers={"Content-Type": "application/json"}
    )
    assert res.status_code == 413
    assert res.json()["code"] == "body_too_large"


async def test_metrics_count_each_route_by_its_template_and_status_but_not_the_probe(client):
    """Issue 22: requests are counted by the request-context middleware (one layer fewer than Litestar's
    PrometheusMiddleware), under the same names and labels: method, path template, status, app name."""
    import re

    def count(text: str, path: str, status: str) -> float:
        pattern = (
            r'changxiang_requests_total\{app_name="changxiang",method="GET",path="'
            + re.escape(path)
            + r'",status_code="'
            + status
            + r'"\} ([0-9.e+]+)'
        )
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = (await client.get("/metrics")).text
    for _ in range(3):
        assert (await client.get("/api/v1/venues/changzhou-museum")).status_code == 200
    assert (await client.get("/api/v1/venues/no-such-venue")).status_code == 404
    await client.get("/healthz")
    after = (await client.get("/metrics")).text
    path = "/api/v1/venues/{slug}"
    assert count(after, path, "200") - count(before, path, "200") == 3
    assert count(after, path, "404") - count(before, path, "404") == 1
    assert 'path="/healthz"' not in after
    assert "changxiang_request_duration_seconds_bucket" in after
