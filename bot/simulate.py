"""A phone on the command line: drives the real webhooks in the providers' formats.

The requests are the browser simulator's (`bot/simulator/relay.py`): USSD and
SMS as Africa's Talking posts them, WhatsApp as Twilio does, signed or with
the token when one is configured. Messages are then processed by a real worker
in burst mode, and the replies the console provider received are returned.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from flask import Flask
from sqlalchemy import select

from bot.db import get_session
from bot.models import Contact, OutboundMessage
from bot.redis import QUEUE_NAMES, get_queue, get_redis
from bot.simulator import relay


def ussd_session(
    app: Flask, phone: str, inputs: Iterable[str], show: Callable[[str], None] | None = None
) -> str:
    """Dial, then answer with each input; return the last screen."""
    session_id = relay.new_ussd_session_id()
    history: list[str] = []
    pending = iter(inputs)
    screen = relay.ussd(app, phone, session_id, "").body
    while not screen.startswith("END "):
        if show:
            show(screen)
        item = next(pending, None)
        if item is None:
            break
        history.append(item)
        screen = relay.ussd(app, phone, session_id, "*".join(history)).body
    return screen


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
    return _send(app, phone, lambda: relay.sms(app, phone, text), relay.SMS_PATH)


def whatsapp(app: Flask, phone: str, text: str) -> list[str]:
    return _send(app, phone, lambda: relay.whatsapp(app, phone, text), relay.TWILIO_PATH)


def _send(app: Flask, phone: str, post: Callable[[], relay.WebhookAnswer], path: str) -> list[str]:
    after = _last_outbound_id(app)
    answer = post()
    if answer.status != 200:
        raise RuntimeError(f"{path} answered {answer.status}: {answer.body}")
    return _answer(app, phone, after)
