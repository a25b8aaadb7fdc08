"""No secret reaches the logs, and phone numbers reach them only masked.

Every secret is set to a marker string; the webhooks are driven (signed, and
forged), replies go out through each provider's real client to a fake provider
that fails with an error echoing the whole request back (credentials included),
staff log in wrongly and rightly, the API is called with good and bad tokens.
No marker may appear in any log record (its message, fields or traceback), nor
in the JSON lines the app's formatter writes, nor in any answer sent back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import logging

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.logging import JsonFormatter
from bot.models import OutboundMessage
from bot.models.enums import MessageStatus
from bot.phone import mask
from bot.staff import create_staff, create_token
from tests.dashboard.conftest import csrf_from
from tests.fakes.provider import Answer, FakeProvider, Recorded

CITIZEN = "+2290197123456"
ACCOUNT = "ACb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"
PUBLIC = "https://civic.example.bj"
PHONE_NUMBER_ID = "106540352242922"
STAFF = "agent@mairie-cotonou.example"
MARKERS = {
    "AT_API_KEY": "MARKER-at-api-key-91c2",
    "AT_WEBHOOK_TOKEN": "MARKER-at-hook-7d10",
    "TWILIO_AUTH_TOKEN": "MARKER-twilio-token-4be8",
    "WHATSAPP_TOKEN": "MARKER-whatsapp-token-c3a5",
    "WHATSAPP_APP_SECRET": "MARKER-meta-secret-0f6d",
    "SECRET_KEY": "MARKER-secret-key-52e9",
}
STAFF_PASSWORD = "MARKER-staff-password-8a41"


def _echo(status: int, shape) -> object:
    """A provider answer that fails, echoing the request: its headers, path and body."""

    def answer(recorded: Recorded) -> Answer:
        echoed = json.dumps(
            {"path": recorded.path, "headers": recorded.headers, "body": recorded.body.decode()}
        )
        return Answer(status, shape(echoed))

    return answer


def _at_echo(echoed: str) -> dict:
    recipient = {"statusCode": 402, "number": CITIZEN, "status": echoed, "messageId": "None"}
    return {"SMSMessageData": {"Message": echoed, "Recipients": [recipient]}}


@pytest.fixture
def fake(app):
    with FakeProvider() as server:
        server.answer("/messaging", _echo(200, _at_echo))
        server.answer(
            "/Messages.json",
            _echo(400, lambda e: {"code": 21211, "message": e, "more_info": e, "status": 400}),
        )
        server.answer("/messages", _echo(400, lambda e: {"error": {"code": 100, "message": e}}))
        app.config.update(
            MARKERS,
            AT_USERNAME="communes",
            AT_API_BASE_URL=server.url,
            TWILIO_ACCOUNT_SID=ACCOUNT,
            TWILIO_WHATSAPP_FROM="+14155238886",
            TWILIO_SMS_FROM="+2290121300400",
            TWILIO_API_BASE_URL=server.url,
            WHATSAPP_PHONE_NUMBER_ID=PHONE_NUMBER_ID,
            WHATSAPP_API_BASE_URL=server.url,
            PUBLIC_BASE_URL=PUBLIC,
        )
        yield server


@pytest.fixture
def json_lines():
    """What the app's JSON formatter writes, for every record of the test."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    yield stream
    root.removeHandler(handler)


