"""The audit log pages: scope, filters, paging, diffs of changed keys, and no credentials."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.dashboard.audit_views import Change, changes
from bot.models import AuditLog
from tests.dashboard.conftest import login

ADMIN = "admin@mairie-cotonou.example"
URL = "/dashboard/cotonou/audit"
GLOBAL = "/dashboard/audit"
XSS = "<script>alert(1)</script>"


def _row(session, commune, action, *, actor=ADMIN, entity="event", at, before=None, after=None):
    row = AuditLog(
        actor=actor,
        action=action,
        entity=entity,
        entity_id="7",
        commune_id=commune.id if commune else None,
        before=before,
        after=after,
        created_at=at,
    )
    session.add(row)
    return row


def _actions(html: str) -> list[str]:
    return re.findall(r"<td data-action>([^<]*)</td>", html)


@pytest.fixture
def log(session, communes):
    cotonou, calavi = communes["cotonou"], communes["abomey-calavi"]
    base = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
    _row(session, cotonou, "update", at=base, before={"title": "Old"}, after={"title": "New"})
    _row(session, cotonou, "publish", actor="editor@mairie-cotonou.example", at=base + timedelta(1))
    _row(session, cotonou, "delete", entity="document", at=base + timedelta(2))
    _row(session, calavi, "calavi_only", at=base)
    _row(session, None, "national_only", at=base)
    session.commit()


def test_commune_admin_sees_the_communes_rows_newest_first(client, make_staff, log) -> None:
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _actions(html) == ["delete", "publish", "update"]
    assert "calavi_only" not in html and "national_only" not in html
    # Local time: 12:00 UTC is 13h00 in Porto-Novo.
    assert "13h00" in html
    assert 'id="audit-all-link"' not in html


def test_the_diff_shows_changed_keys_only(client, make_staff, session, communes) -> None:
    _row(
        session,
        communes["cotonou"],
        "update",
        at=datetime(2026, 11, 1, tzinfo=UTC),
        before={"title": "Budget 2025", "status": "draft", "place": "Mairie"},
        after={"title": "Budget 2026", "status": "draft", "place": "Mairie", "summary": "Vu"},
    )
    session.commit()
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    html = client.get(URL).get_data(as_text=True)
    assert (
        '<dd data-key="title"><del>&#34;Budget 2025&#34;</del> → <ins>&#34;Budget 2026&#34;' in html
    )
    assert 'data-key="summary">— → <ins>&#34;Vu&#34;</ins>' in html
    assert 'data-key="status"' not in html
    assert 'data-key="place"' not in html


def test_credentials_are_never_shown_whatever_the_row_holds(
    client, make_staff, session, communes
) -> None:
    _row(
        session,
        communes["cotonou"],
        "update",
        at=datetime(2026, 11, 1, tzinfo=UTC),
        before={"password_hash": "$argon2id$old", "api_token": "tok-old", "name": "A"},
        after={
            "password_hash": "$argon2id$new",
            "api_token": "tok-new",
            "Client_Secret": "shh",
            "name": "B",
            "settings": {"webhook_token": "tok-nested", "colour": "green"},
        },
    )
    session.commit()
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    html = client.get(URL).get_data(as_text=True)
    for secret in ("argon2id", "tok-old", "tok-new", "shh", "tok-nested"):
        assert secret not in html, secret
    rows = html.split('id="audit-rows"', 1)[1].split("</table>", 1)[0]
    for key in ("password", "token", "secret"):
        assert key not in rows.lower(), key
    assert 'data-key="name"' in rows
    assert "green" in rows


def test_changes_drop_credential_keys_at_every_depth() -> None:
    found = changes(
        {"password": "a", "nested": {"secret": 1, "x": 1}},
        {"PASSWORD": "b", "nested": {"secret": 2, "x": 2}, "list": [{"refresh_token": "t"}]},
    )
    assert found == [
        Change("list", None, "[{}]"),
        Change("nested", '{"x": 1}', '{"x": 2}'),
    ]
    assert changes(None, None) == []
    assert changes({"a": 1}, {"a": 1}) == []
    assert changes(None, ["not", "a", "dict"]) == [Change("value", None, '["not", "a", "dict"]')]


def test_values_and_actors_are_escaped(client, make_staff, session, communes) -> None:
    _row(
        session,
        communes["cotonou"],
        XSS,
        actor=XSS,
        entity=XSS,
        at=datetime(2026, 11, 1, tzinfo=UTC),
        before={XSS: XSS},
        after={XSS: "ok"},
    )
    session.commit()
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    html = client.get(URL).get_data(as_text=True)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get(URL, query_string={"actor": XSS}).get_data(as_text=True)
    assert XSS not in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "EDITOR@"}, ["publish"]),
        ({"actor": "%"}, []),
        ({"action": "update"}, ["update"]),
        ({"entity": "document"}, ["delete"]),
        ({"entity": "nothing-like-it"}, []),
        # 2026-11-11 local: the row at 12:00 UTC on the 11th only.
        ({"date_from": "2026-11-11", "date_to": "2026-11-11"}, ["publish"]),
        ({"date_from": "2026-11-11"}, ["delete", "publish"]),
        ({"date_to": "2026-11-10"}, ["update"]),
        ({"actor": "admin@", "date_from": "2026-11-11"}, ["delete"]),
    ],
)
def test_filters(client, make_staff, log, query, expected) -> None:
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    response = client.get(URL, query_string=query)
    assert response.status_code == 200
    assert _actions(response.get_data(as_text=True)) == expected


def test_date_range_uses_local_midnight(client, make_staff, session, communes) -> None:
    # 23:30 UTC on the 10th is 00:30 on the 11th in Porto-Novo.
    _row(session, communes["cotonou"], "late", at=datetime(2026, 11, 10, 23, 30, tzinfo=UTC))
    session.commit()
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    on_11th = client.get(URL, query_string={"date_from": "2026-11-11", "date_to": "2026-11-11"})
    assert _actions(on_11th.get_data(as_text=True)) == ["late"]
    on_10th = client.get(URL, query_string={"date_to": "2026-11-10"})
    assert "late" not in _actions(on_10th.get_data(as_text=True))


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "11/11/2026"}, "date_from", "Date invalide"),
        ({"date_to": "2026-02-30"}, "date_to", "Date invalide"),
        ({"date_from": "0001-01-01"}, "date_from", "Date invalide"),
        ({"date_to": "9999-12-31"}, "date_to", "Date invalide"),
        ({"date_from": "2026-11-12", "date_to": "2026-11-11"}, "date_to", "La date de fin"),
        ({"actor": "x" * 500}, "actor", "Texte trop long"),
        ({"actor": "a\x00b"}, "actor", "Caractères non autorisés"),
        ({"entity": "\x00"}, "entity", "Caractères non autorisés"),
    ],
)
def test_bad_filters_give_422_with_a_message_beside_the_field(
    client, make_staff, log, query, field, message
) -> None:
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="e-{field}">{message}' in html


def test_paging_keeps_the_filters(client, make_staff, session, communes) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(60):
        _row(session, communes["cotonou"], "bulk", at=base + timedelta(minutes=n))
    _row(session, communes["cotonou"], "other", at=base)
    session.commit()
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    first = client.get(URL, query_string={"action": "bulk"}).get_data(as_text=True)
    assert len(_actions(first)) == 50
    assert "Lignes trouvées : 60" in first
    assert 'rel="next" href="/dashboard/cotonou/audit?action=bulk&amp;page=2"' in first
    second = client.get(URL, query_string={"action": "bulk", "page": "2"}).get_data(as_text=True)
    assert _actions(second) == ["bulk"] * 10
    assert "Page 2 sur 2" in second
    assert client.get(URL, query_string={"page": "x"}).status_code == 200


def test_national_admin_sees_every_row_on_the_global_page(client, make_staff, log) -> None:
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    html = client.get(GLOBAL).get_data(as_text=True)
    for action in ("calavi_only", "national_only", "update", "login"):
        assert action in _actions(html)
    alone = client.get(GLOBAL, query_string={"commune": "none"}).get_data(as_text=True)
    assert "national_only" in _actions(alone)
    assert "update" not in _actions(alone)
    calavi = client.get(GLOBAL, query_string={"commune": "abomey-calavi"}).get_data(as_text=True)
    assert _actions(calavi) == ["calavi_only"]
    assert 'id="audit-all-link"' in client.get(URL).get_data(as_text=True)


def test_a_commune_admin_cannot_open_the_global_page(client, make_staff, log) -> None:
    make_staff(ADMIN, roles={"cotonou": "admin"})
    login(client, ADMIN)
    assert client.get(GLOBAL).status_code == 403


@pytest.mark.parametrize("role", ["viewer", "agent", "editor"])
def test_only_administrators_open_the_log(client, make_staff, log, role) -> None:
    make_staff(f"{role}@mairie-cotonou.example", roles={"cotonou": role})
    login(client, f"{role}@mairie-cotonou.example")
    assert client.get(URL).status_code == 403
    assert 'href="/dashboard/cotonou/audit"' not in client.get("/dashboard/").get_data(as_text=True)


def test_admin_of_another_commune_gets_403_and_the_menu_shows_the_log(
    client, make_staff, log
) -> None:
    make_staff("admin@mairie-calavi.example", roles={"abomey-calavi": "admin"})
    login(client, "admin@mairie-calavi.example")
    assert client.get(URL).status_code == 403
    html = client.get("/dashboard/abomey-calavi/audit").get_data(as_text=True)
    assert _actions(html) == ["calavi_only"]
    assert ">Journal</a>" in html


def test_anonymous_is_sent_to_login_and_unknown_commune_is_404(client, make_staff, log) -> None:
    for url in (URL, GLOBAL):
        response = client.get(url)
        assert response.status_code == 302
        assert "/dashboard/login" in response.headers["Location"]
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    assert client.get("/dashboard/nowhere/audit").status_code == 404
