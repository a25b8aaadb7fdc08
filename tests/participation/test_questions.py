"""Questions for sessions: grouping, idempotent drafts, answers sent once, the CLI, and the
dialog on USSD, SMS and WhatsApp (through the real webhooks and a real worker)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.db import get_session
from bot.gsm import is_gsm7, segment_info
from bot.models import AuditLog, Commune, Contact, Event, OutboundMessage, Question
from bot.models.enums import Channel, EventStatus, EventType
from bot.models.types import utcnow
from bot.participation.privacy import erase_contact
from bot.participation.questions import (
    CLUSTER_THRESHOLD,
    MAX_LENGTH,
    QuestionsClosed,
    answer_group,
    ask,
    open_events,
    question_groups,
    similarity,
)
from bot.participation.questions_cli import group as questions_cli
from bot.redis import get_redis
from tests.participation.dialog import UssdPhone, option, sms, turn

PHONE = "+2290197550001"

DRAINS = [
    "Pourquoi les caniveaux de Zogbo sont bouchés ?",
    "Quand allez-vous curer les caniveaux bouchés à Zogbo ?",
    "caniveaux bouchés Zogbo",
    "Monsieur le maire, les caniveaux de Zogbo sont bouchés depuis des mois, qui va les curer ?",
]
WATER = [
    "Pourquoi l'eau ne coule plus au robinet à Akpakpa ?",
    "Pas d'eau au robinet depuis deux semaines à Akpakpa",
]
ROAD = "Quand est-ce que la route de Godomey sera refaite ?"


def _commune_id(session, slug: str) -> int:
    return session.scalar(select(Commune.id).where(Commune.slug == slug))


def _new_event(session, slug: str = "cotonou", days: int = 30, **fields) -> Event:
    values = {
        "type": EventType.REDDITION_DE_COMPTES,
        "title": "Reddition de comptes de test (exemple)",
        "status": EventStatus.SCHEDULED,
        "accepts_questions": True,
        "is_sample": True,
        **fields,
    }
    event = Event(
        commune_id=_commune_id(session, slug), starts_at=utcnow() + timedelta(days=days), **values
    )
    session.add(event)
    session.commit()
    return event


@pytest.fixture
def event(session, loaded) -> Event:
    """Cotonou's session collecting questions: the sample one while it is ahead."""
    events = open_events(session, "cotonou")
    return events[0] if events else _new_event(session)


def _contact(session, phone: str = PHONE, language: str | None = None, slug: str | None = None):
    contact = Contact(
        phone_e164=phone,
        language=language,
        commune_id=_commune_id(session, slug) if slug else None,
    )
    session.add(contact)
    session.commit()
    return contact


def _ask(session, event: Event, text: str, contact_id: int | None = None, channel=Channel.SMS):
    return ask(session, event.id, contact_id, channel, text, uuid.uuid4().hex)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- the domain ------------------------------------------------------------------------


def test_open_events_are_upcoming_sessions_taking_questions_soonest_first(session, loaded) -> None:
    later = _new_event(session, days=60, title="Later")
    sooner = _new_event(session, days=10, title="Sooner")
    _new_event(session, days=5, title="Closed", accepts_questions=False)
    _new_event(session, days=5, title="Cancelled", status=EventStatus.CANCELLED)
    _new_event(session, days=-1, title="Started")
    _new_event(session, slug="abomey-calavi", days=5, title="Elsewhere")
    postponed = _new_event(session, days=20, title="Postponed", status=EventStatus.POSTPONED)
    found = open_events(session, "cotonou")
    ours = [e.id for e in found if e.title in ("Sooner", "Postponed", "Later")]
    assert ours == [sooner.id, postponed.id, later.id]
    assert {e.title for e in found}.isdisjoint({"Closed", "Cancelled", "Started", "Elsewhere"})
    assert [e.starts_at for e in found] == sorted(e.starts_at for e in found)


