"""Talking to the service as a citizen would, through the real webhooks and worker."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.engine import message_turn
from bot.gsm import is_gsm7, segment_info
from bot.models import Contact, OutboundMessage
from bot.models.enums import Channel
from bot.redis import get_redis

_ids = itertools.count(1)
_OPTION = re.compile(r"^(\d+)\.? (.+)$")


def option(text: str, label: str) -> str | None:
    """The number shown before `label` on a USSD screen or in a message ("2 Label",
    "2. Label", "_2. Label_"), None when it is not offered."""
    for line in text.removeprefix("CON ").removeprefix("END ").splitlines():
        found = _OPTION.match(line.strip().strip("_"))
        if found and found.group(2).startswith(label):
            return found.group(1)
    return None


class UssdPhone:
    """One USSD session: each `send` adds an input to AT's history and returns the screen."""

    def __init__(self, client: FlaskClient, phone: str, session_id: str = "ATUid_dialog") -> None:
        self.client, self.phone, self.session_id = client, phone, session_id
        self.history: list[str] = []
        self.screen = self._post("")

    def _post(self, text: str) -> str:
        form = {
            "sessionId": self.session_id,
            "serviceCode": "*202*22#",
            "phoneNumber": self.phone,
            "text": text,
        }
        response = self.client.post("/webhooks/at/ussd", data=form)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        assert body[:4] in ("CON ", "END "), body
        assert len(body[4:]) <= 160 and is_gsm7(body[4:]), body
        return body

    def send(self, item: str) -> str:
        self.history.append(item)
        self.screen = self._post("*".join(self.history))
        return self.screen

    def walk(self, *items: str) -> str:
        """Send each item in turn (every screen checked): the last screen."""
        for item in items:
            self.send(item)
        return self.screen

    def participate(self, entry: str) -> str:
        """From the dial to a participation dialog: Cotonou if asked, Participer, `entry`."""
        if option(self.screen, "Cotonou"):
            self.choose("Cotonou")
        self.choose("Participer")
        return self.choose(entry)

    def choose(self, label: str) -> str:
        """Pick the option labelled `label`, paging with 98 until it shows."""
        for _ in range(10):
            number = option(self.screen, label)
            if number:
                return self.send(number)
            assert "98 " in self.screen, f"{label!r} not offered:\n{self.screen}"
            self.send("98")
        raise AssertionError(f"{label!r} not found")

    def pages(self) -> list[str]:
        """The screen shown and the ones after it, paging with 98 while "98 Suite" shows."""
        pages = [self.screen]
        while "98 Suite" in pages[-1]:
            pages.append(self.send("98"))
        return pages


def _post(client: FlaskClient, channel: Channel, phone: str, text: str) -> None:
    if channel is Channel.SMS:
        form = {"from": phone, "to": "7722", "text": text, "id": f"sms-{next(_ids)}",
                "date": "2026-11-22T10:00:00Z", "linkId": ""}  # fmt: skip
        response = client.post("/webhooks/at/sms", data=form)
    else:
        form = {"MessageSid": f"SM{next(_ids):032d}", "AccountSid": "AC" + "0" * 32,
                "From": f"whatsapp:{phone}", "To": "whatsapp:+2290100000000",
                "Body": text, "NumMedia": "0"}  # fmt: skip
        response = client.post("/webhooks/twilio/messages", data=form)
    assert response.status_code == 200


def message(
    client: FlaskClient,
    session: Session,
    run_jobs: Callable[[], None],
    phone: str,
    text: str,
    channel: Channel = Channel.SMS,
) -> list[str]:
    """One SMS (AT webhook) or WhatsApp message (Twilio webhook), answered by a real
    worker: the replies to `phone`, each SMS checked against GSM-7 and 2 segments."""
    session.rollback()
    before = session.scalar(select(func.max(OutboundMessage.id))) or 0
    _post(client, channel, phone, text)
    run_jobs()
    session.rollback()
    replies = list(
        session.scalars(
            select(OutboundMessage.text)
            .join(Contact, Contact.id == OutboundMessage.contact_id)
            .where(Contact.phone_e164 == phone, OutboundMessage.id > before)
            .order_by(OutboundMessage.id)
        )
    )
    if channel is Channel.SMS:
        for reply in replies:
            assert is_gsm7(reply) and segment_info(reply).segments <= 2, reply
    return replies


def sms(
    client: FlaskClient, session: Session, run_jobs: Callable[[], None], phone: str, text: str
) -> list[str]:
    return message(client, session, run_jobs, phone, text, Channel.SMS)


def turn(session: Session, contact_id: int, text: str, channel: Channel = Channel.SMS) -> str:
    """One message straight through the engine (no webhook, no worker): the replies as one
    text, each SMS checked against GSM-7 and 2 segments."""
    texts = message_turn(session, get_redis(), contact_id, channel, text).texts
    session.commit()
    if channel is Channel.SMS:
        for reply in texts:
            assert is_gsm7(reply) and segment_info(reply).segments <= 2, reply
    return "\n".join(texts)
