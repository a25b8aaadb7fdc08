"""STOP in the middle of every participation dialog, on every channel: obeyed at once,
every subscription ended, and the dialog forgotten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot import conversation
from bot.models import Commune, Contact, Subscription
from bot.models.enums import Channel, Topic
from bot.models.types import utcnow
from bot.participation import polls, subscriptions
from bot.redis import get_redis
from tests.participation.dialog import UssdPhone, message

PHONE = "+2290197555555"

# A keyword that opens a dialog, and a word of its first question (to know it did).
DIALOGS = [
    ("AVIS la route est coupee", "commune"),
    ("QUESTION", "commune"),
    ("SONDAGE", "commune"),
    ("ABONNE", "commune"),
    ("SUPPRIMER", "Supprimer"),
]
STOP_WORDS = ["STOP", "ARRET", "Désabonner", "STOP ALL"]
MENU_ENTRIES = [
    "Signaler un probleme",
    "Question pour une seance",
    "Sondages",
    "Recevoir les alertes",
    "Mes donnees",
]


@pytest.fixture
def poll_open(session, loaded) -> None:
    polls.create_poll(
        session, "cotonou", "Priorite 2027 ?", ["Routes", "Ecoles"], utcnow() + timedelta(days=3)
    )
    session.commit()


def _subscribed(session) -> int:
    """A citizen already subscribed to two topics of Cotonou, with their consent."""
    cotonou = session.scalar(select(Commune.id).where(Commune.slug == "cotonou"))
    contact = Contact(phone_e164=PHONE)
    session.add(contact)
    session.commit()
    for topic in (Topic.BUDGET, Topic.URGENCES):
        subscriptions.subscribe(session, contact.id, cotonou, topic, Channel.SMS, "fr")
    return contact.id


def _assert_everything_stopped(session, contact_id: int) -> None:
    session.rollback()
    contact = session.get(Contact, contact_id)
    assert contact.opted_out_at is not None
    active = session.scalars(select(Subscription).where(Subscription.active.is_(True))).all()
    assert active == []


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.WHATSAPP])
@pytest.mark.parametrize(("keyword", "asked"), DIALOGS)
def test_stop_in_the_middle_of_a_message_dialog(
    client, session, run_jobs, poll_open, channel, keyword, asked
) -> None:
    contact_id = _subscribed(session)
    [first] = message(client, session, run_jobs, PHONE, keyword, channel)
    assert asked in first
    stop_word = STOP_WORDS[DIALOGS.index((keyword, asked)) % len(STOP_WORDS)]
    [confirmation] = message(client, session, run_jobs, PHONE, stop_word, channel)
    assert "ne recevrez plus" in confirmation
    _assert_everything_stopped(session, contact_id)
    assert conversation.load(get_redis(), channel, str(contact_id)) is None


@pytest.mark.parametrize("entry", MENU_ENTRIES)
def test_stop_typed_in_the_middle_of_a_ussd_dialog(client, session, poll_open, entry) -> None:
    contact_id = _subscribed(session)
    phone = UssdPhone(client, PHONE)
    phone.participate(entry)
    assert phone.screen.startswith("CON ")
    end = phone.send("STOP")
    assert end.startswith("END ") and "ne recevrez plus" in end
    _assert_everything_stopped(session, contact_id)
