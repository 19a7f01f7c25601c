"""schemathesis over /openapi.json: no 500 and every answer matches the schema."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import World  # noqa: E402

WORLD = World()
for who, text, team in (
    ("ann", "Invoice wrong", "billing"),
    ("bob", "Login broken", "tech"),
    ("ann", "Password reset", None),
):
    WORLD.ticket(who, text, team)

schema = schemathesis.openapi.from_asgi("/openapi.json", WORLD.app)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@schema.include(tag="agent").parametrize()
@FUZZ
def test_agent_api_fuzzed(case: object) -> None:
    case.call_and_validate(headers={"X-Who": "lead"}, checks=CHECKS)  # type: ignore[attr-defined]


@schema.include(tag="customer").parametrize()
@FUZZ
def test_customer_api_fuzzed(case: object) -> None:
    case.call_and_validate(headers={"X-Who": "ann"}, checks=CHECKS)  # type: ignore[attr-defined]


@schema.include(tag="public").parametrize()
@FUZZ
def test_public_api_fuzzed(case: object) -> None:
    case.call_and_validate(checks=CHECKS)  # type: ignore[attr-defined]
