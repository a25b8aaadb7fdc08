"""A broadcast from start to done: audience, languages, one bulk call per chunk, counters."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.broadcasts import sending
from bot.gsm import is_gsm7
from bot.models import Broadcast, OutboundMessage
from bot.models.enums import BroadcastStatus, Channel, MessageStatus, Topic
from bot.models.types import utcnow
from tests.broadcasts.conftest import BULK, delivered_numbers, messages


def test_broadcast_reaches_each_subscriber_once_by_one_bulk_call(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    reddition = subscriber(topic=Topic.REDDITION)
    everything = subscriber(topic=Topic.ALL, channel=Channel.USSD)
    both = subscriber(topic=Topic.REDDITION)
    subscriber(topic=Topic.ALL, number=both.phone_e164)
    subscriber(topic=Topic.BUDGET)
    subscriber(commune="abomey-calavi", topic=Topic.REDDITION)
    sent = broadcast()
    run_jobs()
    expected = {reddition.phone_e164, everything.phone_e164, both.phone_e164}
    assert sorted(delivered_numbers(fake_at)) == sorted(expected)
    assert len(fake_at.requests_to(BULK)) == 1
    rows = messages(session, sent)
    assert {row.status for row in rows} == {MessageStatus.SENT}
    assert {row.external_id for row in rows} == {f"ATXid_{p.lstrip('+')}" for p in expected}
    assert all(row.channel is Channel.SMS and row.attempts == 1 for row in rows)
    session.refresh(sent)
    assert (sent.status, sent.count_queued, sent.count_sent) == (BroadcastStatus.DONE, 0, 3)
    assert sent.started_at is not None and sent.finished_at is not None


def test_broadcast_speaks_each_contact_language_with_french_as_fallback(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    english = subscriber(language="en")
    french = subscriber(language="fr")
    unknown = subscriber(language=None)
    sent = broadcast(texts={"fr": "Séance samedi.", "en": "Session on Saturday."})
    run_jobs()
    text = {row.contact_id: row.text for row in messages(session, sent)}
    assert text[english.id].startswith("Session on Saturday.\nReply STOP")
    assert text[french.id].startswith("Séance samedi.\nRépondez STOP")
    assert text[unknown.id] == text[french.id]
    calls = {request.form["message"]: request.form["to"] for request in fake_at.requests_to(BULK)}
    assert calls[text[english.id]] == english.phone_e164
    french_only = broadcast(texts={"fr": "Seulement en français."})
    run_jobs()
    assert {row.text for row in messages(session, french_only)} == {
        "Seulement en francais.\nRépondez STOP pour ne plus recevoir d'alertes."
    }


def test_broadcast_sms_text_is_gsm7_and_priced(session, fake_at, subscriber, broadcast) -> None:
    subscriber()
    sent = broadcast(texts={"fr": "Rendez-vous « à la fête » : bientôt"})
    assert sending.start(session, sent.id) == "1 message(s) in 1 batch(es)"
    [row] = messages(session, sent)
    assert row.text.startswith('Rendez-vous "à la fete" : bientot\n')
    assert is_gsm7(row.text)
    assert (row.segments, row.cost) == (1, 20)


def test_second_start_of_a_broadcast_inserts_nothing(
    session, fake_at, subscriber, broadcast
) -> None:
    subscriber()
    subscriber()
    sent = broadcast()
    assert sending.start(session, sent.id).startswith("2 message(s)")
    assert sending.start(session, sent.id) == "not started: sending"
    session.execute(
        Broadcast.__table__.update()
        .where(Broadcast.id == sent.id)
        .values(status=BroadcastStatus.SCHEDULED.value)
    )
    session.commit()
    assert sending.start(session, sent.id).startswith("0 message(s)")
    count = session.scalar(select(func.count()).where(OutboundMessage.broadcast_id == sent.id))
    assert count == 2


def test_broadcast_not_due_waits_for_its_own_job(session, fake_at, subscriber, broadcast) -> None:
    subscriber()
    later = broadcast(scheduled_at=utcnow().replace(year=utcnow().year + 1))
    assert sending.start(session, later.id) == "not due yet"
    assert messages(session, later) == []
