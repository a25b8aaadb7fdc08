"""send_outbound on a real worker, through the real AT SDK, against a fake AT API."""

from __future__ import annotations

import pytest
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot import models
from bot.models.enums import Channel, MessageStatus, Provider, Topic
from bot.models.types import utcnow
from bot.redis import get_queue
from tests.fakes.provider import Answer, FakeProvider
from workers.send import MAX_ATTEMPTS, deliver

PHONE = "+2290197123456"


def _sent(message_id: str = "ATXid_1") -> Answer:
    recipient = {"statusCode": 101, "number": PHONE, "status": "Success", "messageId": message_id}
    return Answer(201, {"SMSMessageData": {"Message": "Sent", "Recipients": [recipient]}})


@pytest.fixture
def fake(app):
    with FakeProvider() as server:
        app.config.update(AT_USERNAME="communes", AT_API_KEY="k", AT_API_BASE_URL=server.url)
        yield server


def _row(session, *, broadcast: bool = False, opted_out: bool = False) -> models.OutboundMessage:
    contact = models.Contact(phone_e164=PHONE, opted_out_at=utcnow() if opted_out else None)
    session.add(contact)
    session.flush()
    broadcast_id = None
    if broadcast:
        commune = models.Commune(slug="cotonou", name="Cotonou", department="Littoral")
        session.add(commune)
        session.flush()
        row = models.Broadcast(commune_id=commune.id, topic=Topic.REDDITION)
        session.add(row)
        session.flush()
        broadcast_id = row.id
    message = models.OutboundMessage(
        contact_id=contact.id,
        channel=Channel.SMS,
        provider=Provider.AFRICASTALKING,
        text="Reddition de comptes samedi 10h",
        broadcast_id=broadcast_id,
    )
    session.add(message)
    session.commit()
    return message


def test_sends_once_and_records(app, session, fake, run_jobs) -> None:
    fake.answer("/messaging", _sent())
    row = _row(session)
    get_queue("high", app).enqueue("workers.send.send_outbound", row.id)
    get_queue("high", app).enqueue("workers.send.send_outbound", row.id)
    run_jobs()
    session.refresh(row)
    assert (row.status, row.external_id, row.attempts) == (MessageStatus.SENT, "ATXid_1", 1)
    assert row.sent_at is not None
    assert len(fake.requests_to("/messaging")) == 1


def test_retryable_failure_goes_back_with_backoff(app, session, fake) -> None:
    fake.answer("/messaging", Answer(503, "busy", content_type="text/plain"))
    row = _row(session)
    with app.app_context():
        assert deliver(row.id) == "retry in 15 s: http_503"
    session.refresh(row)
    assert (row.status, row.attempts, row.error_code) == (MessageStatus.QUEUED, 1, "http_503")
    assert len(ScheduledJobRegistry(queue=get_queue("high", app))) == 1

    with app.app_context():
        assert deliver(row.id) == "retry in 30 s: http_503"


def test_gives_up_after_the_last_attempt(app, session, fake) -> None:
    fake.answer("/messaging", Answer(500, "oops", content_type="text/plain"))
    row = _row(session)
    with app.app_context():
        outcomes = [deliver(row.id) for _ in range(MAX_ATTEMPTS + 1)]
    assert outcomes[-2] == "failed: retryable http_500"
    assert outcomes[-1] == "not sent: already failed"
    session.refresh(row)
    assert (row.status, row.attempts) == (MessageStatus.FAILED, MAX_ATTEMPTS)


def test_opted_out_contact_gets_no_broadcast(app, session, fake) -> None:
    row = _row(session, broadcast=True, opted_out=True)
    with app.app_context():
        assert deliver(row.id) == "skipped: opted out"
    session.refresh(row)
    assert row.status == MessageStatus.SKIPPED
    assert fake.requests == []


def test_opted_out_contact_still_gets_replies(app, session, fake) -> None:
    fake.answer("/messaging", _sent())
    row = _row(session, opted_out=True)
    with app.app_context():
        assert deliver(row.id) == "sent: ATXid_1"


def test_provider_opt_out_marks_the_contact(app, session, fake) -> None:
    recipient = {"statusCode": 406, "number": PHONE, "status": "UserInBlacklist"}
    fake.answer("/messaging", Answer(201, {"SMSMessageData": {"Recipients": [recipient]}}))
    row = _row(session)
    with app.app_context():
        assert deliver(row.id) == "failed: opted_out 406"
    contact = session.scalar(select(models.Contact))
    session.refresh(contact)
    assert contact.opted_out_at is not None


def test_unknown_message_id(app) -> None:
    with app.app_context():
        assert deliver(123456) == "unknown message"


def test_outside_whatsapp_window_resends_the_broadcast_template(app, session) -> None:
    with FakeProvider() as twilio:
        app.config.update(
            TWILIO_ACCOUNT_SID="AC" + "0" * 32,
            TWILIO_AUTH_TOKEN="twilio-token-0001",
            TWILIO_WHATSAPP_FROM="+2290121300400",
            TWILIO_API_BASE_URL=twilio.url,
        )
        window_closed = {"code": 63016, "message": "outside the allowed window", "status": 400}
        twilio.answer(
            "/Messages.json",
            Answer(400, window_closed),
            Answer(201, {"sid": "SM" + "1" * 32, "status": "queued"}),
        )
        row = _row(session, broadcast=True)
        row.channel, row.provider = Channel.WHATSAPP, Provider.TWILIO
        row.broadcast.whatsapp_template = "HX" + "a" * 32
        row.broadcast.whatsapp_template_variables = {"1": "samedi 10h"}
        session.commit()
        with app.app_context():
            assert deliver(row.id) == "sent: SM" + "1" * 32
        first, second = twilio.requests_to("/Messages.json")
    assert first.form["Body"] == "Reddition de comptes samedi 10h"
    assert "Body" not in second.form
    assert second.form["ContentSid"] == "HX" + "a" * 32
    assert second.form["To"] == f"whatsapp:{PHONE}"
