"""Subscriptions with consent, and STOP from any state, through the real webhooks.

SMS goes through the Africa's Talking webhook, WhatsApp through Twilio's, USSD
through AT's USSD endpoint; replies are produced by a real RQ worker and read
back from `outbound_messages`.
"""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import conversation
from bot.db import get_session
from bot.engine import message_turn
from bot.gsm import to_gsm7
from bot.i18n import t
from bot.models import Commune, Consent, Contact, Subscription
from bot.models.enums import Channel, Topic
from bot.participation import subscriptions
from bot.participation.subscriptions import PURPOSE, WORDING_VERSION
from bot.redis import get_redis
from tests.participation.dialog import UssdPhone, message

PHONE = "+2290197334455"
# Main menu (commune known): 10 Participer; participation menu: 5 alerts, 6 my data.
USSD_SUBSCRIBE = ["10", "5"]
USSD_MY_DATA = ["10", "6"]


def commune_id(session: Session, slug: str) -> int:
    found = session.scalar(select(Commune.id).where(Commune.slug == slug))
    assert found is not None
    return found


def new_contact(
    session: Session, commune: str | None = "cotonou", language: str | None = None
) -> int:
    contact = Contact(
        phone_e164=PHONE,
        language=language,
        commune_id=commune_id(session, commune) if commune else None,
    )
    session.add(contact)
    session.commit()
    return contact.id


def subscribed(session: Session, contact_id: int, *topics: Topic) -> None:
    """Subscriptions granted earlier by SMS (each with its consent), to be ended by STOP."""
    for topic in topics:
        assert subscriptions.subscribe(
            session, contact_id, commune_id(session, "cotonou"), topic, Channel.SMS, "fr"
        )


def contact_by_phone(session: Session) -> Contact | None:
    session.rollback()  # a fresh snapshot: the webhook and the worker wrote meanwhile
    return session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))


def rows(session: Session, model: type) -> list:
    session.rollback()
    return list(session.scalars(select(model).order_by(model.id)))


# --- subscribing ------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["OUI", "oui", "Oui !", "1"])
def test_abonne_shows_the_consent_and_a_bare_oui_subscribes(
    client, session, loaded, run_jobs, answer
) -> None:
    contact_id = new_contact(session, commune=None)
    [consent] = message(client, session, run_jobs, PHONE, "ABONNE calavi budget")
    for words in ("SMS", "budget", "Abomey-Calavi", "STOP", "OUI", "Gratuit", "1 Oui, j'accepte"):
        assert words in consent
    assert rows(session, Subscription) == [] and rows(session, Consent) == []

    [done] = message(client, session, run_jobs, PHONE, answer)
    assert "Abomey-Calavi" in done and "STOP" in done
    [subscription] = rows(session, Subscription)
    assert subscription.contact_id == contact_id and subscription.active
    assert subscription.commune_id == commune_id(session, "abomey-calavi")
    assert (subscription.topic, subscription.channel) == (Topic.BUDGET, Channel.SMS)
    [consent_row] = rows(session, Consent)
    assert consent_row.purpose == PURPOSE == "alerts"
    assert consent_row.channel is Channel.SMS
    assert consent_row.wording_version == f"{WORDING_VERSION}:fr"
    assert consent_row.granted_at is not None and consent_row.withdrawn_at is None
    # The commune named after ABONNE became the citizen's.
    assert contact_by_phone(session).commune_id == commune_id(session, "abomey-calavi")
    # The dialog is over: "1" now means the first topic of the main menu.
    [budget] = message(client, session, run_jobs, PHONE, "1")
    assert budget.startswith("Budget")
    assert len(rows(session, Consent)) == 1


def test_menu_asks_the_commune_then_the_topic_and_non_records_nothing(
    client, session, loaded, run_jobs
) -> None:
    new_contact(session, commune=None)
    [communes] = message(client, session, run_jobs, PHONE, "ABONNE")
    assert "Cotonou" in communes and "Abomey-Calavi" in communes
    [topics] = message(client, session, run_jobs, PHONE, "1")
    assert "Sessions du conseil" in topics and "Toutes les alertes" in topics
    [consent] = message(client, session, run_jobs, PHONE, "Urgences")
    assert "alertes urgentes de Cotonou" in consent
    [declined] = message(client, session, run_jobs, PHONE, "NON")
    assert declined == to_gsm7(t("subscribe.declined"))
    assert rows(session, Subscription) == [] and rows(session, Consent) == []


