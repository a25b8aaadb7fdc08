"""The simulator's requests to the real webhooks, in the providers' own formats.

Each function builds the form a provider would post (Africa's Talking for USSD
and SMS, Twilio for WhatsApp), adds what the provider would add to pass our
checks (AT's `?token=`, Twilio's signature) and sends it through the whole WSGI
app with Flask's test client: routing, verification and parsing are the ones a
real provider meets. The browser never holds a secret; the server signs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

USSD_PATH = "/webhooks/at/ussd"
USSD_EVENTS_PATH = "/webhooks/at/ussd/events"
SMS_PATH = "/webhooks/at/sms"
TWILIO_PATH = "/webhooks/twilio/messages"

DEFAULT_SHORT_CODE = "7722"
"""The SMS short code shown when AT_SENDER_ID is unset (the one the CLI simulator uses)."""
DEFAULT_WHATSAPP_NUMBER = "+2290100000000"
"""The service's WhatsApp number when TWILIO_WHATSAPP_FROM is unset."""
NETWORK_CODE = "61602"
"""Benin's mobile country code 616 with a network code, as AT sends it."""
LOCAL_BASE_URL = "http://localhost"


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: str
    content_type: str


DEFAULT_SERVICE_CODE = "*202*22#"


def service_code(app: Flask) -> str:
    return app.config.get("AT_USSD_CODE") or DEFAULT_SERVICE_CODE


def short_code(app: Flask) -> str:
    return app.config.get("AT_SENDER_ID") or DEFAULT_SHORT_CODE


def whatsapp_number(app: Flask) -> str:
    return app.config.get("TWILIO_WHATSAPP_FROM") or DEFAULT_WHATSAPP_NUMBER


def new_ussd_session_id() -> str:
    return f"ATUid_{uuid.uuid4().hex}"


def ussd(app: Flask, phone: str, session_id: str, text: str) -> WebhookAnswer:
    """One USSD hop; `text` is the whole `*`-joined history, empty on the dial."""
    form = {
        "sessionId": session_id,
        "serviceCode": service_code(app),
        "phoneNumber": phone,
        "networkCode": NETWORK_CODE,
        "text": text,
    }
    return _post_africastalking(app, USSD_PATH, form)


def ussd_ended(app: Flask, phone: str, session_id: str, completed: bool) -> WebhookAnswer:
    """AT's end-of-session notification: `Success` after an END screen, else `Incomplete`."""
    form = {
        "sessionId": session_id,
        "serviceCode": service_code(app),
        "phoneNumber": phone,
        "networkCode": NETWORK_CODE,
        "status": "Success" if completed else "Incomplete",
        "date": _at_date(),
    }
    return _post_africastalking(app, USSD_EVENTS_PATH, form)


def sms(app: Flask, phone: str, text: str) -> WebhookAnswer:
    """An SMS from `phone` to the service's short code, as AT forwards it."""
    form = {
        "from": phone,
        "to": short_code(app),
        "text": text,
        "date": _at_date(),
        "id": str(uuid.uuid4()),
    }
    return _post_africastalking(app, SMS_PATH, form)


def whatsapp(app: Flask, phone: str, text: str) -> WebhookAnswer:
    """A WhatsApp text from `phone`, as Twilio forwards it, signed when a token is set."""
    sid = f"SM{uuid.uuid4().hex}"
    form = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Simulateur",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": text,
        "To": f"whatsapp:{whatsapp_number(app)}",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        "From": f"whatsapp:{phone}",
        "ApiVersion": "2010-04-01",
    }
    base_url = (app.config.get("PUBLIC_BASE_URL") or LOCAL_BASE_URL).rstrip("/")
    headers = {}
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if token:
        signature = RequestValidator(token).compute_signature(base_url + TWILIO_PATH, form)
        headers["X-Twilio-Signature"] = signature
    response = app.test_client().post(TWILIO_PATH, data=form, headers=headers, base_url=base_url)
    return _answer(response)


def _post_africastalking(app: Flask, path: str, form: Mapping[str, str]) -> WebhookAnswer:
    # AT does not sign: the callback URL registered with AT carries the token.
    token = app.config.get("AT_WEBHOOK_TOKEN")
    query = {"token": token} if token else None
    return _answer(app.test_client().post(path, data=dict(form), query_string=query))


def _answer(response: TestResponse) -> WebhookAnswer:
    return WebhookAnswer(
        status=response.status_code,
        body=response.get_data(as_text=True),
        content_type=response.content_type or "",
    )


def _at_date() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
