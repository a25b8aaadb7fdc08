"""MES DONNEES and SUPPRIMER, end to end through the webhooks and a real worker."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import conversation
from bot.gsm import segment_info, to_gsm7
from bot.i18n import t
from bot.models import (
    Consent,
    Contact,
    Event,
    Feedback,
    InboundMessage,
    OutboundMessage,
    Poll,
    PollParticipant,
    Question,
    Subscription,
)
from bot.models.enums import Channel, FeedbackCategory, Provider, Topic
from bot.participation.privacy import erase_contact, summary
from bot.redis import get_redis
from tests.participation.dialog import UssdPhone, message
from tests.participation.test_subscriptions import (
    PHONE,
    USSD_MY_DATA,
    commune_id,
    contact_by_phone,
    new_contact,
    rows,
    subscribed,
)


def held_elsewhere(session: Session, contact_id: int) -> None:
    """What a typical citizen gave the commune: a ticket, a question, a poll answer."""
    cotonou = commune_id(session, "cotonou")
    session.add(
        Feedback(
            ref="AV-TEST",
            commune_id=cotonou,
            contact_id=contact_id,
            category=FeedbackCategory.VOIRIE,
            text="Nid de poule rue 12",
            channel=Channel.SMS,
        )
    )
    event_id = session.scalar(select(Event.id).limit(1))
    session.add(Question(event_id=event_id, contact_id=contact_id, channel=Channel.SMS, text="Où?"))
    poll = Poll(commune_id=cotonou, question="Quel marché rénover ?")
    session.add(poll)
    session.flush()
    session.add(PollParticipant(poll_id=poll.id, contact_id=contact_id, channel=Channel.SMS))
    session.commit()


def test_summary_counts_what_is_held(session, loaded) -> None:
    contact_id = new_contact(session, language="fr")
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    held_elsewhere(session, contact_id)
    session.add(
        InboundMessage(
            provider=Provider.CONSOLE, external_id="x1", channel=Channel.SMS, contact_id=contact_id,
            sender=PHONE, text="bonjour",
        )
    )  # fmt: skip
    session.commit()
    held = summary(session, contact_id)
    assert held.phone == PHONE and held.language == "fr" and held.commune == "Cotonou"
    assert held.subscriptions == (("Cotonou", "budget"), ("Cotonou", "all"))
    assert (held.consents, held.questions, held.polls, held.messages) == (2, 1, 1, 1)
    assert held.feedback_refs == ("AV-TEST",)


def test_summary_of_a_new_contact(session, loaded) -> None:
    contact_id = new_contact(session, commune=None)
    held = summary(session, contact_id)
    assert (held.language, held.commune, held.subscriptions, held.feedback_refs) == (
        None,
        None,
        (),
        (),
    )


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
def test_mes_donnees_sums_up_in_one_reply(client, session, loaded, run_jobs, channel) -> None:
    contact_id = new_contact(session, language="fr", commune="abomey-calavi")
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    held_elsewhere(session, contact_id)
    [reply] = message(client, session, run_jobs, PHONE, "MES DONNEES", channel)
    for words in (
        PHONE,
        "Langue : français" if channel is Channel.WHATSAPP else "Langue : francais",
        "Commune : Abomey-Calavi",
        "Cotonou (Budget), Cotonou (Toutes les alertes)",
        "Consentements : 2",
        "Signalements : AV-TEST",
        "Questions : 1",
        "Sondages : 1",
        "Messages reçus : 1" if channel is Channel.WHATSAPP else "Messages recus : 1",
        "SUPPRIMER",
    ):
        assert words in reply, words
    if channel is Channel.SMS:
        assert segment_info(reply).segments <= 2 and "SUITE" not in reply
    # A last word: "1" now answers the main menu, not a step of the summary.
    # (On WhatsApp the budget answer is followed by its chart.)
    next_reply, *_chart = message(client, session, run_jobs, PHONE, "1", channel)
    assert "Budget" in next_reply and contact_by_phone(session) is not None


def test_my_data_in_english(client, session, loaded, run_jobs) -> None:
    new_contact(session, language="en")
    [reply] = message(client, session, run_jobs, PHONE, "MY DATA")
    assert "Number: " + PHONE in reply and "Language: English" in reply
    assert "Alerts: none" in reply and "Send SUPPRIMER" in reply


def test_ussd_summary_pages_and_offers_erasing(client, session, loaded) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET)
    phone = UssdPhone(client, PHONE)
    phone.walk(*USSD_MY_DATA)
    pages = phone.pages()
    whole = "\n".join(pages)
    assert PHONE in whole and "Cotonou (Budget)" in whole and "Messages recus" in whole
    assert "1 Supprimer mes données" in pages[-1]
    assert "SUPPRIMER" not in whole  # no keyword to send on USSD: the option instead


def test_erase_by_sms_end_to_end(client, session, loaded, run_jobs, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot.channels.console")
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET, Topic.URGENCES)
    held_elsewhere(session, contact_id)
    # Conversation state on every channel: a WhatsApp dialog, a USSD session cut off.
    message(client, session, run_jobs, PHONE, "ABONNE", Channel.WHATSAPP)
    UssdPhone(client, PHONE).walk(*USSD_MY_DATA)
    redis = get_redis()
    assert redis.keys("conv:*")

    [question] = message(client, session, run_jobs, PHONE, "SUPPRIMER")
    assert "1 Oui, supprimer" in question and "2 Non" in question
    assert contact_by_phone(session) is not None  # nothing before the confirmation
    assert message(client, session, run_jobs, PHONE, "OUI") == []  # rows went with it

    sent = [getattr(r, "fields", {}).get("text") for r in caplog.records]
    assert to_gsm7(t("privacy.erased")) in sent  # the console provider did send it
    assert contact_by_phone(session) is None
    assert session.scalars(select(InboundMessage).where(InboundMessage.sender == PHONE)).all() == []
    for model in (OutboundMessage, Consent, Subscription, PollParticipant):
        assert rows(session, model) == [], model
    [ticket] = rows(session, Feedback)
    assert (ticket.ref, ticket.contact_id, ticket.text) == ("AV-TEST", None, "Nid de poule rue 12")
    [question_row] = rows(session, Question)
    assert question_row.contact_id is None and question_row.text == "Où?"
    # Every conversation key is gone, the USSD session cut off earlier included: its
    # draft could hold what the citizen typed.
    assert redis.keys("conv:*") == []


def test_erase_by_ussd(client, session, loaded) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.SESSIONS)
    held_elsewhere(session, contact_id)
    phone = UssdPhone(client, PHONE)
    confirm = phone.walk(*USSD_MY_DATA, "1")
    assert "1 Oui, supprimer" in confirm and "2 Non" in confirm
    done = phone.send("1")
    assert done == "END " + to_gsm7(t("privacy.erased"))
    assert contact_by_phone(session) is None
    for model in (InboundMessage, OutboundMessage, Consent, Subscription, PollParticipant):
        assert rows(session, model) == [], model
    [ticket] = rows(session, Feedback)
    assert ticket.contact_id is None
    assert get_redis().keys("conv:*") == []
    # The number is a stranger now: a new dial starts from the commune choice.
    assert "Choisissez votre commune" in UssdPhone(client, PHONE, session_id="ATUid_after").screen


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.USSD])
def test_erase_declined_keeps_everything(client, session, loaded, run_jobs, channel) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET)
    if channel is Channel.USSD:
        kept = UssdPhone(client, PHONE).walk(*USSD_MY_DATA, "1", "2")
        assert kept == "END " + to_gsm7(t("privacy.kept"))
    else:
        message(client, session, run_jobs, PHONE, "SUPPRIMER", channel)
        declined = message(client, session, run_jobs, PHONE, "Non", channel)
        assert declined == [to_gsm7(t("privacy.kept"))]
    contact = contact_by_phone(session)
    assert contact is not None and contact.id == contact_id
    assert len(rows(session, Subscription)) == 1 and len(rows(session, Consent)) == 1


def test_erase_contact_twice_is_harmless(session, loaded) -> None:
    contact_id = new_contact(session)
    assert erase_contact(session, get_redis(), contact_id) is True
    assert erase_contact(session, get_redis(), contact_id) is False
    assert conversation.load(get_redis(), Channel.SMS, str(contact_id)) is None
    assert session.get(Contact, contact_id) is None