def test_whatsapp_start_subscribes_on_whatsapp(client, session, loaded, run_jobs) -> None:
    contact_id = new_contact(session)
    [consent] = message(client, session, run_jobs, PHONE, "START tout", Channel.WHATSAPP)
    assert "par WhatsApp toutes les alertes de Cotonou" in consent
    message(client, session, run_jobs, PHONE, "OUI", Channel.WHATSAPP)
    [subscription] = rows(session, Subscription)
    assert (subscription.topic, subscription.channel) == (Topic.ALL, Channel.WHATSAPP)
    [consent_row] = rows(session, Consent)
    assert (consent_row.contact_id, consent_row.channel) == (contact_id, Channel.WHATSAPP)


@pytest.mark.parametrize("answer", ["YES", "OUI"])
def test_english_consent_is_recorded_with_its_language(session, loaded, answer) -> None:
    contact_id = new_contact(session, language="en")
    redis = get_redis()
    [consent] = message_turn(
        session, redis, contact_id, Channel.SMS, "SUBSCRIBE cotonou sessions"
    ).texts
    assert "council sessions for Cotonou" in consent and "YES" in consent
    [done] = message_turn(session, redis, contact_id, Channel.SMS, answer).texts
    session.commit()
    assert done.startswith("Done")
    [consent_row] = rows(session, Consent)
    assert consent_row.wording_version == f"{WORDING_VERSION}:en"


def test_ussd_subscription_goes_by_sms_and_every_screen_fits(client, session, loaded) -> None:
    new_contact(session)
    phone = UssdPhone(client, PHONE)
    phone.walk(*USSD_SUBSCRIBE, "3")
    consent = "\n".join(phone.pages())
    for words in ("par SMS", "budget de Cotonou", "STOP", "OUI", "1 Oui, j'accepte"):
        assert words in consent
    done = phone.send("1")
    assert done.startswith("END ") and "STOP" in done
    [subscription] = rows(session, Subscription)
    assert subscription.channel is Channel.SMS  # alerts cannot be sent by USSD
    [consent_row] = rows(session, Consent)
    assert consent_row.channel is Channel.USSD  # where the citizen said yes


def test_ussd_typed_oui_accepts(client, session, loaded) -> None:
    new_contact(session)
    phone = UssdPhone(client, PHONE)
    phone.walk(*USSD_SUBSCRIBE, "5")
    done = phone.send("OUI")
    assert done.startswith("END ")
    [subscription] = rows(session, Subscription)
    assert subscription.topic is Topic.ALL


def test_ussd_resumed_at_the_consent_shows_it_again(client, session, loaded) -> None:
    new_contact(session)
    UssdPhone(client, PHONE).walk(*USSD_SUBSCRIBE, "3")  # cut off on the consent screen
    resumed = UssdPhone(client, PHONE, session_id="ATUid_resumed")
    assert "Reprendre" in resumed.screen
    consent = resumed.send("1")
    assert "budget de Cotonou" in consent  # the topic chosen before the cut is kept
    assert rows(session, Subscription) == []
    resumed.walk("98", "1")
    [subscription] = rows(session, Subscription)
    assert subscription.topic is Topic.BUDGET


def test_already_subscribed_says_so_and_records_nothing(client, session, loaded, run_jobs) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET)
    [reply] = message(client, session, run_jobs, PHONE, "ABONNE cotonou budget")
    assert reply.startswith("Vous recevez déjà les alertes sur le budget de Cotonou")
    assert len(rows(session, Consent)) == 1 and len(rows(session, Subscription)) == 1
    # "all" is a topic row of its own, with its own consent.
    message(client, session, run_jobs, PHONE, "ABONNE cotonou tout")
    message(client, session, run_jobs, PHONE, "OUI")
    topics = {s.topic for s in rows(session, Subscription) if s.active}
    assert topics == {Topic.BUDGET, Topic.ALL}
    assert len(rows(session, Consent)) == 2


