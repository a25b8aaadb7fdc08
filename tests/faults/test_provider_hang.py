"""A provider that hangs (accepts the connection, never answers) never delays a webhook:
webhooks only buffer and queue. The worker's send gives up at the adapter's timeout, and
the reply is then in doubt, settled by the sweeper from the provider's delivery reports:
sent again once if the provider never had it, never twice if it had."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import models
from bot.channels import report_memory
from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import OutboundMessage, SendError, SendFailure
from bot.channels.registry import build_adapter
from bot.channels.twilio import TwilioAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.models.enums import Channel, MessageStatus, Provider
from bot.models.types import utcnow
from tests.fakes.provider import Answer, FakeProvider, Recorded
from tests.faults.conftest import (
    QUICK_SECONDS,
    SHORT_PROVIDER_TIMEOUT,
    SilentServer,
    at_sms_form,
    meta_body,
    timed_post,
    twilio_form,
    ussd_form,
)
from workers.sweeper import REPORT_ORDER_MARGIN, sweep

TWILIO_TOKEN = "faults-twilio-token"
ADAPTERS = {
    Provider.AFRICASTALKING: AfricasTalkingAdapter,
    Provider.TWILIO: TwilioAdapter,
    Provider.META: WhatsAppCloudAdapter,
}
DEFAULT_READ_TIMEOUT_SECONDS = 10.0
"""What the adapters wait for an answer by default (bot/channels/*.py)."""


def _providers_at(app: Flask, url: str) -> None:
    """Every provider configured, its API at `url`; adapters built afresh on next use."""
    app.config.update(
        AT_USERNAME="communes",
        AT_API_KEY="at-key",
        AT_API_BASE_URL=url,
        TWILIO_ACCOUNT_SID="ACfaults0000000000000000000000000",
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
        TWILIO_SMS_FROM="+2290121300400",
        TWILIO_WHATSAPP_FROM="+2290121300400",
        TWILIO_API_BASE_URL=url,
        WHATSAPP_TOKEN="meta-token",
        WHATSAPP_PHONE_NUMBER_ID="106540352242922",
        WHATSAPP_API_BASE_URL=url,
    )
    app.extensions["senders"] = {}


def _short_timeouts(app: Flask) -> None:
    """Adapters as the app configures them, with a read timeout a test can wait out."""
    for provider, adapter in ADAPTERS.items():
        app.extensions["senders"][provider] = adapter(app.config, timeout=SHORT_PROVIDER_TIMEOUT)


def _signed_twilio(client, form: dict[str, str]):
    url = "http://localhost/webhooks/twilio/messages"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    return timed_post(
        client, "/webhooks/twilio/messages", data=form, headers={"X-Twilio-Signature": signature}
    )


def test_webhooks_answer_at_once_while_every_provider_hangs(
    app, client, communes, silent_server: SilentServer
) -> None:
    _providers_at(app, silent_server.url)
    answers = {
        "at-sms": timed_post(
            client,
            "/webhooks/at/sms",
            data=at_sms_form("+2290197300001", "BUDGET COTONOU", "at-hang-1"),
        ),
        "twilio-sms": _signed_twilio(
            client, twilio_form("+2290197300002", "PTA CALAVI", "SMhang1", whatsapp=False)
        ),
        "twilio-whatsapp": _signed_twilio(
            client, twilio_form("+2290197300003", "budget akpro", "SMhang2", whatsapp=True)
        ),
        "meta": timed_post(
            client,
            "/webhooks/whatsapp",
            data=meta_body("+2290197300004", "agenda cotonou", "wamid.hang1"),
            content_type="application/json",
        ),
    }
    # A USSD walk to Cotonou's budget, then "1 Recevoir par SMS": the SMS is only queued.
    phone = "+2290197300005"
    for text in ("", "1", "1*1", "1*1*1"):
        answers[f"ussd {text!r}"] = timed_post(
            client, "/webhooks/at/ussd", data=ussd_form(phone, text)
        )
    assert answers["ussd '1*1*1'"].text.startswith("END ")
    for name, answer in answers.items():
        assert (answer.status, answer.seconds < QUICK_SECONDS) == (200, True), name
    assert silent_server.accepted == 0  # no webhook called a provider


def test_default_send_timeouts_are_bounded(app, silent_server: SilentServer) -> None:
    """Each adapter as the registry builds it gives up on a silent provider, in doubt."""
    _providers_at(app, silent_server.url)
    outcomes: dict[Provider, tuple[SendError | None, float]] = {}

    def send(provider: Provider, channel: Channel) -> None:
        adapter = build_adapter(provider, app)
        started = time.monotonic()
        try:
            adapter.send(OutboundMessage(channel=channel, to="+2290197300009", text="Bonjour"))
            outcomes[provider] = (None, time.monotonic() - started)
        except SendError as error:
            outcomes[provider] = (error, time.monotonic() - started)

    # In parallel: the three waits overlap, so the test costs one timeout, not three.
    threads = [
        threading.Thread(target=send, args=(provider, channel))
        for provider, channel in (
            (Provider.AFRICASTALKING, Channel.SMS),
            (Provider.TWILIO, Channel.WHATSAPP),
            (Provider.META, Channel.WHATSAPP),
        )
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert silent_server.accepted == 3
    for provider, (error, seconds) in outcomes.items():
        assert error is not None, provider
        assert (error.failure, error.code) == (SendFailure.IN_DOUBT, "timeout"), provider
        assert DEFAULT_READ_TIMEOUT_SECONDS - 1 < seconds < DEFAULT_READ_TIMEOUT_SECONDS + 5


def _reply_row(session, phone: str) -> models.OutboundMessage:
    session.rollback()
    return session.scalars(
        select(models.OutboundMessage)
        .join(models.Contact)
        .where(models.Contact.phone_e164 == phone)
    ).one()


def _sent(request: Recorded) -> Answer:
    number = request.form["to"]
    recipient = {"statusCode": 101, "number": number, "status": "Success", "messageId": "ATX_ok"}
    return Answer(201, {"SMSMessageData": {"Message": "Sent", "Recipients": [recipient]}})


def _after_in_doubt(app: Flask) -> object:
    return utcnow() + timedelta(seconds=app.config["SWEEP_IN_DOUBT_SECONDS"] + 1)


@pytest.fixture
def provider_back(app):
    """The provider answering again, as it does once it has recovered."""
    with FakeProvider() as fake:
        fake.answer("/version1/messaging", _sent)
        yield fake


def test_reply_the_provider_never_had_is_sent_again_once(
    app, client, communes, session, run_jobs, silent_server, provider_back
) -> None:
    phone = "+2290197300006"
    _providers_at(app, silent_server.url)
    _short_timeouts(app)
    form = at_sms_form(phone, "BUDGET COTONOU", "at-hang-2")
    assert timed_post(client, "/webhooks/at/sms", data=form).status == 200
    started = time.monotonic()
    run_jobs()
    assert time.monotonic() - started < SHORT_PROVIDER_TIMEOUT + 2 * QUICK_SECONDS
    row = _reply_row(session, phone)
    assert (row.status, row.error_code, row.attempts) == (MessageStatus.SENDING, "timeout", 1)
    assert silent_server.accepted == 1

    _providers_at(app, provider_back.url)
    # Reports came back for messages sent after this one, none naming its number: the
    # provider never had it (workers/sweeper.py), so it goes again, once.
    report_memory.raise_watermark(Provider.AFRICASTALKING, row.updated_at + REPORT_ORDER_MARGIN)
    assert sweep(session, now=_after_in_doubt(app)).resent == 1
    run_jobs()
    assert sweep(session, now=_after_in_doubt(app)).resent == 0
    run_jobs()
    assert [r.form["to"] for r in provider_back.requests_to("/messaging")] == [phone]
    row = _reply_row(session, phone)
    assert (row.status, row.attempts, row.external_id) == (MessageStatus.SENT, 2, "ATX_ok")


def test_reply_the_provider_took_before_hanging_is_never_sent_twice(
    app, client, communes, session, run_jobs
) -> None:
    phone = "+2290197300007"
    with FakeProvider() as slow:
        # Takes the message, answers long after the worker stopped waiting.
        slow.answer("/version1/messaging", Answer(201, {}, delay=SHORT_PROVIDER_TIMEOUT + 1.5))
        _providers_at(app, slow.url)
        _short_timeouts(app)
        form = at_sms_form(phone, "BUDGET COTONOU", "at-hang-3")
        assert timed_post(client, "/webhooks/at/sms", data=form).status == 200
        run_jobs()
        row = _reply_row(session, phone)
        assert (row.status, row.error_code) == (MessageStatus.SENDING, "timeout")
        # Its delivery report names the number with an id we never recorded.
        report = {"id": "ATX_late", "status": "Success", "phoneNumber": phone}
        assert client.post("/webhooks/at/delivery", data=report).status_code == 200
        swept = sweep(session, now=_after_in_doubt(app))
        run_jobs()
        assert (swept.adopted, swept.resent) == (1, 0)
        assert len(slow.requests_to("/messaging")) == 1
    row = _reply_row(session, phone)
    assert (row.status, row.external_id) == (MessageStatus.DELIVERED, "ATX_late")
