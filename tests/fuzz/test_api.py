"""The JSON API under fuzz: schemathesis over its OpenAPI document, then raw garbage.

Schemathesis drives every operation of /api/v1/openapi.json with generated
input, with a national administrator's token (everything is allowed, so the
cases reach past authorization into the handlers) against the sample communes;
its checks are its defaults: no 5xx, the status code and the body documented,
the content type as declared. The raw cases send what no schema describes:
bytes, JSON of any shape, wrong content types, huge or missing credentials,
path parts out of range. Every refusal is the API's JSON error.
"""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import given
from hypothesis import strategies as st

from bot.staff import create_token
from tests.api.conftest import bearer
from tests.fuzz import checks
from tests.fuzz.counting import count
from tests.fuzz.targets import BODY_METHODS, routes

API = [route for route in routes("/api/v1") if route.rule != "/api/v1/openapi.json"]
ADMIN = "admin@national.example"
WITH_BODY = [route for route in API if route.method in BODY_METHODS - {"DELETE"}]


@pytest.fixture
def admin_token(session, make_staff) -> str:
    """A national administrator's token: every operation is allowed, so cases reach the handlers."""
    make_staff(ADMIN, national_admin=True)
    _, clear = create_token(session, email=ADMIN, name="fuzz", actor="test")
    session.commit()
    return clear


@pytest.fixture
def api_schema(app, admin_token):
    app.config["API_TEST_TOKEN"] = admin_token
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_operation_answers_as_documented(case, app) -> None:
    count(f"api-schema: {case.operation.label}")
    case.call_and_validate(headers=bearer(app.config["API_TEST_TOKEN"]))


def check_api_answer(response) -> None:
    """No crash; a refusal is `{"error": {"status": ..., "message": ...}}` with its status."""
    checks.assert_no_crash(response)
    if response.status_code >= 400:
        error = checks.json_error(response)["error"]
        assert error["status"] == response.status_code
        assert isinstance(error["message"], str) and error["message"]


communes = st.sampled_from(["cotonou", "calavi", "akpro-misserete"]) | st.text(max_size=30)

# One app per test, every operation per example: the operations share the setup cost.


@given(data=st.data(), body=st.binary(max_size=3000), content_type=checks.content_types)
def test_arbitrary_bytes(client, admin_token, data, body, content_type) -> None:
    for route in API:
        count(f"api-raw: {route.id} bytes")
        path = data.draw(checks.paths(route, commune=communes), label=route.id)
        response = client.open(
            path,
            method=route.method,
            data=body,
            content_type=content_type,
            headers=bearer(admin_token),
        )
        check_api_answer(response)


@given(data=st.data(), payload=checks.json_values)
def test_arbitrary_json(client, admin_token, data, payload) -> None:
    for route in WITH_BODY:
        count(f"api-raw: {route.id} json")
        path = data.draw(checks.paths(route, commune=communes), label=route.id)
        response = client.open(
            path,
            method=route.method,
            data=json.dumps(payload),
            content_type="application/json",
            headers=bearer(admin_token),
        )
        check_api_answer(response)


@given(data=st.data(), headers=checks.headers | checks.huge_header)
def test_arbitrary_credentials_and_headers(client, data, headers) -> None:
    """Tokens of any shape (or none), huge headers: refused with 401, never further."""
    for route in API:
        count(f"api-raw: {route.id} headers")
        path = data.draw(checks.paths(route, commune=communes), label=route.id)
        response = client.open(path, method=route.method, json={}, headers=headers)
        check_api_answer(response)
        # A path part holding "/" redirects to the path with merged slashes: a 308.
        assert response.status_code in (308, 401, 404, 405), (route.id, response.status_code)


def test_oversized_bodies_are_refused_with_413(app, client, admin_token) -> None:
    body = b'{"a": "' + b"x" * app.config["MAX_CONTENT_LENGTH"] + b'"}'
    for route in WITH_BODY:
        response = client.open(
            checks.build_path(route, checks.SIMPLE_VALUES),
            method=route.method,
            data=body,
            content_type="application/json",
            headers=bearer(admin_token),
        )
        assert response.status_code == 413, route.id
        check_api_answer(response)


def test_json_nested_too_deeply_is_a_400(client, admin_token) -> None:
    depth = 50_000
    for route in WITH_BODY:
        response = client.open(
            checks.build_path(route, checks.SIMPLE_VALUES),
            method=route.method,
            data="[" * depth + "]" * depth,
            content_type="application/json",
            headers=bearer(admin_token),
        )
        check_api_answer(response)
        assert response.status_code in (400, 404, 409), (route.id, response.status_code)


def test_ids_past_a_database_integer_are_a_404(client, admin_token) -> None:
    """Past 2**31 - 1 no row has such an id: PostgreSQL refuses to compare an INTEGER
    key with it, and past 2**63 SQLite cannot even bind it."""
    with_ids = [route for route in API if any(a.kind == "int" for a in route.arguments)]
    assert with_ids
    for route in with_ids:
        for huge in (2**31, 2**63, 10**30):
            values = {a.name: huge for a in route.arguments if a.kind == "int"}
            response = client.open(
                checks.build_path(route, {**checks.SIMPLE_VALUES, **values}),
                method=route.method,
                json={},
                headers=bearer(admin_token),
            )
            check_api_answer(response)
            assert response.status_code == 404, (route.id, huge)


def test_a_nul_in_a_path_is_a_404_before_any_query(client, admin_token) -> None:
    """PostgreSQL refuses a NUL in text it compares: a slug holding one would be a 500."""
    for path in ("/api/v1/cot%00onou/documents", "/dashboard/cot%00onou/"):
        response = client.get(path, headers=bearer(admin_token))
        assert response.status_code == 404, path