def test_subscribe_again_while_active_changes_nothing(session, loaded) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.URGENCES)
    again = subscriptions.subscribe(
        session, contact_id, commune_id(session, "cotonou"), Topic.URGENCES, Channel.WHATSAPP, "fr"
    )
    assert again is False
    [subscription] = rows(session, Subscription)
    assert subscription.channel is Channel.SMS
    assert len(rows(session, Consent)) == 1


def test_concurrent_oui_make_one_subscription_and_one_consent(app: Flask, session, loaded) -> None:
    contact_id = new_contact(session)
    cotonou = commune_id(session, "cotonou")
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    results: list[bool] = []
    errors: list[BaseException] = []

    def oui() -> None:
        with app.app_context():
            try:
                barrier.wait()
                results.append(
                    subscriptions.subscribe(
                        get_session(), contact_id, cotonou, Topic.BUDGET, Channel.SMS, "fr"
                    )
                )
            except BaseException as error:  # reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=oui) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * (threads_count - 1) + [True]
    assert len(rows(session, Subscription)) == 1
    assert len(rows(session, Consent)) == 1


def test_two_oui_messages_processed_at_once_make_one_subscription(
    app: Flask, session, loaded
) -> None:
    contact_id = new_contact(session)
    message_turn(session, get_redis(), contact_id, Channel.SMS, "ABONNE cotonou reddition")
    session.commit()
    barrier = threading.Barrier(2)
    replies: list[list[str]] = []

    def worker() -> None:
        with app.app_context():
            worker_session = get_session()
            barrier.wait()
            turn = message_turn(worker_session, get_redis(), contact_id, Channel.SMS, "OUI")
            worker_session.commit()
            replies.append(turn.texts)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(replies) == 2
    [subscription] = rows(session, Subscription)
    assert subscription.topic is Topic.REDDITION and subscription.active
    assert len(rows(session, Consent)) == 1


# --- STOP --------------------------------------------------------------------------------

# State -> the messages (SMS, WhatsApp) or the USSD inputs that lead there; None: not a
# state of that channel (the summary is a last word on SMS and WhatsApp).
STATES: dict[str, tuple[list[str] | None, list[str] | None]] = {
    "subscribe.topic": (["ABONNE"], USSD_SUBSCRIBE),
    "subscribe.consent": (["ABONNE cotonou urgences"], [*USSD_SUBSCRIBE, "4"]),
    "privacy.data": (None, USSD_MY_DATA),
    "privacy.erase": (["SUPPRIMER"], [*USSD_MY_DATA, "1"]),
}
STOP_WORDS = ["STOP", "ARRET", "DESABONNER", "STOP ALL"]
CASES = [
    pytest.param(channel, state, STOP_WORDS[n % len(STOP_WORDS)], id=f"{channel}-{state}")
    for n, (channel, state) in enumerate(
        (channel, state)
        for channel in (Channel.SMS, Channel.WHATSAPP, Channel.USSD)
        for state, (messages, inputs) in STATES.items()
        if (inputs if channel is Channel.USSD else messages) is not None
    )
]


def assert_opted_out(session: Session, contact_id: int, consents_before: int) -> None:
    contact = contact_by_phone(session)
    assert contact is not None and contact.id == contact_id
    assert contact.opted_out_at is not None
    assert [s.active for s in rows(session, Subscription)] == [False, False]
    consents = rows(session, Consent)
    assert len(consents) == consents_before  # withdrawn in place, never deleted
    assert all(c.withdrawn_at is not None for c in consents)


