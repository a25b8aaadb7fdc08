"""Every state-changing request to the dashboard needs the session's CSRF token."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest

from bot.dashboard import csrf
from bot.models import AuditLog
from tests.dashboard.conftest import PASSWORD

EMAIL = "clerk@mairie-cotonou.example"


@pytest.fixture
def clerk(make_staff):
    return make_staff(EMAIL, roles={"cotonou": "viewer"})


def _login_audit_rows(session) -> int:
    return session.scalar(
        select(func.count()).select_from(AuditLog).where(AuditLog.action != "create")
    )


@pytest.mark.parametrize("token", [None, "", "wrong-token", "é-not-ascii"])
def test_login_post_without_the_right_token_is_refused(client, clerk, session, token) -> None:
    client.get("/dashboard/login")  # issues the session's token
    data = {"email": EMAIL, "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/dashboard/login", data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    # Nothing happened: not logged in, nothing audited.
    with client.session_transaction() as cookie:
        assert "staff_id" not in cookie
    assert client.get("/dashboard/").status_code == 302
    assert _login_audit_rows(session) == 0


def test_a_token_from_another_session_is_refused(app, client, clerk) -> None:
    other = app.test_client()
    other.get("/dashboard/login")
    with other.session_transaction() as cookie:
        foreign_token = cookie["csrf_token"]
    client.get("/dashboard/login")
    response = client.post(
        "/dashboard/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": foreign_token},
    )
    assert response.status_code == 400


def test_post_with_no_session_at_all_is_refused(client, clerk) -> None:
    response = client.post(
        "/dashboard/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": "x"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_every_unsafe_method_needs_the_token(app, method) -> None:
    # No PUT/PATCH/DELETE route exists yet; the check is what future routes inherit.
    with app.test_request_context("/dashboard/", method=method):
        sent = csrf.token()
        with pytest.raises(BadRequest):
            csrf.protect()
    with app.test_request_context("/dashboard/", method=method, headers={"X-CSRF-Token": "forged"}):
        csrf.token()
        with pytest.raises(BadRequest):
            csrf.protect()
    with app.test_request_context("/dashboard/", method=method) as context:
        context.session[csrf.SESSION_KEY] = sent
        assert csrf.is_valid(sent)
    with app.test_request_context("/dashboard/", method="GET"):
        csrf.protect()  # safe methods pass without a token
