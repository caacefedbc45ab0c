"""Schemathesis against the served OpenAPI document: no server error, and no response that
contradicts the schema, for generated valid and invalid requests on every operation."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance
from tests.api._app import Served, serve_lab

from healops.api.tokens import Role


@pytest.fixture(scope="module")
def served() -> Served:
    return serve_lab()


@pytest.fixture(scope="module")
def api_schema(served: Served) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", served.app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_within_its_schema(case: schemathesis.Case,
                                                   served: Served) -> None:
    # Every check except negative_data_rejection: pydantic's lax mode accepts a Unix number
    # where the documented schema says an RFC 3339 string (Alertmanager's endsAt, sample
    # timestamps). Being lenient with input is not a response that contradicts the schema.
    excluded = [negative_data_rejection]
    if case.operation.path == "/api/v1/samples":
        # One rule JSON Schema cannot state: a series without its own ts may appear once.
        excluded.append(positive_data_acceptance)
    if case.operation.path == "/api/v1/silences" and case.method == "POST":
        # Rules JSON Schema cannot state: a regex that compiles, an end after the start and
        # after now. They are 422s naming the field (tests/api/test_silences.py).
        excluded.append(positive_data_acceptance)
    case.call_and_validate(headers=served.auth(Role.ADMIN), excluded_checks=excluded)


def test_the_document_lists_every_api_operation(served: Served) -> None:
    doc = served.client().get("/openapi.json").json()
    ops = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert {("GET", "/api/v1/incidents"), ("POST", "/api/v1/incidents/{incident_id}/approve"),
            ("POST", "/api/v1/incidents/{incident_id}/reject"), ("GET", "/api/v1/runbooks"),
            ("GET", "/api/v1/policies"), ("POST", "/api/v1/alerts/alertmanager"),
            ("GET", "/healthz"), ("GET", "/metrics")} <= ops
    assert not any(p.startswith("/ui") for _, p in ops)
    assert "HTTPBearer" in doc["components"]["securitySchemes"]
