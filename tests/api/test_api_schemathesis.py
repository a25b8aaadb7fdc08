"""Schemathesis drives every operation of /api/v1/openapi.json with generated input.

Each case runs with a national administrator's token (everything is allowed, so
the cases reach past authorization into the handlers) against the sample
communes; the checks are schemathesis's defaults: no 5xx, the status code and
the body documented, the content type as declared.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.conftest import bearer


@pytest.fixture
def api_schema(app, token_for):
    app.config["API_TEST_TOKEN"] = token_for("admin@national.example", national_admin=True)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_operation_answers_as_documented(case, app) -> None:
    case.call_and_validate(headers=bearer(app.config["API_TEST_TOKEN"]))
