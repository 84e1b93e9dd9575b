"""Contract fuzzing: schemathesis generates requests from our own OpenAPI schema and sends them to the
real server (`live_server_url`) anonymously and with each role's token. No operation may answer 5xx,
and every answer must be one the schema documents — its status, its content type, its headers and its
body. One test per operation; every role in each.

Run time is bounded: `EXAMPLES` valid requests per operation, each sent once per role, and
`NEGATIVE_EXAMPLES` invalid ones, sent anonymously and as admin; examples are fixed by `derandomize`, so
a failure reproduces.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.app import create_app

RAW = create_app().openapi_schema.to_schema()
SCHEMA = schemathesis.openapi.from_dict(RAW)


def _streams(raw: dict) -> set[str]:
    """Event streams never end, so a fuzzer would wait on them for ever: the role matrix checks their
    doors, and their own tests what they send."""
    out = set()
    for path, item in raw["paths"].items():
        for method, op in item.items():
            media = {m for r in op.get("responses", {}).values() for m in r.get("content", {})}
            if "text/event-stream" in media:
                out.add(f"{method.upper()} {path}")
    return out


OPERATIONS = {
    op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations()) if op.label not in _streams(RAW)
}


def _negatable(raw: dict, label: str) -> bool:
    """Whether a request can break the schema at all: a body, or a parameter that is more than any string
    in the path (every string is a valid path segment)."""
    method, path = label.split(" ", 1)
    op = raw["paths"][path][method.lower()]
    if "requestBody" in op:
        return True
    return any(p["in"] != "path" or p.get("schema", {}).get("type") != "string" for p in op.get("parameters", []))


NEGATABLE = sorted(label for label in OPERATIONS if _negatable(RAW, label))
EXAMPLES = 5
NEGATIVE_EXAMPLES = 2
NEGATIVE_ROLES = ("anonymous", "admin")  # one refused at every guarded door, one let through every one
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _fuzz(operation, mode: GenerationMode, examples: int, checks: list, live_server_url: str, roles, who) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def fuzz(case):
        for role in who:
            case.call_and_validate(base_url=live_server_url, headers=roles.headers(role), checks=checks)

    fuzz()


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_answer_is_documented(label, anyio_backend, live_server_url, roles):
    """Valid requests: never 5xx; status, content type, headers and body as documented."""
    _fuzz(OPERATIONS[label], GenerationMode.POSITIVE, EXAMPLES, CONFORMANCE, live_server_url, roles, list(roles))


@pytest.mark.parametrize("label", NEGATABLE)
def test_invalid_requests_are_refused_as_documented(label, anyio_backend, live_server_url, roles):
    """Requests the schema forbids (wrong types, unknown fields where `additionalProperties: false`, a
    `lang` outside the enum): refused with a documented 4xx problem, never 5xx, never accepted."""
    _fuzz(
        OPERATIONS[label],
        GenerationMode.NEGATIVE,
        NEGATIVE_EXAMPLES,
        [*CONFORMANCE, negative_data_rejection],
        live_server_url,
        roles,
        NEGATIVE_ROLES,
    )