def test_similar_questions_share_a_group_other_topics_do_not(session, event) -> None:
    drains = [_ask(session, event, text) for text in DRAINS]
    water = [_ask(session, event, text) for text in WATER]
    road = _ask(session, event, ROAD)
    first = drains[0]
    assert first.cluster_id == first.id and first.similarity == 100
    assert {q.cluster_id for q in drains} == {first.id}
    assert all(CLUSTER_THRESHOLD <= q.similarity <= 100 for q in drains[1:])
    assert {q.cluster_id for q in water} == {water[0].id}
    assert road.cluster_id == road.id
    groups = question_groups(session, event.id)
    assert [(g.cluster_id, g.count) for g in groups] == [
        (first.id, 4),
        (water[0].id, 2),
        (road.id, 1),
    ]
    assert groups[0].text == DRAINS[0]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        # Same place and subject, different questions: the threshold keeps them apart.
        (
            "Quand le marché de Dantokpa sera reconstruit ?",
            "Les taxes du marché de Dantokpa ont augmenté, pourquoi ?",
        ),
        (
            "Pourquoi les caniveaux de Zogbo sont bouchés ?",
            "Inondation à Agla à cause des caniveaux",
        ),
        ("Comment le budget 2026 a été dépensé ?", "Quand l'école de Agla aura des tables bancs ?"),
        (WATER[0], ROAD),
    ],
)
def test_different_questions_start_their_own_groups(session, event, one, other) -> None:
    first, second = _ask(session, event, one), _ask(session, event, other)
    assert second.cluster_id == second.id != first.cluster_id
    assert similarity(one, other) < CLUSTER_THRESHOLD


def test_groups_do_not_drift_and_never_change(session, event) -> None:
    """A question close to a member but not to the group's first one starts its own group."""
    first_text = "Quand la route de Godomey sera refaite ?"
    member_text = "La route de Godomey est pleine de trous, quand seront faits les travaux ?"
    drifted_text = "Les trous de Calavi, quand seront faits les travaux ?"
    assert similarity(first_text, member_text) >= CLUSTER_THRESHOLD
    assert similarity(member_text, drifted_text) >= CLUSTER_THRESHOLD
    assert similarity(first_text, drifted_text) < CLUSTER_THRESHOLD
    first = _ask(session, event, first_text)
    member = _ask(session, event, member_text)
    drifted = _ask(session, event, drifted_text)
    assert member.cluster_id == first.id
    assert drifted.cluster_id == drifted.id
    before = {q.id: (q.cluster_id, q.similarity) for q in (first, member, drifted)}
    for text in [*DRAINS, *WATER, first_text, drifted_text]:
        _ask(session, event, text)
    session.expire_all()
    after = {q.id: (q.cluster_id, q.similarity) for q in session.scalars(select(Question))}
    assert {key: after[key] for key in before} == before
    counts = {g.cluster_id: g.count for g in question_groups(session, event.id)}
    assert counts[first.id] == 3 and counts[drifted.id] == 2


def test_groups_most_asked_first_ties_oldest_first(session, event) -> None:
    road = _ask(session, event, ROAD)
    water = _ask(session, event, WATER[0])
    drains = _ask(session, event, DRAINS[0])
    _ask(session, event, DRAINS[1])
    groups = question_groups(session, event.id)
    assert [g.cluster_id for g in groups] == [drains.id, road.id, water.id]
    assert [g.count for g in groups] == [2, 1, 1]
    assert not any(g.answered for g in groups)


def test_groups_are_per_session(session, event) -> None:
    other = _new_event(session, days=40)
    here = _ask(session, event, DRAINS[0])
    there = _ask(session, other, DRAINS[1])
    assert there.cluster_id == there.id != here.cluster_id


def test_question_text_is_trimmed_and_limited(session, event) -> None:
    question = _ask(session, event, "  Pourquoi   les caniveaux\n bouchés ?  ")
    assert question.text == "Pourquoi les caniveaux bouchés ?"
    long = _ask(session, event, "mot " * 400)
    assert len(long.text) <= MAX_LENGTH and long.text.startswith("mot mot")
    with pytest.raises(ValueError):
        _ask(session, event, "   \n ")
    assert _count(session, Question) == 2


def test_a_session_that_takes_no_questions_refuses_them(session, event) -> None:
    closed = _new_event(session, days=10, accepts_questions=False)
    started = _new_event(session, days=-1)
    for target in (closed, started):
        with pytest.raises(QuestionsClosed):
            _ask(session, target, ROAD)
    assert _count(session, Question) == 0


def test_one_draft_submitted_twice_is_one_question(session, event) -> None:
    contact = _contact(session)
    draft = uuid.uuid4().hex
    first = ask(session, event.id, contact.id, Channel.SMS, ROAD, draft)
    again = ask(session, event.id, contact.id, Channel.SMS, ROAD + " (bis)", draft)
    assert again.id == first.id and again.text == ROAD
    assert _count(session, Question) == 1


