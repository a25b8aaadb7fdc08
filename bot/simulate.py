"""A phone on the command line: drives the real webhooks in the providers' formats.

USSD goes through /webhooks/at/ussd exactly as Africa's Talking sends it (the
whole `*`-joined history at each hop); SMS through /webhooks/at/sms; WhatsApp
through /webhooks/twilio/messages, signed when a Twilio token is configured.
Messages are then processed by a real worker in burst mode, and the replies
the console provider received are returned.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.db import get_session
from bot.models import Contact, OutboundMessage
from bot.redis import QUEUE_NAMES, get_queue, get_redis


def ussd_session(
    app: Flask, phone: str, inputs: Iterable[str], show: Callable[[str], None] | None = None
) -> str:
    """Dial, then answer with each input; return the last screen."""
    client = app.test_client()
    session_id = f"SIM{uuid.uuid4().hex[:20]}"
    history: list[str] = []
    pending = iter(inputs)
    screen = _ussd(client, session_id, phone, "")
    while not screen.startswith("END "):
        if show:
            show(screen)
        item = next(pending, None)
        if item is None:
            break
        history.append(item)
        screen = _ussd(client, session_id, phone, "*".join(history))
    return screen


def _ussd(client: FlaskClient, session_id: str, phone: str, text: str) -> str:
    form = {
        "sessionId": session_id,
        "serviceCode": app_code(client.application),
        "phoneNumber": phone,
        "networkCode": "61602",
        "text": text,
    }
    response = client.post("/webhooks/at/ussd", data=form)
    return response.get_data(as_text=True)


def app_code(app: Flask) -> str:
    return app.config.get("AT_USSD_CODE") or "*202*22#"


def _replies_since(app: Flask, phone: str, after_id: int) -> list[str]:
    with app.app_context():
        session = get_session()
        contact_id = session.scalar(select(Contact.id).where(Contact.phone_e164 == phone))
        rows = session.scalars(
            select(OutboundMessage.text)
            .where(OutboundMessage.contact_id == contact_id, OutboundMessage.id > after_id)
            .order_by(OutboundMessage.id)
        )
        return list(rows)


def _last_outbound_id(app: Flask) -> int:
    with app.app_context():
        return (
            get_session().scalar(
                select(OutboundMessage.id).order_by(OutboundMessage.id.desc()).limit(1)
            )
            or 0
        )


REPLY_WAIT_SECONDS = 10.0
"""How long to wait for replies when `make run`'s own worker may be the one answering."""


def _answer(app: Flask, phone: str, after: int) -> list[str]:
    """Run the queued jobs, then return the replies; another worker may take the
    jobs first, so wait until its replies are there (they commit together)."""
    from workers.worker import AppWorker

    queues = [get_queue(name, app) for name in QUEUE_NAMES]
    deadline = time.monotonic() + REPLY_WAIT_SECONDS
    while True:
        AppWorker(queues, connection=get_redis(app), app=app).work(burst=True)
        replies = _replies_since(app, phone, after)
        if replies or time.monotonic() > deadline:
            return replies
        time.sleep(0.1)


def sms(app: Flask, phone: str, text: str) -> list[str]:
    after = _last_outbound_id(app)
    form = {
        "from": phone,
        "to": app.config.get("AT_SENDER_ID") or "7722",
        "text": text,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "id": f"SIM-{uuid.uuid4()}",
    }
    response = app.test_client().post("/webhooks/at/sms", data=form)
    if response.status_code != 200:
        raise RuntimeError(
            f"/webhooks/at/sms answered {response.status_code}: {response.get_data(as_text=True)}"
        )
    return _answer(app, phone, after)


def whatsapp(app: Flask, phone: str, text: str) -> list[str]:
    after = _last_outbound_id(app)
    path = "/webhooks/twilio/messages"
    form = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": app.config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        "From": f"whatsapp:{phone}",
        "To": f"whatsapp:{app.config.get('TWILIO_WHATSAPP_FROM') or '+2290100000000'}",
        "Body": text,
        "NumMedia": "0",
    }
    headers = {}
    token = app.config.get("TWILIO_AUTH_TOKEN")
    if token:
        base = (app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/")
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(base + path, form)
    response = app.test_client().post(
        path,
        data=form,
        headers=headers,
        base_url=app.config.get("PUBLIC_BASE_URL") or "http://localhost",
    )
    if response.status_code != 200:
        raise RuntimeError(
            f"{path} answered {response.status_code}: {response.get_data(as_text=True)}"
        )
    return _answer(app, phone, after)
