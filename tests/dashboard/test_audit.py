"""Logins, failed logins and logouts leave audit rows, never a password."""

from __future__ import annotations

import json

from sqlalchemy import select

from bot import audit
from bot.models import AuditLog, Event
from tests.dashboard.conftest import PASSWORD, csrf_from, login

EMAIL = "clerk@mairie-cotonou.example"
TYPED_WRONG = "Tr0ub4dor&3-secret"


def _rows(session, action: str) -> list[AuditLog]:
    session.expire_all()
    return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def _as_text(row: AuditLog) -> str:
    columns = AuditLog.__table__.columns
    return json.dumps({c.name: getattr(row, c.name) for c in columns}, default=str)


def test_login_success_and_logout_are_audited(client, make_staff, session) -> None:
    clerk = make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    [entry] = _rows(session, "login")
    assert (entry.staff_user_id, entry.actor, entry.entity, entry.entity_id) == (
        clerk.id,
        EMAIL,
        "staff_user",
        str(clerk.id),
    )
    assert PASSWORD not in _as_text(entry)
    session.refresh(clerk)
    assert clerk.last_login_at is not None

    token = csrf_from(client.get("/dashboard/").get_data(as_text=True))
    client.post("/dashboard/logout", data={"csrf_token": token})
    [entry] = _rows(session, "logout")
    assert (entry.staff_user_id, entry.actor) == (clerk.id, EMAIL)


def test_failed_logins_are_audited_without_the_password(client, make_staff, session) -> None:
    clerk = make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, "Clerk@Mairie-Cotonou.example", TYPED_WRONG)
    login(client, "Stranger@Example.org", TYPED_WRONG)
    rows = _rows(session, "login_failed")
    assert [(r.actor, r.staff_user_id, r.entity_id) for r in rows] == [
        (EMAIL, None, str(clerk.id)),
        ("stranger@example.org", None, None),
    ]
    for row in rows:
        assert TYPED_WRONG not in _as_text(row)
    assert _rows(session, "login") == []


def test_blocked_attempts_are_audited_too(client, make_staff, session) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    for _ in range(5):
        login(client, EMAIL, TYPED_WRONG)
    login(client, EMAIL)
    [entry] = _rows(session, "login_blocked")
    assert entry.actor == EMAIL
    assert PASSWORD not in _as_text(entry)


def test_record_writes_what_it_is_given(make_staff, communes, session) -> None:
    editor = make_staff(EMAIL, roles={"cotonou": "editor"})
    audit.record(
        session,
        editor,
        "update",
        "event",
        42,
        communes["cotonou"].id,
        before={"title": "Session"},
        after={"title": "Session ordinaire"},
    )
    session.commit()
    [entry] = _rows(session, "update")
    assert (entry.actor, entry.staff_user_id, entry.entity, entry.entity_id) == (
        EMAIL,
        editor.id,
        "event",
        "42",
    )
    assert entry.commune_id == communes["cotonou"].id
    assert (entry.before, entry.after) == ({"title": "Session"}, {"title": "Session ordinaire"})


def test_an_overlong_typed_email_is_cut_to_the_actor_column(client, session) -> None:
    typed = "a" * 300 + "@example.org"
    login(client, typed, TYPED_WRONG)
    [entry] = _rows(session, "login_failed")
    assert entry.actor == typed[:120]


def test_snapshot_gives_json_safe_columns_without_row_timestamps(session, communes) -> None:
    event = session.scalars(select(Event)).first()
    values = audit.snapshot(event, exclude=frozenset({"summary"}))
    assert values["type"] == event.type.value
    assert values["starts_at"] == event.starts_at.isoformat()
    assert "summary" not in values and "created_at" not in values and "updated_at" not in values
    json.dumps(values)
