"""The feedback inbox and ticket pages: filters, escaping, masking, and every action."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.gsm import is_gsm7
from bot.models import Area, AuditLog, Contact, Feedback, FeedbackUpdate, OutboundMessage
from bot.models.enums import AreaKind, Channel, FeedbackCategory, FeedbackStatus
from bot.models.types import utcnow
from bot.participation import feedback as tickets
from tests.dashboard.conftest import csrf_from, login

AGENT = "agent@mairie-cotonou.example"
VIEWER = "viewer@mairie-cotonou.example"
CALAVI = "agent@mairie-calavi.example"
PHONE = "+2290197445566"
XSS = "<script>alert(1)</script>"
SQL = "' OR 1=1 --"


def _file(session, slug="cotonou", *, phone=PHONE, text="Pas d'eau au robinet", **fields):
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == phone))
    if contact is None:
        contact = Contact(phone_e164=phone, language=fields.pop("language", None))
        session.add(contact)
        session.commit()
    fields.setdefault("category", FeedbackCategory.EAU)
    fields.setdefault("channel", Channel.SMS)
    ticket, _ = tickets.file(
        session,
        tickets.Draft(
            commune_slug=slug,
            contact_id=contact.id,
            text=text,
            draft_id=uuid.uuid4().hex,
            **fields,
        ),
    )
    return ticket


def _age(session, ticket: Feedback, days: float) -> None:
    ticket.created_at = utcnow() - timedelta(days=days)
    session.commit()


def _arrondissement(session, commune, name: str) -> Area:
    return session.scalar(
        select(Area).where(
            Area.commune_id == commune.id, Area.name == name, Area.kind == AreaKind.ARRONDISSEMENT
        )
    )


@pytest.fixture
def agent(client, make_staff):
    user = make_staff(AGENT, name="Awa Agent", roles={"cotonou": "agent"})
    login(client, AGENT)
    return user


def _refs(html: str) -> list[str]:
    body = html.split('id="tickets"', 1)[1]
    return [part.split('"', 1)[0] for part in body.split('data-ref="')[1:]]


def _post(client, path: str, data: dict):
    token = csrf_from(client.get(path.rsplit("/", 1)[0]).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


# --- the inbox ---------------------------------------------------------------------------


def test_inbox_shows_open_tickets_oldest_first_with_counts_per_status(
    client, session, agent
) -> None:
    recent = _file(session, phone="+2290197000001")
    old = _file(session, phone="+2290197000002")
    done = _file(session, phone="+2290197000003")
    _age(session, old, 10)
    _age(session, done, 20)
    tickets.change_status(session, done, FeedbackStatus.RESOLVED)
    session.commit()
    _file(session, "abomey-calavi", phone="+2290197000004")

    html = client.get("/dashboard/cotonou/feedback").get_data(as_text=True)
    assert _refs(html) == [old.ref, recent.ref]
    assert 'data-status="open"' in html and "À traiter (2)" in html
    assert "Résolu (1)" in html and "Tous (3)" in html

    everything = client.get("/dashboard/cotonou/feedback?status=all").get_data(as_text=True)
    assert _refs(everything) == [old.ref, recent.ref, done.ref]  # open ones first
    resolved = client.get("/dashboard/cotonou/feedback?status=resolved").get_data(as_text=True)
    assert _refs(resolved) == [done.ref]


def test_inbox_filters_by_category_area_age_and_assignee(
    client, session, communes, agent, make_staff
) -> None:
    cotonou = communes["cotonou"]
    seventh = _arrondissement(session, cotonou, "7e arrondissement")
    quartier = Area(commune_id=cotonou.id, kind=AreaKind.QUARTIER, name="Gbégamey")
    quartier.parent_id = seventh.id
    session.add(quartier)
    session.commit()
    road = _file(session, phone="+2290197000001", category=FeedbackCategory.VOIRIE)
    in_seventh = _file(session, phone="+2290197000002", area_id=quartier.id)
    old = _file(session, phone="+2290197000003")
    very_old = _file(session, phone="+2290197000004")
    _age(session, old, 5)
    _age(session, very_old, 40)
    colleague = make_staff("other@mairie-cotonou.example", roles={"cotonou": "agent"})
    old.assigned_to_id = agent.id
    very_old.assigned_to_id = colleague.id
    session.commit()

    def refs(query: str) -> set[str]:
        html = client.get(f"/dashboard/cotonou/feedback?{query}").get_data(as_text=True)
        return set(_refs(html)) if 'id="tickets"' in html else set()

    assert refs("category=voirie") == {road.ref}
    assert refs(f"area={seventh.id}") == {in_seventh.ref}  # a quartier counts in its arrondissement
    assert refs("age=lt2") == {road.ref, in_seventh.ref}
    assert refs("age=2to7") == {old.ref}
    assert refs("age=gt7") == refs("age=gt30") == {very_old.ref}
    assert refs("assigned=me") == {old.ref}
    assert refs("assigned=someone") == {old.ref, very_old.ref}
    assert refs("assigned=nobody") == {road.ref, in_seventh.ref}
    assert refs("category=eau&assigned=nobody") == {in_seventh.ref}


@pytest.mark.parametrize(
    "query",
    [
        "status=%3Cscript%3E&category=nope&area=999999&age=1y&assigned=x&page=-3",
        "area=abc&page=99999999999999999999",
        "status=",
        "page=2",
    ],
)
def test_inbox_ignores_filters_that_mean_nothing(client, session, agent, query) -> None:
    ticket = _file(session)
    response = client.get(f"/dashboard/cotonou/feedback?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    if "page=2" not in query:
        assert ticket.ref in html


# --- one ticket --------------------------------------------------------------------------


def test_ticket_page_escapes_the_citizen_text_and_masks_the_number(client, session, agent) -> None:
    photo = {"url": "https://media.example.org/1.jpg", "content_type": "image/jpeg"}
    trap = {"url": "javascript:alert(1)", "content_type": "image/png"}
    ticket = _file(session, text=f"{XSS} {SQL}", media=[photo, trap], quartier_text=XSS)
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}").get_data(as_text=True)
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &#39; OR 1=1 --" in html
    assert "+229 01 97 ** ** 66" in html and PHONE not in html and "97445566" not in html
    assert 'href="https://media.example.org/1.jpg"' in html
    assert "javascript:" not in html
    assert "Reçu" in html  # the history's first step


def test_an_anonymous_ticket_shows_no_number_at_all(client, session, agent) -> None:
    ticket = _file(session, anonymous=True)
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref.lower()}").get_data(as_text=True)
    assert 'id="citizen">anonyme<' in html
    assert "** **" not in html


def test_ticket_page_in_english(client, session, agent) -> None:
    ticket = _file(session)
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}?lang=en").get_data(as_text=True)
    assert f"Report {ticket.ref}" in html and "Change status" in html


@pytest.mark.parametrize(
    ("lang", "channel", "label", "unknown"),
    [
        ("fr", Channel.VOICE, "Appel vocal", "Non précisé"),
        ("en", Channel.USSD, "USSD", "Not given"),
    ],
)
def test_ticket_page_names_the_channel_and_says_when_the_place_is_unknown(
    client, session, agent, lang, channel, label, unknown
) -> None:
    ticket = _file(session, channel=channel)
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}?lang={lang}").get_data(
        as_text=True
    )
    assert f'data-channel="{channel.value}">{label}<' in html
    place = html.split('id="place">', 1)[1].split("</td>", 1)[0]
    assert place.strip() == unknown


def test_the_status_select_proposes_no_status_until_one_is_chosen(client, session, agent) -> None:
    ticket = _file(session)
    path = f"/dashboard/cotonou/feedback/{ticket.ref}"
    assert _post(client, f"{path}/status", {"status": "in_progress"}).status_code == 303
    html = client.get(f"{path}?done=status").get_data(as_text=True)
    select_html = html.split('<select id="new-status"', 1)[1].split("</select>", 1)[0]
    first = select_html.split("<option", 2)[1]
    assert first.startswith(' value="" selected>— Choisir —<')
    assert select_html.count(" selected") == 1


# --- status ------------------------------------------------------------------------------


def test_a_status_change_reaches_the_citizen_with_the_note(
    client, session, agent, run_jobs
) -> None:
    ticket = _file(session, channel=Channel.USSD)
    response = _post(
        client,
        f"/dashboard/cotonou/feedback/{ticket.ref}/status",
        {"status": "in_progress", "note": "Une équipe passe lundi « sans faute »."},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/feedback/{ticket.ref}?done=status")
    assert "Statut changé" in client.get(response.headers["Location"]).get_data(as_text=True)
    run_jobs()
    session.expire_all()
    assert session.get(Feedback, ticket.id).status is FeedbackStatus.IN_PROGRESS
    update = session.scalars(select(FeedbackUpdate).order_by(FeedbackUpdate.id.desc())).first()
    assert update.staff_user_id == agent.id and update.public_note.startswith("Une équipe")
    [message] = session.scalars(select(OutboundMessage)).all()
    assert message.contact_id == ticket.contact_id and message.channel is Channel.SMS
    assert 'Une équipe passe lundi "sans faute".' in message.text and ticket.ref in message.text
    assert is_gsm7(message.text)  # the « » were made GSM-7 for the SMS
    [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "feedback.status")).all()
    assert entry.staff_user_id == agent.id and entry.entity_id == str(ticket.id)
    assert entry.before["status"] == "received" and entry.after["status"] == "in_progress"
    assert entry.after["note"].startswith("Une équipe") and "text" not in entry.after


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        (
            {"status": "received"},
            "status",
            "Un signalement « Résolu » ne peut pas passer à « Reçu »",
        ),
        ({"status": "duplicate"}, "status", "Fusionner"),
        ({"status": "nonsense"}, "status", "Choisissez un statut"),
        ({}, "status", "Choisissez un statut"),
        ({"status": "", "note": "Merci"}, "status", "Choisissez un statut"),
        ({"status": "in_progress", "note": "x" * 201}, "note", "200 caractères"),
    ],
)
def test_a_refused_status_change_says_why_and_changes_nothing(
    client, session, agent, run_jobs, data, field, says
) -> None:
    ticket = _file(session)
    tickets.change_status(session, ticket, FeedbackStatus.RESOLVED)
    session.commit()
    run_jobs()
    response = _post(client, f"/dashboard/cotonou/feedback/{ticket.ref}/status", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="error-{field}"' in html and says in html
    run_jobs()
    session.expire_all()
    assert session.get(Feedback, ticket.id).status is FeedbackStatus.RESOLVED
    assert len(session.scalars(select(OutboundMessage)).all()) == 1  # only the resolution
    assert session.scalar(select(AuditLog).where(AuditLog.action == "feedback.status")) is None


def test_reopening_a_duplicate_unlinks_it(client, session, agent) -> None:
    original, copy = _file(session, phone="+2290197000001"), _file(session)
    tickets.change_status(session, copy, FeedbackStatus.DUPLICATE)
    copy.duplicate_of_id = original.id
    session.commit()
    response = _post(
        client, f"/dashboard/cotonou/feedback/{copy.ref}/status", {"status": "in_progress"}
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Feedback, copy.id).duplicate_of_id is None


# --- assignment --------------------------------------------------------------------------


def test_assign_to_me_to_a_colleague_and_to_nobody(client, session, agent, make_staff) -> None:
    colleague = make_staff("editor@mairie-cotonou.example", roles={"cotonou": "editor"})
    ticket = _file(session)
    path = f"/dashboard/cotonou/feedback/{ticket.ref}/assign"
    assert _post(client, path, {"assignee": "me"}).status_code == 303
    session.expire_all()
    assert session.get(Feedback, ticket.id).assigned_to_id == agent.id
    assert _post(client, path, {"assignee": str(colleague.id)}).status_code == 303
    session.expire_all()
    assert session.get(Feedback, ticket.id).assigned_to_id == colleague.id
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}").get_data(as_text=True)
    assert 'id="assigned-to">Agent Test<' in html
    assert _post(client, path, {"assignee": "none"}).status_code == 303
    session.expire_all()
    assert session.get(Feedback, ticket.id).assigned_to_id is None
    entries = session.scalars(
        select(AuditLog).where(AuditLog.action == "feedback.assign").order_by(AuditLog.id)
    ).all()
    assert [(e.before["assigned_to_id"], e.after["assigned_to_id"]) for e in entries] == [
        (None, agent.id),
        (agent.id, colleague.id),
        (colleague.id, None),
    ]


@pytest.mark.parametrize("who", ["calavi", "viewer", "unknown", "empty", "huge"])
def test_assign_only_to_staff_who_handle_feedback_here(
    client, session, agent, make_staff, who
) -> None:
    calavi = make_staff(CALAVI, roles={"abomey-calavi": "admin"})
    viewer = make_staff(VIEWER, roles={"cotonou": "viewer"})
    value = {
        "calavi": str(calavi.id),
        "viewer": str(viewer.id),
        "unknown": "999999",
        "empty": "",
        "huge": "9" * 5000,
    }[who]
    ticket = _file(session)
    response = _post(
        client, f"/dashboard/cotonou/feedback/{ticket.ref}/assign", {"assignee": value}
    )
    assert response.status_code == 422
    assert 'id="error-assignee"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Feedback, ticket.id).assigned_to_id is None


# --- merge -------------------------------------------------------------------------------


def test_merge_marks_the_duplicate_and_tells_the_citizen_the_other_ref(
    client, session, agent, run_jobs
) -> None:
    original = _file(session, phone="+2290197000001")
    copy = _file(session, language="en", channel=Channel.WHATSAPP)
    response = _post(
        client, f"/dashboard/cotonou/feedback/{copy.ref}/merge", {"into": original.ref.lower()}
    )
    assert response.status_code == 303
    run_jobs()
    session.expire_all()
    merged = session.get(Feedback, copy.id)
    assert merged.status is FeedbackStatus.DUPLICATE and merged.duplicate_of_id == original.id
    [message] = session.scalars(select(OutboundMessage)).all()
    assert message.contact_id == copy.contact_id and message.channel is Channel.WHATSAPP
    assert f"It joins report {original.ref}" in message.text
    [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "feedback.merge")).all()
    assert entry.before["duplicate_of_id"] is None
    assert entry.after["duplicate_of_id"] == original.id and entry.after["status"] == "duplicate"
    html = client.get(f"/dashboard/cotonou/feedback/{original.ref}").get_data(as_text=True)
    assert copy.ref in html.split('id="duplicates"', 1)[1]


def test_merge_into_a_duplicate_follows_the_chain_to_its_original(
    client, session, agent, run_jobs
) -> None:
    original = _file(session, phone="+2290197000001")
    middle = _file(session, phone="+2290197000002")
    newcomer = _file(session, channel=Channel.USSD)
    assert (
        _post(
            client, f"/dashboard/cotonou/feedback/{middle.ref}/merge", {"into": original.ref}
        ).status_code
        == 303
    )
    assert (
        _post(
            client, f"/dashboard/cotonou/feedback/{newcomer.ref}/merge", {"into": middle.ref}
        ).status_code
        == 303
    )
    run_jobs()
    session.expire_all()
    assert session.get(Feedback, newcomer.id).duplicate_of_id == original.id
    message = session.scalar(
        select(OutboundMessage).where(OutboundMessage.contact_id == newcomer.contact_id)
    )
    assert original.ref in message.text and middle.ref not in message.text
    assert message.channel is Channel.SMS and is_gsm7(message.text)


@pytest.mark.parametrize("into", ["self", "its_duplicate", "unknown", "other_commune", "", XSS])
def test_merge_refuses_what_cannot_be_a_merge(client, session, agent, run_jobs, into) -> None:
    ticket = _file(session)
    child = _file(session, phone="+2290197000001")
    tickets.change_status(session, child, FeedbackStatus.DUPLICATE)
    child.duplicate_of_id = ticket.id
    elsewhere = _file(session, "abomey-calavi", phone="+2290197000002")
    session.commit()
    run_jobs()
    typed = {
        "self": ticket.ref,
        "its_duplicate": child.ref,
        "unknown": "AV-ZZZZ",
        "other_commune": elsewhere.ref,
    }.get(into, into)
    response = _post(client, f"/dashboard/cotonou/feedback/{ticket.ref}/merge", {"into": typed})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-into"' in html and "<script>alert" not in html
    run_jobs()
    session.expire_all()
    assert session.get(Feedback, ticket.id).status is FeedbackStatus.RECEIVED
    assert (
        session.scalar(
            select(OutboundMessage).where(OutboundMessage.contact_id == ticket.contact_id)
        )
        is None
    )


def test_a_resolved_ticket_cannot_be_merged(client, session, agent) -> None:
    original, done = _file(session, phone="+2290197000001"), _file(session)
    tickets.change_status(session, done, FeedbackStatus.RESOLVED)
    session.commit()
    response = _post(
        client, f"/dashboard/cotonou/feedback/{done.ref}/merge", {"into": original.ref}
    )
    assert response.status_code == 422
    assert "ne peut plus être marqué comme doublon" in response.get_data(as_text=True)


# --- who may do what ---------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_act(client, session, make_staff) -> None:
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    ticket = _file(session)
    html = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}").get_data(as_text=True)
    assert ticket.ref in html and 'id="status-form"' not in html
    token = csrf_from(html)
    for action, data in (("status", {"status": "acknowledged"}), ("assign", {"assignee": "me"})):
        path = f"/dashboard/cotonou/feedback/{ticket.ref}/{action}"
        assert client.post(path, data={"csrf_token": token, **data}).status_code == 403
    session.expire_all()
    assert session.get(Feedback, ticket.id).status is FeedbackStatus.RECEIVED


def test_staff_of_another_commune_get_403_and_other_communes_tickets_404(
    client, session, agent, make_staff
) -> None:
    ours = _file(session)
    theirs = _file(session, "abomey-calavi", phone="+2290197000001")
    token = csrf_from(client.get("/dashboard/cotonou/feedback").get_data(as_text=True))
    assert client.get("/dashboard/abomey-calavi/feedback").status_code == 403
    assert client.get(f"/dashboard/abomey-calavi/feedback/{theirs.ref}").status_code == 403
    assert client.get(f"/dashboard/cotonou/feedback/{theirs.ref}").status_code == 404
    post = client.post(
        f"/dashboard/cotonou/feedback/{theirs.ref}/status",
        data={"csrf_token": token, "status": "acknowledged"},
    )
    assert post.status_code == 404
    assert (
        client.post(
            f"/dashboard/abomey-calavi/feedback/{theirs.ref}/status",
            data={"csrf_token": token, "status": "acknowledged"},
        ).status_code
        == 403
    )
    assert (
        client.post(
            f"/dashboard/cotonou/feedback/{ours.ref}/delete", data={"csrf_token": token}
        ).status_code
        == 404
    )
    assert client.get("/dashboard/nowhere/feedback").status_code == 404
    session.expire_all()
    assert session.get(Feedback, theirs.id).status is FeedbackStatus.RECEIVED


def test_anonymous_visitors_are_sent_to_login(client, session, communes) -> None:
    ticket = _file(session)
    for path in ("/dashboard/cotonou/feedback", f"/dashboard/cotonou/feedback/{ticket.ref}"):
        response = client.get(path)
        assert response.status_code == 302 and "/dashboard/login" in response.headers["Location"]


def test_a_post_without_the_csrf_token_is_refused(client, session, agent) -> None:
    ticket = _file(session)
    response = client.post(
        f"/dashboard/cotonou/feedback/{ticket.ref}/status", data={"status": "acknowledged"}
    )
    assert response.status_code == 400
    session.expire_all()
    assert session.get(Feedback, ticket.id).status is FeedbackStatus.RECEIVED


def test_the_menu_links_the_inbox(client, session, agent) -> None:
    html = client.get("/dashboard/cotonou/feedback").get_data(as_text=True)
    assert 'href="/dashboard/cotonou/feedback" aria-current="page">Avis citoyens</a>' in html
