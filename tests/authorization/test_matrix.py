"""The authorization matrix: every role against every dashboard page and API operation,
in its own commune, in another commune, and with another commune's objects.

The expected capability of each route is written here by hand, from what the
issue asks of each role, not read from the code: a route the table does not
know fails the test, so a new page cannot ship unclassified.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from bot.api.reads import RESOURCES
from bot.broadcasts import compose
from bot.dashboard.permissions import ROLE_CAPABILITIES, Capability
from bot.models import Contact, Document, Event, Question
from bot.models.enums import Channel, FeedbackCategory, StaffRoleName, Topic
from bot.models.types import utcnow
from bot.participation import feedback as tickets
from bot.participation.polls import create_poll
from bot.staff import create_token
from tests.api.conftest import bearer
from tests.dashboard.conftest import login

R, F, C, B, S = (
    Capability.READ,
    Capability.HANDLE_FEEDBACK,
    Capability.EDIT_CONTENT,
    Capability.SEND_BROADCASTS,
    Capability.MANAGE_STAFF,
)
NATIONAL = "national"

DASHBOARD: dict[tuple[str, str], Capability | str] = {
    ("dashboard.audit_log", "GET"): S,
    ("dashboard.audit_log_all", "GET"): NATIONAL,
    ("dashboard.broadcasts", "GET"): R,
    ("dashboard.broadcast", "GET"): R,
    ("dashboard.broadcast_control", "POST"): B,
    ("dashboard.broadcast_new", "GET"): B,
    ("dashboard.broadcast_new", "POST"): B,
    ("dashboard.broadcast_preview", "POST"): B,
    ("dashboard.content_index", "GET"): R,
    ("dashboard.content_list", "GET"): R,
    ("dashboard.content_export", "GET"): R,
    ("dashboard.content_ocds", "GET"): R,
    ("dashboard.content_new", "GET"): C,
    ("dashboard.content_new", "POST"): C,
    ("dashboard.content_edit_page", "GET"): C,
    ("dashboard.content_edit_page", "POST"): C,
    ("dashboard.content_delete", "GET"): C,
    ("dashboard.content_delete", "POST"): C,
    ("dashboard.content_import_page", "GET"): C,
    ("dashboard.content_import_page", "POST"): C,
    ("dashboard.content_import_confirm", "POST"): C,
    ("dashboard.content_audio_page", "GET"): C,
    ("dashboard.content_audio_page", "POST"): C,
    ("dashboard.content_audio_delete", "POST"): C,
    ("dashboard.events", "GET"): R,
    ("dashboard.event", "GET"): R,
    ("dashboard.event_new", "GET"): C,
    ("dashboard.event_new", "POST"): C,
    ("dashboard.event_edit", "GET"): C,
    ("dashboard.event_edit", "POST"): C,
    ("dashboard.event_action", "GET"): C,
    ("dashboard.event_action", "POST"): C,
    ("dashboard.feedback_list", "GET"): R,
    ("dashboard.feedback_ticket", "GET"): R,
    ("dashboard.feedback_action", "POST"): F,
    ("dashboard.polls_list", "GET"): R,
    ("dashboard.polls_show", "GET"): R,
    ("dashboard.polls_export", "GET"): R,
    ("dashboard.polls_new", "GET"): C,
    ("dashboard.polls_create", "POST"): C,
    ("dashboard.polls_close", "POST"): C,
    ("dashboard.questions_list", "GET"): R,
    ("dashboard.questions_event", "GET"): R,
    ("dashboard.questions_answer", "POST"): F,
    ("dashboard.subscribers", "GET"): R,
}
"""(endpoint, method) -> what the staff needs in the commune of the URL."""

UNSCOPED = {"dashboard.login", "dashboard.logout", "dashboard.static", "dashboard.overview"}
DESTRUCTIVE = {
    "dashboard.content_delete",
    "dashboard.content_audio_delete",
    "dashboard.polls_close",
    "dashboard.broadcast_control",
}
ROLES = ["viewer", "agent", "editor", "admin", NATIONAL]


@dataclass(frozen=True)
class Objects:
    """One object of each kind in a commune, as URL arguments."""

    args: dict[str, object]


def _objects(session, slug: str) -> Objects:
    from bot.content.cache import commune_id

    commune = commune_id(session, slug)
    document = session.scalar(select(Document).where(Document.commune_id == commune))
    event = session.scalar(select(Event).where(Event.commune_id == commune))
    contact = Contact(phone_e164=f"+22901970{uuid.uuid4().int % 100000:05d}", language="fr")
    session.add(contact)
    session.flush()
    ticket, _ = tickets.file(
        session,
        tickets.Draft(
            commune_slug=slug,
            contact_id=contact.id,
            text="Lampadaire en panne",
            draft_id=uuid.uuid4().hex,
            category=FeedbackCategory.ELECTRICITE,
            channel=Channel.SMS,
        ),
    )
    question = Question(event_id=event.id, channel=Channel.SMS, text="Pourquoi ?")
    session.add(question)
    session.flush()
    question.cluster_id = question.id
    broadcast = compose.create(
        session,
        commune_slug=slug,
        topic=Topic.ALL,
        texts={"fr": "Test"},
        channels=[Channel.SMS],
        scheduled_at=utcnow() + timedelta(days=30),
    )
    poll = create_poll(
        session, slug, "Quel jour ?", ["Lundi", "Mardi"], utcnow() + timedelta(days=3)
    )
    session.commit()
    # The API names every object `item_id`: its id depends on the path's resource.
    api_ids = {
        kind: session.scalar(select(item.model.id).where(item.model.commune_id == commune))
        for kind, item in RESOURCES.items()
    }
    return Objects(
        {
            "api_ids": api_ids,
            "kind": "documents",
            "row_id": document.id,
            "token": "0" * 32,
            "broadcast_id": broadcast.id,
            "event_id": event.id,
            "ref": ticket.ref,
            "poll_id": poll.id,
            "cluster_id": question.cluster_id,
        }
    )


ACTIONS = {
    "dashboard.broadcast_control": "pause",
    "dashboard.event_action": "publish",
    "dashboard.feedback_action": "assign",
}


def _url(app: Flask, rule, slug: str, objects: Objects) -> str:
    args: dict[str, object] = {"commune": slug}
    for name in rule.arguments - {"commune"}:
        if name == "action":
            args[name] = ACTIONS[rule.endpoint]
        elif name == "item_id":
            resource = rule.rule.split("/<commune>/")[1].split("/")[0]
            args[name] = objects.args["api_ids"][resource]
        else:
            args[name] = objects.args[name]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **args)


def _dashboard_routes(app: Flask) -> list[tuple[object, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("dashboard.") or rule.endpoint in UNSCOPED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((rule, method))
    # Reads first, writes next, what removes or stops an object last.
    return sorted(
        routes,
        key=lambda r: (r[1] != "GET", r[0].endpoint in DESTRUCTIVE, r[0].rule, r[1]),
    )


def test_matrix_knows_every_dashboard_route(app) -> None:
    known = {(rule.endpoint, method) for rule, method in _dashboard_routes(app)}
    assert known == set(DASHBOARD), "classify each new page in DASHBOARD"


def _allowed(role: str, needed: Capability | str) -> bool:
    if role == NATIONAL:
        return True
    if needed == NATIONAL:
        return False
    return needed in ROLE_CAPABILITIES[StaffRoleName(role)]


@pytest.fixture
def world(session, communes):
    return {slug: _objects(session, slug) for slug in ("cotonou", "abomey-calavi")}


def _csrf(client) -> dict[str, str]:
    with client.session_transaction() as cookie:
        cookie["csrf_token"] = "matrix-token"
    return {"csrf_token": "matrix-token"}


@pytest.mark.parametrize("role", ROLES)
def test_dashboard_matrix(app, client, make_staff, world, role: str) -> None:
    email = f"{role}@matrix.example"
    if role == NATIONAL:
        make_staff(email, national_admin=True)
    else:
        make_staff(email, roles={"cotonou": role})
    login(client, email)
    form = _csrf(client)
    own, other = world["cotonou"], world["abomey-calavi"]
    for rule, method in _dashboard_routes(app):
        needed = DASHBOARD[(rule.endpoint, method)]
        allowed = _allowed(role, needed)
        cases = [("cotonou", own, "own"), ("abomey-calavi", other, "foreign")]
        if "<" in rule.rule.replace("<commune>", "") and rule.endpoint != "dashboard.audit_log_all":
            cases.append(("cotonou", other, "crossed"))
        if rule.endpoint == "dashboard.audit_log_all":
            cases = [("cotonou", own, "own")]
        for slug, objects, case in cases:
            url = _url(app, rule, slug, objects)
            response = client.open(url, method=method, data=form if method == "POST" else None)
            status = response.status_code
            where = f"{role} {method} {url} ({case})"
            assert status < 500, where
            if (case == "foreign" and role != NATIONAL) or not allowed:
                assert status == 403, where
            elif case == "crossed" and rule.arguments - {"commune", "kind", "action", "token"}:
                assert status == 404, where
            else:
                assert status not in (401, 403), where
                # An unknown import token is not found, rightly.
                if rule.endpoint != "dashboard.content_import_confirm":
                    assert status != 404, where


def test_dashboard_matrix_anonymous_is_sent_to_login(app, client, world) -> None:
    for rule, method in _dashboard_routes(app):
        url = _url(app, rule, "cotonou", world["cotonou"])
        response = client.open(url, method=method, data=_csrf(client) if method == "POST" else None)
        assert response.status_code == 302, f"{method} {url}"
        assert "/dashboard/login" in response.headers["Location"]


API_ROLES = ["viewer", "agent", "editor", "admin", NATIONAL]


def _api_routes(app: Flask) -> list[tuple[object, str]]:
    from bot.api.openapi import OPERATIONS

    capability = {(op.rule, op.method): op.capability for op in OPERATIONS}
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and "<commune>" in rule.rule:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append(
                    (rule, method, capability[(rule.rule.removeprefix("/api/v1"), method)])
                )
    return sorted(routes, key=lambda r: (r[1] != "GET", "/cancel" in r[0].rule, r[0].rule))


API_EXPECTED = {"GET": R}
"""A read needs `read`; each write states its own capability in the OpenAPI document."""


@pytest.mark.parametrize("role", API_ROLES)
def test_api_matrix(app, client, session, make_staff, world, role: str) -> None:
    email = f"{role}@api-matrix.example"
    if role == NATIONAL:
        make_staff(email, national_admin=True)
    else:
        make_staff(email, roles={"cotonou": role})
    _, token = create_token(session, email=email, name="matrix", actor="test")
    session.commit()
    headers = bearer(token)
    for rule, method, needed in _api_routes(app):
        if method == "GET":
            assert needed == API_EXPECTED["GET"], rule.rule
        allowed = _allowed(role, needed)
        for slug, objects, case in (
            ("cotonou", world["cotonou"], "own"),
            ("abomey-calavi", world["abomey-calavi"], "foreign"),
            ("cotonou", world["abomey-calavi"], "crossed"),
        ):
            if case == "crossed" and "item_id" not in rule.arguments:
                continue
            url = _url(app, rule, slug, objects)
            body = None if method == "GET" else {}
            response = client.open(url, method=method, json=body, headers=headers)
            where = f"{role} {method} {url} ({case})"
            assert response.status_code < 500, where
            if (case == "foreign" and role != NATIONAL) or not allowed:
                assert response.status_code == 403, where
            elif case == "crossed":
                assert response.status_code == 404, where
            else:
                assert response.status_code not in (401, 403, 404), where
        assert (
            client.open(_url(app, rule, "cotonou", world["cotonou"]), method=method).status_code
            == 401
        )