def test_one_draft_submitted_at_once_by_two_workers_is_one_question(app, session, event) -> None:
    contact = _contact(session)
    event_id, contact_id, draft = event.id, contact.id, uuid.uuid4().hex
    barrier = threading.Barrier(2)
    ids: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        with app.app_context():
            own = get_session()
            barrier.wait()
            try:
                ids.append(ask(own, event_id, contact_id, Channel.WHATSAPP, ROAD, draft).id)
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(ids) == 2 and ids[0] == ids[1]
    assert _count(session, Question) == 1


def test_similar_questions_asked_at_once_share_one_group(app, session, event) -> None:
    """Grouping is serialized per session: neither question misses the other."""
    event_id = event.id
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def submit(text: str) -> None:
        with app.app_context():
            own = get_session()
            barrier.wait()
            try:
                ask(own, event_id, None, Channel.SMS, text, uuid.uuid4().hex)
            except BaseException as error:  # reported below, in the test's thread
                errors.append(error)

    threads = [threading.Thread(target=submit, args=(text,)) for text in DRAINS[:2]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    [group] = question_groups(session, event_id)
    assert group.count == 2


def test_answer_goes_once_to_every_asker(session, event, run_jobs) -> None:
    ussd = _contact(session, "+2290197550011")
    whatsapp = _contact(session, "+2290197550012", language="en")
    stopped = _contact(session, "+2290197550013")
    erased = _contact(session, "+2290197550014")
    for contact, channel in (
        (ussd, Channel.USSD),
        (whatsapp, Channel.WHATSAPP),
        (stopped, Channel.SMS),
        (erased, Channel.SMS),
    ):
        asked = _ask(session, event, DRAINS[0], contact.id, channel)
    other = _ask(session, event, ROAD, ussd.id, Channel.USSD)
    stopped.opted_out_at = utcnow()
    session.commit()
    erase_contact(session, get_redis(), erased.id)

    assert answer_group(session, event.id, asked.cluster_id, "Curage prévu en janvier.") == 2
    run_jobs()
    rows = session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    assert {(r.contact_id, r.channel) for r in rows} == {
        (ussd.id, Channel.SMS),
        (whatsapp.id, Channel.WHATSAPP),
    }
    sms = next(r for r in rows if r.contact_id == ussd.id)
    assert sms.text.startswith("Reddition de comptes du ") and is_gsm7(sms.text)
    assert "(exemple). Réponse de la mairie" in sms.text
    assert "Curage prévu en janvier." in sms.text and "caniveaux de Zogbo" in sms.text
    assert str(event.starts_at.year) in sms.text
    assert segment_info(sms.text).segments <= 2
    english = next(r for r in rows if r.contact_id == whatsapp.id)
    assert english.text.startswith("Accountability session, ")
    assert "The mairie's answer" in english.text

    group = next(g for g in question_groups(session, event.id) if g.cluster_id == asked.cluster_id)
    assert group.answered and group.answer == "Curage prévu en janvier."
    group_questions = session.scalars(
        select(Question).where(Question.cluster_id == group.cluster_id)
    )
    assert all(q.answered_at for q in group_questions)
    assert session.get(Question, other.id).answer is None
    assert session.scalar(select(func.count()).where(Question.contact_id.is_(None))) == 1

    # A correction reaches nobody twice; a newcomer to the group gets it.
    newcomer = _contact(session, "+2290197550015")
    _ask(session, event, DRAINS[2], newcomer.id, Channel.SMS)
    assert answer_group(session, event.id, asked.cluster_id, "Curage prévu le 15 janvier.") == 1
    run_jobs()
    later = session.scalars(select(OutboundMessage).where(OutboundMessage.id > rows[-1].id)).all()
    assert [(r.contact_id, r.channel) for r in later] == [(newcomer.id, Channel.SMS)]
    assert "15 janvier" in later[0].text
    answers = session.scalars(
        select(Question.answer).where(Question.cluster_id == asked.cluster_id)
    )
    assert set(answers) == {"Curage prévu le 15 janvier."}
    audit = session.scalars(select(AuditLog).where(AuditLog.entity == "question_group")).all()
    assert [a.after["sent"] for a in audit] == [2, 1]


def test_answering_an_unknown_group_or_with_no_text_fails(session, event) -> None:
    question = _ask(session, event, ROAD)
    with pytest.raises(LookupError):
        answer_group(session, event.id, question.id + 100, "Réponse")
    with pytest.raises(ValueError):
        answer_group(session, event.id, question.cluster_id, "  ")
    assert session.get(Question, question.id).answered_at is None


# --- USSD ------------------------------------------------------------------------------


def _ussd_to_question(client) -> UssdPhone:
    phone = UssdPhone(client, PHONE, session_id="ATUid_q1")
    phone.participate("Question pour une seance")
    return phone


def test_ussd_dialog_records_the_question(client, session, event) -> None:
    phone = _ussd_to_question(client)
    assert phone.screen.startswith("CON ")
    assert "Écrivez votre question" in phone.screen
    assert "(exemple)" in phone.screen  # sample content says so
    assert "98 Suite" not in phone.screen  # the session and the prompt fit one screen
    short = phone.send("ok")
    assert short.startswith("CON ") and "trop courte" in short
    assert "98 Suite" not in short and "Écrivez votre question" in short
    done = phone.send("Pourquoi les caniveaux de Zogbo sont bouches ?")
    assert done.startswith("END ") and "Merci" in done and "enregistrée" in done
    [question] = session.scalars(select(Question)).all()
    assert question.channel is Channel.USSD and question.event_id == event.id
    assert question.text == "Pourquoi les caniveaux de Zogbo sont bouches ?"
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert question.contact_id == contact.id


def test_ussd_stop_as_the_question_opts_out(client, session, event) -> None:
    phone = _ussd_to_question(client)
    end = phone.send("STOP")
    assert end.startswith("END ") and "ne recevrez plus" in end
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    session.refresh(contact)
    assert contact.opted_out_at is not None
    assert _count(session, Question) == 0


def test_ussd_cut_off_while_typing_resumes_on_the_question(client, session, event) -> None:
    _ussd_to_question(client)  # the network drops here
    again = UssdPhone(client, PHONE, session_id="ATUid_q2")
    assert "Reprendre" in again.screen
    prompt = again.choose("Oui")
    assert "Écrivez votre question" in prompt
    assert again.send("Quand la route de Godomey sera refaite ?").startswith("END ")
    assert session.scalar(select(Question.event_id)) == event.id


def test_ussd_choice_between_two_sessions(client, session, event) -> None:
    council = _new_event(
        session,
        days=3,
        type=EventType.SESSION_ORDINAIRE,
        title="Session ordinaire ouverte aux questions (exemple)",
    )
    phone = _ussd_to_question(client)
    assert "Pour quelle séance" in phone.screen
    phone.choose("Session ordinaire du conseil")
    assert "Écrivez votre question" in phone.screen
    phone.send("Quand la route de Godomey sera refaite ?")
    assert phone.screen.startswith("END ")
    assert session.scalar(select(Question.event_id)) == council.id


# --- SMS, through the webhook and the worker ---------------------------------------------


@pytest.fixture
def send_sms(client, session, run_jobs) -> Callable[[str], str]:
    """An SMS from PHONE through the AT webhook and the worker: its replies, as one text."""

    def send(text: str) -> str:
        replies = sms(client, session, run_jobs, PHONE, text)
        assert replies, f"no reply to {text!r}"
        return "\n".join(replies)

    return send


def test_sms_keyword_with_the_question_records_it_at_once(session, event, send_sms) -> None:
    send_sms("cotonou")
    done = send_sms("QUESTION pourquoi les caniveaux de Zogbo sont bouches ?")
    assert "Merci" in done and "enregistrée" in done
    [question] = session.scalars(select(Question)).all()
    assert question.text == "pourquoi les caniveaux de Zogbo sont bouches ?"
    assert question.channel is Channel.SMS and question.event_id == event.id
    # The dialog is over: the next message starts from the menu.
    assert "Budget" in send_sms("1")


def test_sms_keyword_before_the_commune_is_known(session, event, send_sms) -> None:
    communes = send_sms("QUESTION pourquoi les caniveaux de Zogbo sont bouches ?")
    confirm = send_sms(option(communes, "Cotonou"))
    assert "pourquoi les caniveaux" in confirm and "Pour quelle séance" in confirm
    number = option(confirm, "Reddition de comptes")
    assert number == "1" and option(confirm, "Session") is None
    assert "Merci" in send_sms(number)
    assert session.scalar(select(Question.event_id)) == event.id


def test_sms_menu_path_and_a_short_answer(session, event, send_sms) -> None:
    menu = send_sms("cotonou")
    participate = send_sms(option(menu, "Participer"))
    prompt = send_sms(option(participate, "Question pour une seance"))
    assert "Écrivez votre question" in prompt
    assert "trop courte" in send_sms("ok")
    assert "trop courte" in send_sms("QUESTION")  # the keyword alone is no question
    assert "Merci" in send_sms("Question: quand l'eau va revenir au robinet a Akpakpa ?")
    [question] = session.scalars(select(Question)).all()
    assert question.text == "quand l'eau va revenir au robinet a Akpakpa ?"


def test_sms_stop_in_the_middle_of_the_question(session, event, send_sms) -> None:
    send_sms("cotonou")
    assert "Écrivez votre question" in send_sms("QUESTION")
    assert "ne recevrez plus" in send_sms("STOP")
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert contact.opted_out_at is not None
    # Not taken as the question ("too short"): the menu answers.
    reply = send_sms("1")
    assert "Budget" in reply and "trop courte" not in reply
    assert _count(session, Question) == 0


def test_no_session_collecting_questions(session, event, send_sms) -> None:
    for open_event in open_events(session, "cotonou"):
        open_event.accepts_questions = False
    session.commit()
    send_sms("cotonou")
    none = send_sms("QUESTION pourquoi les caniveaux de Zogbo ?")
    assert "Aucune séance" in none and "REDDITION" in none and "Cotonou" in none
    assert "Budget" in send_sms("1")  # the dialog ended
    assert _count(session, Question) == 0


# --- WhatsApp --------------------------------------------------------------------------


def _whatsapp(session, contact_id: int, text: str) -> str:
    return turn(session, contact_id, text, Channel.WHATSAPP)


def test_whatsapp_dialog(session, event) -> None:
    contact = _contact(session, language="en", slug="cotonou")
    prompt = _whatsapp(session, contact.id, "question")
    assert prompt.startswith("For: Accountability session, ") and "Type your question" in prompt
    done = _whatsapp(session, contact.id, "When will the Zogbo drains be cleaned?")
    assert "Thank you" in done and "recorded" in done
    [question] = session.scalars(select(Question)).all()
    assert question.channel is Channel.WHATSAPP and question.contact_id == contact.id
    again = _whatsapp(session, contact.id, "QUESTION Why is there no water in Akpakpa?")
    assert "Thank you" in again
    assert _count(session, Question) == 2


def test_whatsapp_menu_path_with_two_sessions(session, event) -> None:
    council = _new_event(session, days=3, type=EventType.SESSION_ORDINAIRE)
    contact = _contact(session, slug="cotonou")
    menu = _whatsapp(session, contact.id, "menu")
    participate = _whatsapp(session, contact.id, option(menu, "Participer"))
    choice = _whatsapp(session, contact.id, option(participate, "Question pour une"))
    assert option(choice, "Session ordinaire du conseil") == "1"  # soonest first
    assert "Écrivez votre question" in _whatsapp(session, contact.id, "1")
    assert "Merci" in _whatsapp(session, contact.id, "Pourquoi les caniveaux sont bouchés ?")
    assert session.scalar(select(Question.event_id)) == council.id


# --- CLI -------------------------------------------------------------------------------


def test_cli_lists_groups_and_answers_them(runner, session, event, run_jobs) -> None:
    asker = _contact(session)
    firsts = [_ask(session, event, text, asker.id) for text in (ROAD, *DRAINS[:2])]
    drains = firsts[1]
    listed = runner.invoke(questions_cli, ["list", "--event", str(event.id)])
    assert listed.exit_code == 0, listed.output
    lines = listed.output.splitlines()
    assert lines[1].split("\t") == [str(drains.id), "2", "open", DRAINS[0]]
    assert lines[2].split("\t")[:2] == [str(firsts[0].id), "1"]

    args = ["answer", "--event", str(event.id), "--group", str(drains.id), "--text", "En janvier."]
    answered = runner.invoke(questions_cli, args)
    assert answered.exit_code == 0, answered.output
    assert "sent to 2 citizen(s)" in answered.output
    run_jobs()
    assert _count(session, OutboundMessage) == 2
    relisted = runner.invoke(questions_cli, ["list", "--event", str(event.id)])
    assert f"{drains.id}\t2\tanswered" in relisted.output

    unknown = runner.invoke(questions_cli, [*args[:3], "--group", "999999", "--text", "x"])
    assert unknown.exit_code == 1 and "no question group" in unknown.output
    missing = runner.invoke(questions_cli, ["list", "--event", "999999"])
    assert missing.exit_code == 1 and "no event" in missing.output
