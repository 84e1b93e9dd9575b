"""The finder's fast read (lib/fast_reads.py; issue 22): a plain query is answered before Litestar's routing
and middleware, with the bytes and headers the route would have sent; anything else goes to the route,
which answers it as before. Each request still gets one request id, one access line and one count."""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import msgspec
import pytest
from prometheus_client import REGISTRY

import backend.app as app_module
from backend.lib import request_log
from backend.lib.metrics import APP_NAME
from backend.settings import get_settings

pytestmark = pytest.mark.anyio

PATH = "/api/v1/amenities"
NEAR = "31.7795,119.9561"

# plain queries: the fast read answers them
PLAIN = [
    f"near={NEAR}",
    f"kind=toilet&limit=10&near={NEAR}",
    f"near={NEAR}&kind=toilet&limit=1&lang=en",
    f"near={NEAR}&kind=toilet&wheelchair=true&baby_changing=false&free=true&open_now=true&limit=50",
    f"near={NEAR}&kind=charger&connector=gbt_dc&min_kw=60&limit=5",
    f"near={NEAR}&kind=charger&min_kw=0&available=true",
    f"near={NEAR}&kind=parking&radius_m=3000&limit=200",
    f"near={NEAR}&radius_m=0.5",  # a radius holding nothing
    "near=39.9,116.4&kind=toilet&limit=3",  # far from every place
    f"near={NEAR.replace(',', '%2C')}&kind=toilet",  # a comma percent-encoded, as URLSearchParams writes it
]
# queries the fast read leaves to the route: refusals, and values it does not parse strictly
TO_THE_ROUTE = [
    "",
    "kind=toilet",
    "near=abc",
    "near=91,120",
    f"near={NEAR}&limit=0",
    f"near={NEAR}&limit=500",
    f"near={NEAR}&limit=010",
    f"near={NEAR}&lang=fr",
    f"near={NEAR}&kind=bus",
    f"near={NEAR}&kind=toilet&connector=gbt_dc",  # the service refuses: filter_needs_charger
    f"near={NEAR}&kind=toilet&kind=charger",
    f"near={NEAR}&radius_m=1e3",
    f"near={NEAR}&radius_m=0",
    f"near={NEAR}&min_kw=2000&kind=charger",
    f"near={NEAR}&wheelchair=1",
    f"near={NEAR}&wheelchair=",
    f"near={NEAR}&page=2",
    f"near={NEAR.replace(',', '+,')}",
    "near=31.7795%FF,119.9561",
]


def _client_on(app: Any) -> httpx.AsyncClient:
    """A client on an app made here, not started: the rooms are the session app's, wired when it started."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


@pytest.fixture
async def reference(app):
    """The same app without fast reads: every request through the full stack."""
    async with _client_on(app_module.create_app(msgspec.structs.replace(get_settings(), fast_reads=False))) as c:
        yield c


@pytest.fixture
def fast_answers(monkeypatch):
    """The fast read's answers (None: it left the request to the route), in an app made now."""
    answers: list[bytes | None] = []
    real = app_module.nearest_fast

    async def counted(scope: Any, query: dict[str, str]) -> bytes | None:
        answers.append(None)  # what a refusal leaves (the fast read then hands the request on)
        answers[-1] = answer = await real(scope, query)
        return answer

    monkeypatch.setattr(app_module, "nearest_fast", counted)
    return answers


@pytest.fixture
async def fast(app, fast_answers):
    async with _client_on(app_module.create_app()) as c:
        yield c


def _comparable(res: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in res.headers.items() if k not in ("x-request-id", "content-length")}
    return res.status_code, res.content, headers  # content: decompressed by httpx when gzipped


@pytest.mark.parametrize("accept", [{}, {"accept-encoding": "gzip, deflate, br"}, {"accept-language": "en-GB,en"}])
async def test_a_plain_query_is_answered_fast_with_the_routes_bytes_and_headers(fast, reference, fast_answers, accept):
    for query in PLAIN:
        headers = {"accept-encoding": "identity", **accept}
        got = await fast.get(f"{PATH}?{query}", headers=headers)
        want = await reference.get(f"{PATH}?{query}", headers=headers)
        assert got.status_code == 200, (query, got.text)
        assert _comparable(got) == _comparable(want), query
        assert fast_answers[-1] is not None, f"the fast read did not answer {query!r}"
        if "gzip" in headers["accept-encoding"] and len(got.content) >= 500:
            assert got.headers["content-encoding"] == "gzip"
            assert int(got.headers["content-length"]) < len(got.content)
    assert len(fast_answers) == len(PLAIN)


async def test_the_fast_read_gzips_as_the_app_does(fast, reference):
    query = f"{PATH}?kind=toilet&limit=20&near={NEAR}"
    raw = await fast.get(query, headers={"accept-encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip" and raw.headers["vary"] == "Accept-Encoding"
    small = await fast.get(f"{PATH}?kind=toilet&limit=1&near=39.9,116.4", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers  # under 500 bytes: as sent, as Litestar does
    async with fast.stream("GET", query, headers={"accept-encoding": "gzip"}) as res:
        body = b"".join([chunk async for chunk in res.aiter_raw()])
    assert gzip.decompress(body) == (await reference.get(query, headers={"accept-encoding": "identity"})).content


async def test_what_the_fast_read_does_not_vouch_for_is_answered_by_the_route(fast, reference, fast_answers):
    for query in TO_THE_ROUTE:
        got = await fast.get(f"{PATH}?{query}")
        want = await reference.get(f"{PATH}?{query}")
        assert _comparable(got) == _comparable(want), query
        assert fast_answers in ([], [None]), query  # not parsed, or refused by the service
        fast_answers.clear()
    refused = await fast.get(f"{PATH}?near={NEAR}&kind=toilet&connector=gbt_dc")
    assert refused.status_code == 400 and refused.json()["code"] == "filter_needs_charger"
    assert refused.headers["content-type"] == "application/problem+json"


class _Lines:
    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def put(self, line: bytes) -> None:
        self.lines.append(msgspec.json.decode(line))


def _count(status: str) -> float:
    labels = {"method": "GET", "path": PATH, "status_code": status, "app_name": APP_NAME}
    return REGISTRY.get_sample_value("changxiang_requests_total", labels) or 0.0


async def test_each_request_has_one_id_one_access_line_and_one_count_fast_or_not(fast, fast_answers):
    lines = _Lines()
    previous = request_log.use_writer(lines)  # type: ignore[arg-type]  # anything with put(bytes)
    try:
        ok, refused = _count("200"), _count("400")
        answered = await fast.get(f"{PATH}?near={NEAR}&kind=toilet", headers={"x-request-id": "fast-1"})
        refused_query = f"{PATH}?near={NEAR}&kind=toilet&connector=gbt_dc"
        handed_on = await fast.get(refused_query, headers={"x-request-id": "slow-1"})
    finally:
        request_log.use_writer(previous)
    assert fast_answers[0] is not None and fast_answers[1] is None
    assert answered.headers["x-request-id"] == "fast-1" and handed_on.headers["x-request-id"] == "slow-1"
    mine = [line for line in lines.lines if line["path"] == PATH]
    assert [(line["request_id"], line["status"]) for line in mine] == [("fast-1", 200), ("slow-1", 400)]
    assert _count("200") == ok + 1 and _count("400") == refused + 1
    # and the security headers, which Litestar's before_send hook adds, on both
    for res in (answered, handed_on):
        assert res.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
