"""WhatsApp broadcasts: free text inside the 24 h window, the approved template outside."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from bot.models.enums import Channel, MessageStatus, Topic
from bot.models.types import utcnow
from tests.broadcasts.conftest import messages
from tests.fakes.provider import Answer, FakeProvider, Recorded

MESSAGES = "/PHONE-ID/messages"
_ids = itertools.count(1)


def _accepted(_request: Recorded) -> Answer:
    return Answer(200, {"messages": [{"id": f"wamid.{next(_ids)}"}]})


@pytest.fixture
def fake_meta(app, fake_at):
    with FakeProvider() as fake:
        fake.answer(MESSAGES, _accepted)
        app.config.update(
            WHATSAPP_TOKEN="meta-token",
            WHATSAPP_PHONE_NUMBER_ID="PHONE-ID",
            WHATSAPP_API_BASE_URL=fake.url,
        )
        yield fake


def _sent_to(fake: FakeProvider) -> dict[str, dict]:
    return {request.json["to"]: request.json for request in fake.requests_to(MESSAGES)}


def test_whatsapp_broadcast_uses_text_in_window_and_template_outside(
    session, fake_meta, subscriber, broadcast, run_jobs
) -> None:
    recent = subscriber(
        channel=Channel.WHATSAPP, whatsapp_last_inbound_at=utcnow() - timedelta(hours=2)
    )
    old = subscriber(
        channel=Channel.WHATSAPP,
        language="en",
        whatsapp_last_inbound_at=utcnow() - timedelta(days=3),
    )
    never = subscriber(channel=Channel.WHATSAPP)
    sent = broadcast(
        channels=[Channel.WHATSAPP],
        whatsapp_template="HXalert",
        template_variables={"1": "Cotonou", "2": "samedi"},
    )
    run_jobs()
    calls = _sent_to(fake_meta)
    assert calls[recent.phone_e164.lstrip("+")]["type"] == "text"
    assert calls[recent.phone_e164.lstrip("+")]["text"]["body"].startswith("Reddition")
    template = calls[old.phone_e164.lstrip("+")]["template"]
    assert template["name"] == "HXalert"
    assert template["language"] == {"code": "en"}
    assert [p["text"] for p in template["components"][0]["parameters"]] == ["Cotonou", "samedi"]
    assert calls[never.phone_e164.lstrip("+")]["type"] == "template"
    assert {row.status for row in messages(session, sent)} == {MessageStatus.SENT}


def test_whatsapp_broadcast_without_template_skips_those_outside_the_window(
    session, fake_meta, subscriber, broadcast, run_jobs
) -> None:
    recent = subscriber(channel=Channel.WHATSAPP, whatsapp_last_inbound_at=utcnow())
    subscriber(channel=Channel.WHATSAPP, whatsapp_last_inbound_at=utcnow() - timedelta(days=2))
    sms = subscriber(channel=Channel.SMS)
    sent = broadcast(channels=[Channel.WHATSAPP, Channel.SMS])
    run_jobs()
    assert list(_sent_to(fake_meta)) == [recent.phone_e164.lstrip("+")]
    rows = messages(session, sent)
    assert sorted((row.channel.value, row.status.value, row.error_code) for row in rows) == [
        ("sms", "sent", None),
        ("whatsapp", "sent", None),
        ("whatsapp", "skipped", "no_template"),
    ]
    assert sms.id in {row.contact_id for row in rows if row.channel is Channel.SMS}
    session.refresh(sent)
    assert (sent.count_sent, sent.count_skipped, sent.status.value) == (2, 1, "done")


def test_whatsapp_broadcast_resends_as_template_when_the_provider_says_window_closed(
    session, fake_meta, subscriber, broadcast, run_jobs
) -> None:
    subscriber(channel=Channel.WHATSAPP, whatsapp_last_inbound_at=utcnow())
    closed = Answer(400, {"error": {"code": 131047, "message": "Re-engagement message"}})
    fake_meta.answer(MESSAGES, closed, _accepted)
    sent = broadcast(channels=[Channel.WHATSAPP], whatsapp_template="HXalert")
    run_jobs()
    kinds = [request.json["type"] for request in fake_meta.requests_to(MESSAGES)]
    assert kinds == ["text", "template"]
    assert [row.status for row in messages(session, sent)] == [MessageStatus.SENT]


@pytest.mark.parametrize(
    ("template", "last_message_hours_ago", "channel"),
    [
        pytest.param("HXalert", 72, "whatsapp", id="template-reaches-whatsapp"),
        pytest.param(None, 2, "whatsapp", id="in-window-reaches-whatsapp"),
        pytest.param(None, 72, "sms", id="unreachable-on-whatsapp-gets-sms"),
    ],
)
def test_broadcast_reaches_a_contact_on_two_channels_once(
    session, fake_meta, subscriber, broadcast, run_jobs, template, last_message_hours_ago, channel
) -> None:
    both = subscriber(
        channel=Channel.WHATSAPP,
        whatsapp_last_inbound_at=utcnow() - timedelta(hours=last_message_hours_ago),
    )
    subscriber(topic=Topic.ALL, channel=Channel.SMS, number=both.phone_e164)
    sent = broadcast(channels=[Channel.SMS, Channel.WHATSAPP], whatsapp_template=template)
    run_jobs()
    rows = messages(session, sent)
    assert [row.channel.value for row in rows if row.status is MessageStatus.SENT] == [channel]
    # Without a template, the WhatsApp row of a contact out of the window says why it was not used.
    assert {row.error_code for row in rows if row.status is MessageStatus.SKIPPED} <= {
        "no_template"
    }
