"""The API's writes: sessions, broadcasts and feedback, through the dashboard's functions."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from bot.content.cache import commune_id
from bot.models import AuditLog, Broadcast, Contact, Event, OutboundMessage, Subscription
from bot.models.enums import BroadcastStatus, Channel, FeedbackCategory, FeedbackStatus, Topic
from bot.participation import feedback as tickets
from tests.api.conftest import bearer

EDITOR = "editor@mairie-cotonou.example"
EVENT = {
    "type": "reddition_de_comptes",
    "title": "Reddition de comptes 2026",
    "starts_at": "2030-03-14T09:00",
    "place": "Salle du conseil",
    "accepts_questions": True,
}


@pytest.fixture
def editor(token_for) -> dict[str, str]:
    return bearer(token_for(EDITOR, roles={"cotonou": "editor"}))


def _subscriber(session, phone: str, topic: Topic = Topic.ALL) -> Contact:
    contact = Contact(phone_e164=phone, language="fr")
    session.add(contact)
    session.flush()
    session.add(
        Subscription(
            contact_id=contact.id,
            commune_id=commune_id(session, "cotonou"),
            topic=topic,
            channel=Channel.SMS,
        )
    )
    session.commit()
    return contact


def test_api_event_is_scheduled_published_moved_and_held(client, session, editor) -> None:
    _subscriber(session, "+2290197000101", Topic.REDDITION)
    created = client.post("/api/v1/communes/cotonou/events", json=EVENT, headers=editor)
    assert created.status_code == 201, created.json
    event_id = created.json["id"]
    assert created.json["status"] == "draft" and created.json["accepts_questions"] is True

    published = client.post(f"/api/v1/communes/cotonou/events/{event_id}/publish", headers=editor)
    assert published.status_code == 200, published.json
    kinds = [alert["kind"] for alert in published.json["alerts"]]
    assert kinds[0] == "announcement" and "reminder" in kinds

    moved = client.post(
        f"/api/v1/communes/cotonou/events/{event_id}/move",
        json={"starts_at": "2030-03-21T09:00"},
        headers=editor,
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["event"]["starts_at"].startswith("2030-03-21T08:00")  # 09:00 in Porto-Novo

    held = client.post(
        f"/api/v1/communes/cotonou/events/{event_id}/held",
        json={"summary": "Budget 2029 presente, 40 questions."},
        headers=editor,
    )
    assert held.status_code == 200, held.json
    assert held.json["event"]["status"] == "held"
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "event").order_by(AuditLog.id)
    ).all()
    assert actions == ["create", "publish", "move", "held"]
    assert session.scalar(select(AuditLog.actor).where(AuditLog.entity == "event")) == EDITOR


def test_api_refuses_bad_event_values_with_their_fields_and_writes_nothing(
    client, session, editor
) -> None:
    before = session.scalar(select(func.count(Event.id)))
    bad = {**EVENT, "type": "party", "starts_at": "next tuesday", "title": ""}
    response = client.post("/api/v1/communes/cotonou/events", json=bad, headers=editor)
    assert response.status_code == 422
    assert {"type", "starts_at", "title"} <= set(response.json["error"]["fields"])
    nested = client.post(
        "/api/v1/communes/cotonou/events", json={**EVENT, "title": {"a": [1]}}, headers=editor
    )
    assert nested.status_code == 422 and "title" in nested.json["error"]["fields"]
    assert session.scalar(select(func.count(Event.id))) == before


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("title=x", "application/x-www-form-urlencoded", 415),
        ("[1, 2]", "application/json", 400),
        ("{not json", "application/json", 400),
        ('"text"', "application/json", 400),
    ],
)
def test_api_body_must_be_a_json_object(client, editor, body, content_type, status) -> None:
    response = client.post(
        "/api/v1/communes/cotonou/events",
        data=body,
        headers={**editor, "Content-Type": content_type},
    )
    assert response.status_code == status
    assert response.json["error"]["status"] == status


def test_api_preview_stores_nothing_and_send_reaches_subscribers(
    client, session, editor, run_jobs
) -> None:
    _subscriber(session, "+2290197000102")
    body = {"topic": "all", "text_fr": "Curage des caniveaux lundi. Merci", "channels": ["sms"]}
    preview = client.post("/api/v1/communes/cotonou/broadcasts/preview", json=body, headers=editor)
    assert preview.status_code == 200, preview.json
    assert preview.json["recipients"] == 1 and preview.json["lines"][0]["segments"] == 1
    assert session.scalar(select(func.count(Broadcast.id))) == 0

    sent = client.post(
        "/api/v1/communes/cotonou/broadcasts", json={**body, "urgent": True}, headers=editor
    )
    assert sent.status_code == 201, sent.json
    run_jobs()
    texts = session.scalars(
        select(OutboundMessage.text).where(OutboundMessage.broadcast_id == sent.json["id"])
    ).all()
    assert len(texts) == 1 and texts[0].startswith("Curage des caniveaux")
    shown = client.get(f"/api/v1/communes/cotonou/broadcasts/{sent.json['id']}", headers=editor)
    assert shown.json["status"] == BroadcastStatus.DONE.value


def test_api_broadcast_can_be_cancelled_before_it_starts(client, session, editor) -> None:
    body = {
        "topic": "all",
        "text_fr": "Rappel",
        "channels": ["sms"],
        "scheduled_at": "2030-01-01T10:00",
    }
    sent = client.post("/api/v1/communes/cotonou/broadcasts", json=body, headers=editor)
    path = f"/api/v1/communes/cotonou/broadcasts/{sent.json['id']}"
    cancelled = client.post(path + "/cancel", headers=editor)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = client.post(path + "/pause", headers=editor)
    assert again.status_code == 422 and "status" in again.json["error"]["fields"]


def _ticket(session, phone: str = "+2290197000103"):
    contact = Contact(phone_e164=phone, language="fr")
    session.add(contact)
    session.commit()
    ticket, _ = tickets.file(
        session,
        tickets.Draft(
            commune_slug="cotonou",
            contact_id=contact.id,
            text="Pas d'eau au robinet depuis lundi",
            draft_id=uuid.uuid4().hex,
            category=FeedbackCategory.EAU,
            channel=Channel.SMS,
        ),
    )
    session.commit()
    return ticket


def test_api_feedback_status_reaches_the_citizen_and_hides_the_number(
    client, session, token_for, run_jobs
) -> None:
    agent = bearer(token_for("agent@mairie-cotonou.example", roles={"cotonou": "agent"}))
    ticket = _ticket(session)
    path = f"/api/v1/communes/cotonou/feedback/{ticket.id}"
    shown = client.get(path, headers=agent).json
    assert "contact_id" not in shown and "+229" not in str(shown)
    assigned = client.post(path + "/assign", json={"assignee": "me"}, headers=agent)
    assert assigned.status_code == 200 and assigned.json["assigned_to_id"] is not None
    moved = client.post(
        path + "/status", json={"status": "in_progress", "note": "Equipe envoyee"}, headers=agent
    )
    assert moved.status_code == 200, moved.json
    assert moved.json["status"] == FeedbackStatus.IN_PROGRESS.value
    run_jobs()
    sent = session.scalars(
        select(OutboundMessage.text).where(OutboundMessage.contact_id == ticket.contact_id)
    ).all()
    assert any("Equipe envoyee" in text for text in sent)


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "status"),
    [
        ("viewer", "post", "/api/v1/communes/cotonou/events", EVENT, 403),
        ("agent", "post", "/api/v1/communes/cotonou/broadcasts/preview", {}, 403),
        ("editor", "post", "/api/v1/communes/abomey-calavi/events", EVENT, 403),
        ("editor", "get", "/api/v1/communes/abomey-calavi/feedback", None, 403),
        ("editor", "get", "/api/v1/communes/nowhere/feedback", None, 404),
    ],
)
def test_api_roles_hold_per_commune(client, token_for, role, method, path, body, status) -> None:
    headers = bearer(token_for(f"{role}@mairie-cotonou.example", roles={"cotonou": role}))
    response = getattr(client, method)(path, json=body, headers=headers)
    assert response.status_code == status
    assert response.json["error"]["status"] == status


def test_api_object_of_another_commune_is_not_found(client, session, editor, token_for) -> None:
    calavi = bearer(token_for("editor@mairie-calavi.example", roles={"abomey-calavi": "editor"}))
    created = client.post("/api/v1/communes/abomey-calavi/events", json=EVENT, headers=calavi)
    event_id = created.json["id"]
    for method, suffix in (("get", ""), ("patch", ""), ("post", "/publish")):
        response = getattr(client, method)(
            f"/api/v1/communes/cotonou/events/{event_id}{suffix}", json=EVENT, headers=editor
        )
        assert response.status_code == 404
    assert session.get(Event, event_id).status.value == "draft"