@pytest.mark.parametrize(("channel", "state", "word"), CASES)
def test_stop_from_any_state_ends_everything(
    client, session, loaded, run_jobs, channel, state, word
) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    messages, inputs = STATES[state]
    confirmation = t("optout.confirmed")
    if channel is Channel.USSD:
        assert inputs is not None
        phone = UssdPhone(client, PHONE)
        phone.walk(*inputs)
        current, _ = conversation.load_ussd(get_redis(), PHONE, phone.session_id)
        assert current.step == state
        stopped = phone.send(word)
        assert stopped == "END " + to_gsm7(confirmation)
        assert_opted_out(session, contact_id, 2)
        fresh = UssdPhone(client, PHONE, session_id="ATUid_after").screen
        assert "Reprendre" not in fresh and fresh.startswith("CON Communes+ Cotonou")
        return
    assert messages is not None
    for text in messages:
        message(client, session, run_jobs, PHONE, text, channel)
    assert conversation.load(get_redis(), channel, str(contact_id)).step == state
    [stopped] = message(client, session, run_jobs, PHONE, word, channel)
    assert stopped == (to_gsm7(confirmation) if channel is Channel.SMS else confirmation)
    assert_opted_out(session, contact_id, 2)
    # Not an answer to the step STOP interrupted (no consent, no erasure): the main menu.
    # On WhatsApp the budget answer is followed by its chart.
    reply, *chart = message(client, session, run_jobs, PHONE, "1", channel)
    assert "Budget" in reply
    assert len(chart) == (1 if channel is Channel.WHATSAPP else 0)
    assert_opted_out(session, contact_id, 2)


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
def test_stop_while_the_commune_is_asked(client, session, loaded, run_jobs, channel) -> None:
    contact_id = new_contact(session, commune=None)
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    message(client, session, run_jobs, PHONE, "ABONNE", channel)
    assert conversation.load(get_redis(), channel, str(contact_id)).pending_step
    message(client, session, run_jobs, PHONE, "STOP", channel)
    assert_opted_out(session, contact_id, 2)
    [menu] = message(client, session, run_jobs, PHONE, "1", channel)
    assert "Communes+ Cotonou" in menu  # the commune was chosen, nothing else resumed


@pytest.mark.parametrize(
    ("channel", "keyword"),
    [(Channel.SMS, "ABONNE"), (Channel.WHATSAPP, "START"), (Channel.SMS, "START")],
)
def test_after_stop_subscribing_needs_a_new_oui(
    client, session, loaded, run_jobs, channel, keyword
) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    message(client, session, run_jobs, PHONE, "STOP", channel)
    [consent] = message(client, session, run_jobs, PHONE, f"{keyword} cotonou budget", channel)
    assert consent.lstrip("*").startswith("Alertes") and "OUI" in consent
    assert len(rows(session, Consent)) == 2
    message(client, session, run_jobs, PHONE, "OUI", channel)
    consents = rows(session, Consent)
    assert len(consents) == 3
    assert [c.withdrawn_at is None for c in consents] == [False, False, True]
    assert consents[-1].channel is channel
    assert contact_by_phone(session).opted_out_at is None
    active = {s.topic: s.active for s in rows(session, Subscription)}
    assert active == {Topic.BUDGET: True, Topic.ALL: False}  # only what was agreed again
    assert contact_id == contact_by_phone(session).id


def test_after_ussd_stop_the_menu_needs_a_new_oui(client, session, loaded) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET)
    UssdPhone(client, PHONE).walk(*USSD_SUBSCRIBE, "STOP")
    again = UssdPhone(client, PHONE, session_id="ATUid_again")
    consent = again.walk(*USSD_SUBSCRIBE, "3")
    assert consent.startswith("CON Alertes")
    again.send("1")
    consents = rows(session, Consent)
    assert [c.channel for c in consents] == [Channel.SMS, Channel.USSD]
    assert consents[0].withdrawn_at is not None and consents[1].withdrawn_at is None
    [subscription] = rows(session, Subscription)
    assert subscription.active


def test_provider_opt_out_signal_ends_every_subscription(client, session, loaded) -> None:
    contact_id = new_contact(session)
    subscribed(session, contact_id, Topic.BUDGET, Topic.ALL)
    response = client.post(
        "/webhooks/at/optout", data={"phoneNumber": PHONE, "senderId": "COMMUNES"}
    )
    assert response.status_code == 200
    assert_opted_out(session, contact_id, 2)
