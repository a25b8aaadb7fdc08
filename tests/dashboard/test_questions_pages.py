"""Questions for sessions: the sessions, their groups most-asked first, and answering a group."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.gsm import is_gsm7
from bot.models import AuditLog, Contact, Event, OutboundMessage, Question
from bot.models.enums import Channel, EventStatus, EventType
from bot.models.types import utcnow
from bot.participation.questions import ask
from tests.dashboard.conftest import csrf_from, login

AGENT = "agent@mairie-cotonou.example"
XSS = "<script>alert(1)</script>"
DRAINS = [
    "Pourquoi les caniveaux de Zogbo sont bouchés ?",
    "Quand allez-vous curer les caniveaux bouchés à Zogbo ?",
    "caniveaux bouchés Zogbo",
]
ROAD = f"Quand est-ce que la route de Godomey sera refaite ? {XSS}"


def _event(session, commune, *, accepts: bool = True, title: str = "Reddition de test") -> Event:
    event = Event(
        commune_id=commune.id,
        type=EventType.REDDITION_DE_COMPTES,
        title=title,
        status=EventStatus.SCHEDULED,
        accepts_questions=accepts,
        starts_at=utcnow() + timedelta(days=30),
    )
    session.add(event)
    session.commit()
    return event


def _ask(session, event: Event, text: str, phone: str | None, channel=Channel.SMS) -> Question:
    contact_id = None
    if phone is not None:
        contact = Contact(phone_e164=phone)
        session.add(contact)
        session.commit()
        contact_id = contact.id
    return ask(session, event.id, contact_id, channel, text, uuid.uuid4().hex)


@pytest.fixture
def event(session, communes) -> Event:
    event = _event(session, communes["cotonou"])
    _ask(session, event, DRAINS[0], "+2290197000001", Channel.USSD)
    _ask(session, event, DRAINS[1], "+2290197000002", Channel.WHATSAPP)
    _ask(session, event, DRAINS[2], "+2290197000003")
    _ask(session, event, ROAD, "+2290197000004")
    return event


@pytest.fixture
def agent(client, make_staff):
    user = make_staff(AGENT, roles={"cotonou": "agent"})
    login(client, AGENT)
    return user


def _groups(html: str) -> list[tuple[int, int]]:
    """(group id, count) of each group section, in page order."""
    found = []
    for part in html.split('data-group="')[1:]:
        group_id, rest = part.split('"', 1)
        count = rest.split('data-count="', 1)[1].split('"', 1)[0]
        found.append((int(group_id), int(count)))
    return found


def _answer(client, event: Event, cluster_id: int, text: str):
    page = f"/dashboard/cotonou/questions/{event.id}"
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(
        f"{page}/groups/{cluster_id}/answer", data={"csrf_token": token, "answer": text}
    )


def test_the_list_shows_sessions_taking_questions_with_counts(
    client, session, communes, agent, event
) -> None:
    _event(session, communes["cotonou"], accepts=False, title="Session sans questions")
    _event(session, communes["abomey-calavi"], title="Reddition de Calavi")
    html = client.get("/dashboard/cotonou/questions").get_data(as_text=True)
    assert "Reddition de test" in html
    assert "Session sans questions" not in html and "Reddition de Calavi" not in html
    row = html.split(f'data-event="{event.id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-count="questions">4<' in row and 'data-count="groups">2<' in row
    assert 'data-count="unanswered">2<' in row


def test_groups_come_most_asked_first_with_escaped_examples(client, session, agent, event) -> None:
    html = client.get(f"/dashboard/cotonou/questions/{event.id}").get_data(as_text=True)
    groups = _groups(html)
    assert [count for _, count in groups] == [3, 1]
    assert DRAINS[1] in html and DRAINS[2] in html
    assert XSS not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "+22901970000" not in html  # who asked is never shown


def test_answering_a_group_sends_it_to_each_asker_and_marks_it(
    client, session, agent, event, run_jobs
) -> None:
    drains = session.scalar(select(Question).where(Question.text == DRAINS[0])).cluster_id
    response = _answer(client, event, drains, "Curage prévu en janvier « sans faute ».")
    assert response.status_code == 303
    assert "done=answered" in response.headers["Location"]
    assert response.headers["Location"].endswith(f"#group-{drains}")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "envoyée à 3 citoyen(s)" in html
    section = html.split(f'id="group-{drains}"', 1)[1].split("</section>", 1)[0]
    assert 'data-answered="yes"' in html.split(f'id="group-{drains}"', 1)[1][:200]
    assert "Curage prévu en janvier" in section
    run_jobs()
    rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert sorted(r.channel for r in rows) == sorted([Channel.SMS, Channel.WHATSAPP, Channel.SMS])
    assert all("Curage prévu en janvier" in r.text for r in rows)
    assert all(is_gsm7(r.text) for r in rows if r.channel is Channel.SMS)
    [entry] = session.scalars(select(AuditLog).where(AuditLog.entity == "question_group")).all()
    assert entry.actor == AGENT and entry.after["sent"] == 3
    # The other group is still waiting.
    road = session.scalar(select(Question).where(Question.text.startswith("Quand est-ce")))
    assert road.answer is None


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "Écrivez la réponse"), ("   ", "Écrivez la réponse"), ("x" * 301, "300 caractères")],
)
def test_a_bad_answer_is_refused_and_nothing_is_sent(
    client, session, agent, event, run_jobs, text, says
) -> None:
    drains = session.scalar(select(Question).where(Question.text == DRAINS[0])).cluster_id
    response = _answer(client, event, drains, text)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-answer"' in html and says in html
    run_jobs()
    session.expire_all()
    assert session.scalars(select(OutboundMessage)).all() == []
    assert all(q.answer is None for q in session.scalars(select(Question)))


def test_unknown_groups_and_events_of_other_communes_are_404(
    client, session, communes, agent, event
) -> None:
    calavi = _event(session, communes["abomey-calavi"], title="Reddition de Calavi")
    asked = _ask(session, calavi, DRAINS[0], None)
    quiet = _event(session, communes["cotonou"], accepts=False, title="Sans questions")
    token = csrf_from(client.get("/dashboard/cotonou/questions").get_data(as_text=True))
    assert client.get(f"/dashboard/cotonou/questions/{calavi.id}").status_code == 404
    assert client.get(f"/dashboard/cotonou/questions/{quiet.id}").status_code == 404
    assert client.get("/dashboard/cotonou/questions/999999").status_code == 404
    for path in (
        f"/dashboard/cotonou/questions/{calavi.id}/groups/{asked.cluster_id}/answer",
        f"/dashboard/cotonou/questions/{event.id}/groups/{asked.cluster_id}/answer",
        f"/dashboard/cotonou/questions/{event.id}/groups/999999/answer",
    ):
        response = client.post(path, data={"csrf_token": token, "answer": "Réponse"})
        assert response.status_code == 404
    session.expire_all()
    assert session.get(Question, asked.id).answer is None


def test_a_viewer_reads_but_cannot_answer(client, session, make_staff, event) -> None:
    make_staff("viewer@mairie-cotonou.example", roles={"cotonou": "viewer"})
    login(client, "viewer@mairie-cotonou.example")
    drains = session.scalar(select(Question).where(Question.text == DRAINS[0])).cluster_id
    page = client.get(f"/dashboard/cotonou/questions/{event.id}")
    assert page.status_code == 200 and "<textarea" not in page.get_data(as_text=True)
    response = client.post(
        f"/dashboard/cotonou/questions/{event.id}/groups/{drains}/answer",
        data={"csrf_token": csrf_from(page.get_data(as_text=True)), "answer": "Réponse"},
    )
    assert response.status_code == 403


def test_staff_of_another_commune_get_403(client, session, make_staff, event) -> None:
    make_staff("agent@mairie-calavi.example", roles={"abomey-calavi": "agent"})
    login(client, "agent@mairie-calavi.example")
    drains = session.scalar(select(Question).where(Question.text == DRAINS[0])).cluster_id
    token = csrf_from(client.get("/dashboard/abomey-calavi/questions").get_data(as_text=True))
    assert client.get("/dashboard/cotonou/questions").status_code == 403
    assert client.get(f"/dashboard/cotonou/questions/{event.id}").status_code == 403
    response = client.post(
        f"/dashboard/cotonou/questions/{event.id}/groups/{drains}/answer",
        data={"csrf_token": token, "answer": "Réponse"},
    )
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_login(client, event) -> None:
    for path in ("/dashboard/cotonou/questions", f"/dashboard/cotonou/questions/{event.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_the_pages_in_english(client, session, agent, event) -> None:
    html = client.get(f"/dashboard/cotonou/questions/{event.id}?lang=en").get_data(as_text=True)
    assert "3 similar question(s)" in html and "Send the answer" in html
