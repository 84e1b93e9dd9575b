"""No input makes the server fail (issue 15, finding 9): every kind of input that can't be stored or computed
is a 4xx problem+json with a `code`, on every route.

The routes, their path and query parameters and their bodies come from the app's own OpenAPI schema, so a
route added tomorrow is covered by the same cases. Each kind of nasty input goes to every place of its
shape, the other parts of the request being ordinary (a real venue, a real slot, a well-formed body):
- NUL characters (PostgreSQL refuses them in text) in path parts, query values and body strings, and
  percent-encoded bytes that are not UTF-8 in path parts and query values;
- integers past the columns' range (2^31, 2^63, 2^64) in integer path parts, query values and body fields;
- dates at the calendar's ends (0001-01-01, 9999-12-30, 9999-12-31T23:59:59Z) in query values, path
  parts and body fields, where arithmetic like `+ timedelta(days=1)` overflows;
- bodies that are not UTF-8, and JSON nested deeper than any of ours.
The CAP warnings the supervision platform sends (XML, signed) have their own cases at the end.
"""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

import anyio
import pytest

from backend.app import create_app
from tests.api.gov_helpers import cap_alert, post_alert
from tests.api.reservation_helpers import fresh_slot, resident_id, visitor
from tests.conftest import Accounts

pytestmark = pytest.mark.anyio

RAW = create_app().openapi_schema.to_schema()
WRITES = {"post", "put", "patch", "delete"}