def _drive_webhooks(client) -> list[bytes]:
    bodies = []
    at_form = {"from": CITIZEN, "to": "7722", "text": "AIDE", "date": "2026-11-22 10:00:00"}
    for token in (MARKERS["AT_WEBHOOK_TOKEN"], "guess", MARKERS["AT_WEBHOOK_TOKEN"][:-1]):
        form = {**at_form, "id": f"ATX-{token}"}
        bodies.append(
            client.post("/webhooks/at/sms", data=form, query_string={"token": token}).data
        )

    twilio = {
        "MessageSid": "SM5c1d9e7f3a2b4c6d8e0f1a2b3c4d5e6f",
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{CITIZEN}",
        "To": "whatsapp:+14155238886",
        "Body": "AIDE",
        "NumMedia": "0",
    }
    url = PUBLIC + "/webhooks/twilio/messages"
    signed = RequestValidator(MARKERS["TWILIO_AUTH_TOKEN"]).compute_signature(url, twilio)
    for signature in (signed, "forged"):
        headers = {"X-Twilio-Signature": signature}
        bodies.append(client.post("/webhooks/twilio/messages", data=twilio, headers=headers).data)

    message = {"from": CITIZEN[1:], "id": "wamid.LOG", "timestamp": "1763720000", "type": "text"}
    value = {
        "metadata": {"phone_number_id": PHONE_NUMBER_ID},
        "messages": [{**message, "text": {"body": "AIDE"}}],
    }
    notification = {
        "object": "whatsapp_business_account",
        "entry": [{"changes": [{"value": value, "field": "messages"}]}],
    }
    body = json.dumps(notification).encode()
    secret = MARKERS["WHATSAPP_APP_SECRET"].encode()
    good = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    for signature in (good, "sha256=" + "0" * 64):
        headers = {"X-Hub-Signature-256": signature}
        bodies.append(
            client.post(
                "/webhooks/whatsapp", data=body, content_type="application/json", headers=headers
            ).data
        )
    return bodies


def _drive_staff(client, session) -> list[bytes]:
    create_staff(session, email=STAFF, name="Agent", password=STAFF_PASSWORD, actor="test")
    _, api_token = create_token(session, email=STAFF, name="logs", actor="test")
    session.commit()
    bodies = []
    attempts = [
        (STAFF, STAFF_PASSWORD + "x"),
        ("nobody@mairie.example", STAFF_PASSWORD),
        (STAFF_PASSWORD, STAFF_PASSWORD),
        (STAFF, STAFF_PASSWORD),
    ]
    for email, password in attempts:
        token = csrf_from(client.get("/dashboard/login").get_data(as_text=True))
        data = {"csrf_token": token, "email": email, "password": password}
        bodies.append(client.post("/dashboard/login", data=data).data)
    bodies.append(client.get("/dashboard/").data)
    for token in (api_token, api_token + "x", api_token[:-1]):
        bodies.append(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).data)
    return bodies, api_token


def test_no_secret_in_logs_or_answers(
    app, client, session, run_jobs, fake, json_lines, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    answers = _drive_webhooks(client)
    run_jobs()  # every reply goes out, and every provider fails echoing the request
    staff_answers, api_token = _drive_staff(client, session)
    answers += staff_answers

    sent_to = {record.path.rsplit("/", 1)[-1] for record in fake.requests}
    assert {"messaging", "Messages.json", "messages"} <= sent_to, sent_to
    outcomes = set(session.scalars(select(OutboundMessage.status)))
    assert outcomes == {MessageStatus.FAILED}, outcomes  # each send met the echoing error

    twilio_basic = base64.b64encode(f"{ACCOUNT}:{MARKERS['TWILIO_AUTH_TOKEN']}".encode()).decode()
    secrets = [*MARKERS.values(), STAFF_PASSWORD, api_token, twilio_basic]
    records = "\n".join(
        "\n".join(
            [
                record.getMessage(),
                json.dumps(getattr(record, "fields", {}), default=str),
                logging.Formatter().formatException(record.exc_info) if record.exc_info else "",
            ]
        )
        for record in caplog.records
    )
    written = json_lines.getvalue()
    assert written, "the JSON formatter wrote nothing: the capture is broken"
    for secret in secrets:
        assert secret not in records
        assert secret not in caplog.text
        assert secret not in written
        for body in answers:
            assert secret.encode() not in body


def test_phone_numbers_reach_the_logs_masked(
    app, client, session, run_jobs, fake, json_lines
) -> None:
    _drive_webhooks(client)
    run_jobs()
    written = json_lines.getvalue()
    for shape in (CITIZEN, CITIZEN[1:], CITIZEN[4:], CITIZEN[6:]):
        assert shape not in written
    # The formatter masks whatever carried the number: a record that names it shows the mask.
    logging.getLogger("bot.test").warning("reply to %s failed", CITIZEN)
    assert mask(CITIZEN) in json_lines.getvalue()
