"""The API's tokens, errors and its own endpoints."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.api.openapi import OPERATIONS
from bot.models import ApiToken, AuditLog, StaffUser
from bot.staff import revoke_token
from tests.api.conftest import bearer
from tests.dashboard.conftest import login


def test_api_without_a_token_answers_401_json_with_the_bearer_challenge(client) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.json["error"]["status"] == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_token_identifies_its_staff_and_roles(client, token_for) -> None:
    token = token_for("editor@cotonou.example", roles={"cotonou": "editor"})
    me = client.get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json["email"] == "editor@cotonou.example"
    assert me.json["communes"] == [
        {
            "slug": "cotonou",
            "name": "Cotonou",
            "role": "editor",
            "capabilities": ["edit_content", "handle_feedback", "read", "send_broadcasts"],
        }
    ]
    assert me.headers["Cache-Control"] == "no-store"


def test_api_national_admin_sees_every_commune_with_every_capability(client, token_for) -> None:
    token = token_for("admin@national.example", national_admin=True)
    communes = client.get("/api/v1/communes", headers=bearer(token)).json
    assert {c["slug"] for c in communes} == {"cotonou", "abomey-calavi", "akpro-missere"}
    assert all("manage_staff" in c["capabilities"] for c in communes)


def test_api_revoked_token_and_disabled_staff_are_refused(client, session, token_for) -> None:
    token = token_for("agent@cotonou.example", roles={"cotonou": "agent"})
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    row = session.scalar(select(ApiToken))
    revoke_token(session, row.id, actor="test")
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401

    other = token_for("viewer@cotonou.example", roles={"cotonou": "viewer"})
    session.scalar(
        select(StaffUser).where(StaffUser.email == "viewer@cotonou.example")
    ).active = False
    session.commit()
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 401


def test_api_ignores_a_dashboard_session_cookie(client, make_staff) -> None:
    # The cookie would let another site's page drive a staff's browser (CSRF).
    make_staff("clerk@cotonou.example", roles={"cotonou": "admin"})
    assert login(client, "clerk@cotonou.example").status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert client.get("/api/v1/me").status_code == 401


def test_api_token_is_stored_only_as_its_digest_and_last_use_is_recorded(
    client, session, token_for
) -> None:
    token = token_for("agent@cotonou.example", roles={"cotonou": "agent"})
    row = session.scalar(select(ApiToken))
    assert token.startswith("cpb_") and token not in (row.token_sha256, row.prefix)
    assert token.startswith(row.prefix) and len(row.prefix) == 8
    assert row.last_used_at is None
    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    first_use = row.last_used_at
    assert first_use is not None
    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    assert row.last_used_at == first_use  # not one write per request
    row.last_used_at = first_use - timedelta(hours=1)
    session.commit()
    client.get("/api/v1/me", headers=bearer(token))
    session.expire_all()
    assert row.last_used_at > first_use - timedelta(hours=1)
    audit = session.scalar(select(AuditLog).where(AuditLog.entity == "api_token"))
    assert audit.action == "create" and token not in str(audit.after)


def test_api_unknown_path_and_method_answer_json(client, token_for) -> None:
    token = token_for("agent@cotonou.example", roles={"cotonou": "agent"})
    missing = client.get("/api/v1/no-such-thing", headers=bearer(token))
    assert missing.status_code == 404 and missing.json["error"]["status"] == 404
    wrong = client.delete("/api/v1/me", headers=bearer(token))
    assert wrong.status_code == 405 and wrong.json["error"]["status"] == 405
    assert "GET" in wrong.headers["Allow"]  # RFC 9110: say what is allowed


def test_api_openapi_document_is_public_and_describes_every_route(app, client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    described = {
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
    }
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}").replace("int:", ""), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert described == routes
    assert len(OPERATIONS) == len(routes)
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []


def test_staff_token_commands_create_list_and_revoke(runner, session, make_staff) -> None:
    make_staff("clerk@cotonou.example", roles={"cotonou": "editor"})
    created = runner.invoke(
        args=["staff", "token-create", "--email", "clerk@cotonou.example", "--name", "export"]
    )
    assert created.exit_code == 0, created.output
    clear = created.output.strip().splitlines()[-1]
    assert clear.startswith("cpb_")
    listed = runner.invoke(args=["staff", "tokens", "--email", "clerk@cotonou.example"])
    assert "active" in listed.output and clear not in listed.output and "export" in listed.output
    token_id = session.scalar(select(ApiToken.id))
    revoked = runner.invoke(args=["staff", "token-revoke", "--id", str(token_id)])
    assert revoked.exit_code == 0
    assert (
        "revoked"
        in runner.invoke(args=["staff", "tokens", "--email", "clerk@cotonou.example"]).output
    )
    unknown = runner.invoke(
        args=["staff", "token-create", "--email", "nobody@x.example", "--name", "x"]
    )
    assert unknown.exit_code != 0 and "no staff user" in unknown.output