NUL = "a\x00b"
BAD_UTF8 = "a%FF%FEb%C3%28"  # percent-encoded bytes that are not UTF-8
LONG = "长" * 4000  # longer than any column of ours but the free texts
HUGE_INTS = [2**31, 2**63, -(2**63) - 1, 2**64]
CALENDAR_ENDS = ["0001-01-01", "9999-12-30", "9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+08:00"]
DEEP = 100_000  # brackets: far deeper than any body of ours, far smaller than the body size limit


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = RAW["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s).get("type") != "null"]
            return _resolve(options[0]) if options else {"type": "null"}
    return schema


def _type(schema: dict) -> str:
    schema = _resolve(schema)
    kind = schema.get("type", "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "string" and schema.get("format") in ("date", "date-time"):
        return schema["format"]
    return kind


def _operations() -> list[tuple[str, str, dict]]:
    return [
        (method, path, op)
        for path, item in RAW["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _params(op: dict, where: str) -> list[dict]:
    return [p for p in op.get("parameters", []) if p["in"] == where]


def _body_schema(op: dict) -> dict | None:
    content = op.get("requestBody", {}).get("content", {})
    media = content.get("application/json")
    return media["schema"] if media else None


# ---------------------------------------------------------------- ordinary values, to reach deep


class Ordinary:
    """Well-formed values for the parts of a request not under test, found in the running app."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def path_value(self, path: str, name: str, schema: dict) -> str:
        before = path.split("{" + name + "}")[0].rstrip("/").rsplit("/", 1)[-1]
        if name == "slug" and before in self.values.get("slugs", {}):
            return self.values["slugs"][before]
        if name in self.values:
            return str(self.values[name])
        return "1" if _type(schema) == "integer" else "x"

    def query_value(self, name: str, schema: dict) -> str:
        if name in self.values:
            return str(self.values[name])
        return {
            "integer": "1",
            "number": "1",
            "boolean": "true",
            "date": self.values["day"],
            "date-time": self.values["day"] + "T10:00:00+08:00",
        }.get(_type(schema), "x")

    def body(self, schema: dict, name: str = "", depth: int = 0) -> Any:
        resolved = _resolve(schema)
        kind = _type(schema)
        if name in self.values.get("fields", {}):
            return self.values["fields"][name]
        if "enum" in resolved:
            return resolved["enum"][0]
        if kind == "object" or "properties" in resolved:
            if depth > 6:
                return {}
            return {
                key: self.body(sub, key, depth + 1)
                for key, sub in resolved.get("properties", {}).items()
                if _type(sub) != "null"
            }
        if kind == "array":
            return [self.body(resolved.get("items", {}), name, depth + 1)]
        if kind == "integer":
            return int(resolved.get("minimum", 1))
        if kind == "number":
            return float(resolved.get("minimum", 1))
        if kind == "boolean":
            return False
        if kind == "date":
            return self.values["day"]
        if kind == "date-time":
            return self.values["day"] + "T10:00:00+08:00"
        return "x" * max(1, int(resolved.get("minLength", 1)))


def _leaves(body: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    if isinstance(body, dict):
        return [leaf for key, value in body.items() for leaf in _leaves(value, (*path, key))]
    if isinstance(body, list):
        return [leaf for i, value in enumerate(body) for leaf in _leaves(value, (*path, i))]
    return [(path, body)]


def _with(body: Any, path: tuple, value: Any) -> Any:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


GENERIC_BODY = {"name": "n", "id": 1, "date": "2026-07-01", "title": {"zh": "标题", "en": "title"}, "items": [1]}


# ---------------------------------------------------------------- the cases, from the schema


def _url(path: str, ordinary: Ordinary, op: dict, override: dict[str, str] | None = None) -> str:
    override = override or {}
    for p in _params(op, "path"):
        value = override.get(p["name"]) or quote(ordinary.path_value(path, p["name"], p.get("schema", {})), safe="")
        path = path.replace("{" + p["name"] + "}", value)
    return path


def _query(op: dict, ordinary: Ordinary, name: str | None = None, value: str | None = None) -> str:
    parts = []
    for p in _params(op, "query"):
        if p["name"] == name:
            parts.append(f"{quote(p['name'])}={value}")
        elif p.get("required"):
            parts.append(f"{quote(p['name'])}={quote(ordinary.query_value(p['name'], p.get('schema', {})))}")
    return "?" + "&".join(parts) if parts else ""


def _cases(kind: str, method: str, path: str, op: dict, ordinary: Ordinary) -> list[dict]:
    """The requests of `kind` for one operation: dicts of method, url and, for writes, content."""
    out: list[dict] = []
    plain_body = None
    if method in WRITES:
        schema = _body_schema(op)
        plain_body = ordinary.body(schema) if schema else GENERIC_BODY

    def send(url: str, content: bytes | None = None, may_pass: bool = False) -> None:
        if content is None and plain_body is not None:
            content = json.dumps(plain_body).encode()
        out.append({"method": method.upper(), "url": url, "content": content, "may_pass": may_pass})

    base = _url(path, ordinary, op)
    if kind.endswith("_in_path"):
        for p in _params(op, "path"):
            shape = _type(p.get("schema", {}))
            if kind == "nul_in_path":
                values = [quote(NUL)]
            elif kind == "invalid_utf8_in_path":
                values = [BAD_UTF8]
            elif kind == "long_text_in_path" and shape == "string":
                values = [LONG]
            elif kind == "huge_int_in_path" and shape == "integer":
                values = [str(n) for n in HUGE_INTS]
            elif kind == "calendar_end_in_path" and shape in ("string", "date", "date-time"):
                values = [quote(v, safe="") for v in CALENDAR_ENDS]
            else:
                continue
            for value in values:
                send(_url(path, ordinary, op, {p["name"]: value}) + _query(op, ordinary))
    elif kind.endswith("_in_query"):
        for p in _params(op, "query"):
            shape = _type(p.get("schema", {}))
            if kind == "nul_in_query":
                values = [quote(NUL)]
            elif kind == "invalid_utf8_in_query":
                values = [BAD_UTF8]
            elif kind == "long_text_in_query" and shape in ("string", "date", "date-time"):
                values = [LONG]
            elif kind == "huge_int_in_query" and shape == "integer":
                values = [str(n) for n in HUGE_INTS]
            elif kind == "calendar_end_in_query" and shape in ("string", "date", "date-time"):
                values = [quote(v, safe="") for v in CALENDAR_ENDS]
            else:
                continue
            for value in values:
                send(base + _query(op, ordinary, p["name"], value))
    elif plain_body is not None:
        url = base + _query(op, ordinary)
        if kind == "invalid_utf8_body":
            send(url, b'{"name": "\xff\xfe\xfd", "title": {"zh": "\xc3\x28"}}')
        elif kind == "deep_json_body":
            send(url, b"[" * DEEP + b"]" * DEEP)
            send(url, b'{"a":' * DEEP + b"1" + b"}" * DEEP)
        else:
            for leaf, value in _leaves(plain_body):
                if kind == "nul_in_body" and isinstance(value, str):
                    send(url, json.dumps(_with(plain_body, leaf, NUL)).encode())
                elif kind == "long_text_in_body" and isinstance(value, str):
                    # a text column may take it (the route accepts), a shorter one must refuse it cleanly
                    send(url, json.dumps(_with(plain_body, leaf, LONG)).encode(), may_pass=True)
                elif kind == "huge_int_in_body" and isinstance(value, int) and not isinstance(value, bool):
                    for n in HUGE_INTS:
                        # a body field may take 2^31 where its column does (or the route ignores the
                        # field); nothing takes what no column of ours holds
                        send(url, json.dumps(_with(plain_body, leaf, n)).encode(), may_pass=abs(n) < 2**63)
                elif kind == "calendar_end_in_body" and isinstance(value, str):
                    for end in CALENDAR_ENDS:
                        send(url, json.dumps(_with(plain_body, leaf, end)).encode())
    return out


KINDS = [
    "nul_in_path",
    "invalid_utf8_in_path",
    "long_text_in_path",
    "huge_int_in_path",
    "calendar_end_in_path",
    "nul_in_query",
    "invalid_utf8_in_query",
    "long_text_in_query",
    "huge_int_in_query",
    "calendar_end_in_query",
    "invalid_utf8_body",
    "deep_json_body",
    "nul_in_body",
    "long_text_in_body",
    "huge_int_in_body",
    "calendar_end_in_body",
]


def _applies(kind: str, method: str, op: dict) -> bool:
    if kind.endswith("_in_path"):
        return bool(_params(op, "path"))
    if kind.endswith("_in_query"):
        return bool(_params(op, "query"))
    return method in WRITES


CASES = [
    pytest.param(kind, method, path, id=f"{kind}-{method.upper()} {path}")
    for kind, (method, path, op) in itertools.product(KINDS, _operations())
    if _applies(kind, method, op)
]


@pytest.fixture(scope="module")
async def ordinary(app, _session_client) -> Ordinary:
    client = _session_client
    admin = await Accounts(app).make("admin")
    tourist = await Accounts(app).make("tourist")
    venue = "changzhou-museum"
    slot = await fresh_slot(client, venue, admin["headers"])
    booked = await client.post(
        "/api/v1/reservations", json={"slot_id": slot["id"], "visitors": [visitor()]}, headers=tourist["headers"]
    )
    assert booked.status_code == 201, booked.text
    slugs = {}
    for collection in ("venues", "tours", "exhibitions", "events", "articles"):
        listed = await client.get(f"/api/v1/{collection}")
        items = listed.json().get("items", []) if listed.status_code == 200 else []
        if items:
            slugs[collection] = items[0]["slug"]
    return Ordinary(
        {
            "admin_id": admin["id"],
            "tourist_id": tourist["id"],
            "day": (date.today() + timedelta(days=1)).isoformat(),
            "slugs": {**slugs, "venues": venue},
            "slot_id": slot["id"],
            "reservation_id": booked.json()["id"],
            "notification_id": 999_999,
            "item_id": 999_999,  # deletions and edits aim at nothing that exists
            "kind": "events",
            "near": "31.7784,119.9456",
            "venue": venue,
            "fields": {
                "slot_id": slot["id"],
                "venue_slug": venue,
                "venue_slugs": [venue],
                "id_number": resident_id(),
                "guide_phone": "+86 139 0000 0000",
                "coach_plate": "苏D12345",
                "email": f"nasty-{uuid.uuid4().hex[:8]}@changxiang.test",
                "password": "a-long-password-1",
                "lat": 31.7784,
                "lng": 119.9456,
            },
        }
    )


def _headers(app, user_id: int, content: bytes | None) -> dict[str, str]:
    """A fresh token per request: a case that logs out revokes only its own."""
    token = app.state.jwt_auth.create_token(identifier=str(user_id), token_unique_jwt_id=uuid.uuid4().hex)
    headers = {"Authorization": f"Bearer {token}"}
    if content is not None:
        headers["Content-Type"] = "application/json"
    return headers


@pytest.mark.parametrize(("kind", "method", "path"), CASES)
async def test_nasty_input_is_a_4xx_problem_with_a_code(kind, method, path, app, client, ordinary):
    op = RAW["paths"][path][method]
    cases = _cases(kind, method, path, op, ordinary)
    if not cases:
        pytest.skip(f"no place of this shape in {method.upper()} {path}")
    for case in cases:
        case["may_pass"] = case["may_pass"] or kind.startswith("long_text")
        for user_id in (ordinary.values["admin_id"], ordinary.values["tourist_id"]):
            headers = _headers(app, user_id, case["content"])
            # an event stream that opened for a nasty input would never end: that too is a failure
            with anyio.fail_after(10):
                res = await client.request(case["method"], case["url"], content=case["content"], headers=headers)
            where = f"{case['method']} {case['url'][:200]} {(case['content'] or b'')[:200]!r}"
            assert res.status_code < 500, f"{where} -> {res.status_code} {res.text[:300]}"
            if case["may_pass"] and res.status_code < 400:
                continue
            assert 400 <= res.status_code < 500, f"{where} was accepted: {res.status_code} {res.text[:300]}"
            assert res.headers["content-type"].startswith("application/problem+json"), where
            assert res.json().get("code"), f"{where} -> {res.text[:300]}"


# ---------------------------------------------------------------- CAP warnings (signed XML, not in the schema)


async def _alert_rows(identifier: str) -> int:
    from backend.governance.tables import Alert

    return await Alert.count().where(Alert.identifier == identifier)


def _with_sent(xml: str, sent: str) -> str:
    return xml.replace("<sent>2026-07-01T14:00:00+08:00</sent>", f"<sent>{sent}</sent>")


@pytest.mark.parametrize(
    ("what", "make"),
    [
        ("identifier longer than its column", lambda ident: cap_alert(identifier=ident + "x" * 300)),
        (
            "expires in 9999, east of UTC",
            lambda ident: cap_alert(identifier=ident, expires="9999-12-31T23:59:59+08:00"),
        ),
        (
            "expires in 9999, west of UTC",
            lambda ident: cap_alert(identifier=ident, expires="9999-12-31T23:00:00-08:00"),
        ),
        ("expires in year 1", lambda ident: cap_alert(identifier=ident, expires="0001-01-01T00:00:00+08:00")),
        ("sent in year 1", lambda ident: _with_sent(cap_alert(identifier=ident), "0001-01-01T00:00:00+08:00")),
        ("sent in 9999", lambda ident: _with_sent(cap_alert(identifier=ident), "9999-12-31T23:59:59-05:00")),
    ],
)
async def test_a_warning_that_cant_be_stored_is_refused_and_nothing_is_kept(client, what, make):
    ident = "CZQX-nasty-" + uuid.uuid4().hex[:8]
    xml = make(ident)
    stored_as = ident + "x" * 300 if "identifier" in what else ident
    res = await post_alert(client, xml)
    assert res.status_code == 400, f"{what}: {res.status_code} {res.text[:300]}"
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["code"] in ("invalid_cap", "date_out_of_range"), res.text
    assert await _alert_rows(stored_as) == 0
    # the platform sends it again, corrected: it is taken as new, not as one already had
    fixed = await post_alert(client, cap_alert(identifier=ident, expires="2200-12-31T23:59:59-12:00"))
    assert fixed.status_code == 200, fixed.text


async def test_a_warning_refused_halfway_keeps_nothing_and_its_repeat_tells_visitors(client, make_account, monkeypatch):
    """The warning, what it supersedes and its messages are one transaction: a failure writing the messages
    leaves no stored warning, so the platform's retry is handled in full and the visitors are told."""
    from backend.reservations.tables import Notification

    tourist = await make_account("tourist")
    slot = await fresh_slot(client, "changzhou-museum")
    booked = await client.post(
        "/api/v1/reservations", headers=tourist["headers"], json={"slot_id": slot["id"], "visitors": [visitor()]}
    )
    assert booked.status_code == 201, booked.text
    ident = "CZQX-half-" + uuid.uuid4().hex[:8]

    real_insert = Notification.insert

    def failing_insert(*rows, **kw):
        raise OverflowError("the messages could not be written")

    monkeypatch.setattr(Notification, "insert", failing_insert)
    res = await post_alert(client, cap_alert(identifier=ident))
    assert res.status_code == 400 and res.json()["code"] == "out_of_range", res.text
    assert await _alert_rows(ident) == 0

    monkeypatch.setattr(Notification, "insert", real_insert)
    again = await post_alert(client, cap_alert(identifier=ident))
    assert again.status_code == 200, again.text
    assert again.json()["notified"] >= 1
    notes = (await client.get("/api/v1/me/notifications", headers=tourist["headers"])).json()
    assert any(n["kind"] == "warning" for n in notes)
