"""The served OpenAPI document says what the server does (backend/lib/openapi.py), class by class:

- refusals are `application/problem+json` `ProblemDetails` with a `code`, as the server sends them;
- each operation lists the refusals it can give (401/403 behind a token or a guard, 404 when the path
  names something, 409 on writes, 429 with `Retry-After` where the abuse limits count, 400 everywhere);
- `lang` is the enum `zh | en`;
- a body msgspec closes (`forbid_unknown_fields`) is `additionalProperties: false`;
- `security` only on operations that require a token;
and the documentation pages load nothing from outside the app.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import jsonschema_rs
import msgspec
import pytest
from litestar.routes import HTTPRoute

from backend.lib.rate_limits import LIMITED_ROUTES

pytestmark = pytest.mark.anyio

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
PROBLEM = "application/problem+json"


@pytest.fixture
async def served(client) -> dict:
    res = await client.get("/schema/openapi.json")
    assert res.status_code == 200
    return res.json()


def _operations(app):
    """(method, path, route, handler) of every documented operation, from the app's own routes."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method, (handler, _) in route.route_handler_map.items():
            if handler.resolve_include_in_schema():
                yield method, route.path_format, route, handler


def _problem_validator(schema: dict):
    return jsonschema_rs.validator_for(
        {**schema["components"]["schemas"]["ProblemDetails"], "components": schema["components"]}
    )


async def test_refusals_are_documented_as_the_problem_json_they_are(client, served):
    assert "code" in served["components"]["schemas"]["ProblemDetails"]["required"]
    for path, item in served["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                if int(status) >= 400:
                    assert set(response["content"]) == {PROBLEM}, (method, path, status)
                    assert response["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    validator = _problem_validator(served)
    for url, status in (("/api/v1/venues/no-such-venue", 404), ("/api/v1/me", 401), ("/api/v1/venues?lang=fr", 400)):
        res = await client.get(url)
        assert res.status_code == status
        assert res.headers["content-type"].startswith(PROBLEM)
        validator.validate(res.json())


async def test_each_operation_lists_the_refusals_it_can_give(app, served):
    checked = 0
    for method, path, route, handler in _operations(app):
        op = served["paths"][path][method.lower()]
        documented = {int(s) for s in op["responses"]}
        expected = {400}
        if not handler.opt.get("exclude_from_auth"):
            expected.add(401)
        if handler.resolve_guards():
            expected.add(403)
        if route.path_parameters:
            expected.add(404)
        if method in WRITES:
            expected.add(409)
        if (method, route.path) in LIMITED_ROUTES:
            expected.add(429)
            assert op["responses"]["429"]["headers"]["Retry-After"]["required"] is True
        assert expected <= documented, (method, path, expected - documented)
        checked += 1
    assert checked > 50
    # and where a handler says it refuses otherwise: a public login answers 401 for a wrong password
    assert "401" in served["paths"]["/api/v1/auth/login"]["post"]["responses"]


async def test_a_documented_429_carries_retry_after(client, app, served):
    """The login limit, hit: the answer is the documented 429 problem with its Retry-After header."""
    limit = app.state.settings.auth_rate_limit_per_minute
    for _ in range(limit + 1):
        res = await client.post("/api/v1/auth/login", json={"email": "nobody@changxiang.test", "password": "x" * 12})
    assert res.status_code == 429
    assert int(res.headers["retry-after"]) >= 1
    _problem_validator(served).validate(res.json())


async def test_lang_is_zh_or_en_wherever_it_is_taken(client, served):
    langs = [
        parameter
        for item in served["paths"].values()
        for op in item.values()
        for parameter in op.get("parameters", [])
        if parameter["name"] == "lang"
    ]
    assert len(langs) > 10
    for parameter in langs:
        assert parameter["schema"]["enum"] == ["zh", "en"], parameter
    res = await client.get("/api/v1/events", params={"lang": "fr"})
    assert res.status_code == 400 and res.json()["code"] == "invalid_lang"


def _closed_structs(info, out: set[str]) -> None:
    """Names of the structs msgspec closes, reachable from a body type."""
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls.__name__ in out:
            return
        if info.forbid_unknown_fields:
            out.add(info.cls.__name__)
        for field in info.fields:
            _closed_structs(field.type, out)
    for attr in ("types", "item_type", "value_type"):
        inner = getattr(info, attr, None)
        for each in inner if isinstance(inner, tuple) else [inner] if inner is not None else []:
            _closed_structs(each, out)


async def test_bodies_that_refuse_unknown_fields_say_so(client, app, served):
    closed: set[str] = set()
    for _method, _path, _route, handler in _operations(app):
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is not None:
            _closed_structs(msgspec.inspect.type_info(data.annotation), closed)
    assert {"LoginRequest", "BookingRequest", "VisitorIn", "ScanIn"} <= closed  # VisitorIn: nested
    components = served["components"]["schemas"]
    for name in closed:
        assert components[name].get("additionalProperties") is False, name
    res = await client.post("/api/v1/auth/login", json={"email": "a@b.cn", "password": "x" * 12, "admin": True})
    assert res.status_code == 400 and res.json()["code"] == "validation_error"


async def test_security_only_where_a_token_is_required(client, app, served):
    assert "security" not in served  # no blanket requirement: each operation says
    for method, path, _route, handler in _operations(app):
        op = served["paths"][path][method.lower()]
        if handler.opt.get("exclude_from_auth"):
            assert "security" not in op, (method, path)
        else:
            assert {"BearerToken": []} in op["security"], (method, path)
    assert (await client.get("/api/v1/venues")).status_code == 200  # public: no security, no token needed
    assert (await client.get("/api/v1/me")).status_code == 401  # security: refused without a token


_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("page", ["/schema", "/schema/swagger"])
async def test_documentation_pages_load_nothing_from_elsewhere(client, page):
    res = await client.get(page)
    assert res.status_code == 200
    urls = _URL.findall(res.text)
    assert re.search(r"<script[^>]+src=", res.text), "the page loads its UI script"
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from elsewhere"
        asset = await client.get(url)
        assert asset.status_code == 200, url
    csp = res.headers["content-security-policy"]
    assert "http" not in csp  # the page's policy allows no other origin either
