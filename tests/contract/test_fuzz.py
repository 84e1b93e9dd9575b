"""Contract fuzzing: schemathesis generates requests from our own OpenAPI schema and sends them to the
real server (`live_server_url`) anonymously and with each role's token. No operation may answer 5xx,
and every answer it documents must match its documented schema. One test per operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

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
EXAMPLES = 5


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_operation_answers_5xx_or_off_schema(label, anyio_backend, live_server_url, roles):
    operation = OPERATIONS[label]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
    )
    def fuzz(case):
        for role in roles:
            case.call_and_validate(
                base_url=live_server_url,
                headers=roles.headers(role),
                checks=[not_a_server_error, response_schema_conformance],
            )

    fuzz()
