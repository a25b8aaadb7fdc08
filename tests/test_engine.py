"""Dialog transcripts on USSD, SMS and WhatsApp, every screen within its channel's limits."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot import create_app
from bot.content.cache import communes
from bot.content.loader import load_content
from bot.db import get_session
from bot.engine import message_turn
from bot.flows.base import Context
from bot.flows.preferences import set_commune
from bot.gsm import is_gsm7, segment_info
from bot.models import Contact, OutboundMessage
from bot.models.enums import Channel
from bot.redis import get_redis
from bot.ussd import new_ussd_inputs

PHONE = "+2290197123456"
SESSION = "ATUid_walk"


@pytest.fixture
def loaded(session) -> None:
    load_content(session)
    session.commit()


def dial(client, text: str, session_id: str = SESSION, phone: str = PHONE) -> str:
    form = {"sessionId": session_id, "serviceCode": "*202*22#", "phoneNumber": phone, "text": text}
    response = client.post("/webhooks/at/ussd", data=form)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body[:4] in ("CON ", "END ")
    screen = body[4:]
    assert len(screen) <= 160, screen
    assert is_gsm7(screen), screen
    return body


def walk(client, *inputs: str, session_id: str = SESSION, phone: str = PHONE) -> list[str]:
    """Dial, then each input in turn, as AT sends them: the whole history each hop."""
    screens = [dial(client, "", session_id, phone)]
    history: list[str] = []
    for item in inputs:
        history.append(item)
        screens.append(dial(client, "*".join(history), session_id, phone))
    return screens


@pytest.mark.parametrize(
    ("previous", "text", "expected"),
    [
        ("", "", []),
        ("", "1", ["1"]),
        ("1", "1*2", ["2"]),
        ("1*2", "1*2*98", ["98"]),
        ("1", "1*rue 3*bis", ["rue 3*bis"]),  # a * typed inside free text
        ("", "1*2*3", ["1", "2", "3"]),  # a chained dial replays each input
        ("1*2", "1*2", []),  # AT repeated the hop
    ],
)
def test_new_ussd_inputs(previous, text, expected) -> None:
    assert new_ussd_inputs(previous, text) == expected


def test_ussd_walk_to_the_budget_and_an_sms_copy(client, session, loaded, run_jobs) -> None:
    first, commune_menu, budget = walk(client, "1", "1")
    assert first.startswith("CON ") and "1 Cotonou" in first
    assert "Communes+ Cotonou" in commune_menu
    assert budget.startswith("CON ")
    assert "1 Recevoir par SMS" in budget
    assert "Budget" in budget
    sms = dial(client, "1*1*1")
    assert sms.startswith("END ")
    run_jobs()
    [copy] = session.scalars(select(OutboundMessage)).all()
    assert copy.channel == Channel.SMS
    assert "Cotonou" in copy.text and is_gsm7(copy.text)
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    session.refresh(contact)
    assert contact.commune_id is not None  # the commune chosen once is remembered


def test_ussd_paging_back_and_home(client, loaded) -> None:
    screens = walk(client, "1")
    main = screens[-1]
    assert "98 Suite" in main  # ten topics and two more options do not fit one screen
    second_page = dial(client, "1*98")
    assert second_page != main
    assert "0 Retour 00 Accueil" in second_page
    back = dial(client, "1*98*0")
    assert back == main  # 0 on a later page goes to the page before
    budget = dial(client, "1*98*0*1")
    assert "Recevoir par SMS" in budget
    assert dial(client, "1*98*0*1*0") == main  # 0 on a first page goes to the step before
    dial(client, "1*98*0*1*0*1")
    assert dial(client, "1*98*0*1*0*1*00") == main


@pytest.mark.parametrize("garbage", ["9", "42", "abc", "*", "1" * 150, "\x00", "1\x1b2"])
def test_ussd_garbage_is_answered_politely(client, loaded, garbage) -> None:
    screen = dial(client, garbage)
    assert screen.startswith("CON ")


def test_a_citizen_cut_off_is_offered_to_resume(client, loaded) -> None:
    walk(client, "1", "1")  # on the budget screen, then the network drops
    offer = dial(client, "", session_id="ATUid_second")
    assert "Reprendre" in offer
    resumed = dial(client, "1", session_id="ATUid_second")
    assert "Recevoir par SMS" in resumed and "Budget" in resumed
    fresh = walk(client, "2", session_id="ATUid_third")[-1]
    assert "Communes+ Cotonou" in fresh


def test_a_new_caller_is_stored_once_with_the_commune_chosen(client, session, loaded) -> None:
    def contact() -> Contact | None:
        session.expire_all()
        return session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))

    dial(client, "")
    assert contact() is None  # browsing the menu writes nothing
    dial(client, "1")  # Cotonou
    stored = contact()
    assert stored is not None and stored.commune.slug == "cotonou"
    assert stored.preferred_channel == Channel.USSD
    assert "Communes+ Cotonou" in dial(client, "", session_id="ATUid_next")  # remembered


def test_a_known_caller_changing_commune_keeps_the_contact(client, session, loaded) -> None:
    known = Contact(phone_e164=PHONE, language="en", preferred_channel=Channel.SMS)
    session.add(known)
    session.commit()
    screens = walk(client, "2")  # Abomey-Calavi, the second largest
    assert "Communes+ Abomey-Calavi" in screens[-1] and "Budget" in screens[-1]  # in English
    session.expire_all()
    [stored] = session.scalars(select(Contact)).all()
    assert (stored.id, stored.commune.slug, stored.language) == (known.id, "abomey-calavi", "en")
    assert stored.preferred_channel == Channel.SMS  # set by the first contact, kept


def _ussd_context(session, phone: str = PHONE) -> Context:
    """A USSD hop's context, the communes already in the process's cache as on a warm server."""
    communes(session)
    session.commit()
    ctx = Context(session, None, Channel.USSD, "fr", None)
    ctx.phone = phone
    return ctx


def _stored_commune(app, phone: str = PHONE) -> str | None:
    with app.app_context():
        contact = get_session().scalar(select(Contact).where(Contact.phone_e164 == phone))
        return contact.commune.slug if contact is not None and contact.commune else None


def test_a_choice_outside_any_transaction_is_committed_at_once(app, session, loaded) -> None:
    set_commune(_ussd_context(session), "cotonou")
    assert not session.in_transaction()  # nothing of it waits for the session
    session.rollback()
    assert _stored_commune(app) == "cotonou"


def test_a_choice_inside_a_transaction_commits_with_it(app, session, loaded) -> None:
    ctx = _ussd_context(session)
    session.connection()  # an earlier step of the hop used the session
    set_commune(ctx, "cotonou")
    assert ctx.known_contact_id is not None
    session.rollback()  # the hop failed: its writes, the choice included, are undone
    assert _stored_commune(app) is None
    set_commune(_ussd_context(session), "cotonou")
    assert _stored_commune(app) == "cotonou"


def test_stop_from_a_caller_never_seen_records_the_opt_out(client, session, loaded) -> None:
    assert dial(client, "STOP").startswith("END ")
    session.expire_all()
    stored = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    assert stored is not None and stored.opted_out_at is not None


def test_two_web_processes_serve_one_session(
    app, database_url, redis_url, tmp_path, loaded
) -> None:
    other = create_app(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "INSTANCE_PATH": str(tmp_path / "b")}
    )
    clients = [app.test_client(), other.test_client()]
    inputs = ["1", "1", "98"]
    alternating = [dial(clients[0], "", session_id="ATUid_alt")]
    for n in range(1, len(inputs) + 1):
        alternating.append(dial(clients[n % 2], "*".join(inputs[:n]), session_id="ATUid_alt"))
    # The same walk by another citizen, on one process.
    single = walk(app.test_client(), "1", "1", "98", session_id="ATUid_one", phone="+2290196000000")
    assert alternating == single


def _contact(session) -> int:
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    return contact.id


def _say(session, contact_id: int, text: str, channel: Channel = Channel.SMS) -> list[str]:
    texts = message_turn(session, get_redis(), contact_id, channel, text).texts
    session.commit()
    for message in texts:
        if channel is Channel.SMS:
            assert is_gsm7(message), message
            assert segment_info(message).segments <= 2, message
    return texts


def test_sms_keyword_budget(session, loaded) -> None:
    contact_id = _contact(session)
    [reply] = _say(session, contact_id, "BUDGET COTONOU")
    assert "Budget" in reply and "Cotonou" in reply
    assert "exemple" in reply.lower() or "SUITE" in reply


def test_sms_long_answer_continues_with_suite(session, loaded) -> None:
    contact_id = _contact(session)
    [first] = _say(session, contact_id, "budget cotonou")
    if "SUITE" in first:
        [rest] = _say(session, contact_id, "SUITE")
        assert rest and rest != first


@pytest.mark.parametrize(
    ("text", "commune"),
    [
        ("bujet cotonu 2025", "Cotonou"),
        ("Quel est le budget de Calavi en 2025 ?", "Abomey-Calavi"),
        ("BUDGET ABOMEY CALAVI", "Abomey-Calavi"),
    ],
)
def test_sms_free_text_questions(session, loaded, text, commune) -> None:
    contact_id = _contact(session)
    reply = " ".join(_say(session, contact_id, text))
    assert commune in reply or commune.replace("é", "e") in reply


def test_sms_unknown_input_gets_help(session, loaded) -> None:
    contact_id = _contact(session)
    [reply] = _say(session, contact_id, "bonjour la mairie")
    assert "BUDGET COTONOU" in reply


def test_topic_before_commune_then_commune_choice(session, loaded) -> None:
    contact_id = _contact(session)
    [menu] = _say(session, contact_id, "budget")
    assert "Cotonou" in menu and "Abomey-Calavi" in menu
    [budget] = _say(session, contact_id, "2")
    assert "Abomey-Calavi" in budget and "Budget" in budget


def test_language_is_chosen_and_remembered(session, loaded) -> None:
    contact_id = _contact(session)
    _say(session, contact_id, "cotonou")
    [choice] = _say(session, contact_id, "LANGUE")
    assert "\n2 English\n" in choice
    [menu] = _say(session, contact_id, "2")
    assert "Administrative account" in menu
    assert session.get(Contact, contact_id).language == "en"
    [menu] = _say(session, contact_id, "MENU")
    assert "Administrative account" in menu


def test_whatsapp_bold_and_numbered(session, loaded) -> None:
    contact_id = _contact(session)
    [reply] = _say(session, contact_id, "cotonou", Channel.WHATSAPP)
    assert reply.startswith("*Communes+ Cotonou*")
    assert "\n1. Budget" in reply


@pytest.mark.parametrize("text", ["", " ", "?", "x" * 5000, "🙂", "0", "00", "98"])
def test_every_input_gets_an_answer(session, loaded, text) -> None:
    contact_id = _contact(session)
    assert _say(session, contact_id, text)


def test_no_resume_offer_after_a_session_the_citizen_ended(client, loaded) -> None:
    walk(client, "1", "1")
    event = {
        "sessionId": SESSION,
        "serviceCode": "*202*22#",
        "phoneNumber": PHONE,
        "status": "Success",
        "networkCode": "61602",
    }
    assert client.post("/webhooks/at/ussd/events", data=event).status_code == 200
    fresh = dial(client, "", session_id="ATUid_next")
    assert "Reprendre" not in fresh
    assert "Communes+ Cotonou" in fresh
