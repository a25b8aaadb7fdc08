"""Broadcast fixtures: the sample communes, subscribers, and a fake AT bulk API on loopback."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.broadcasts import compose, sending
from bot.content.cache import commune_id
from bot.content.loader import load_content
from bot.models import Broadcast, Contact, OutboundMessage, Subscription
from bot.models.enums import Channel, Topic
from tests.fakes.provider import Answer, FakeProvider, Recorded

BULK = "/version1/messaging"
_numbers = itertools.count(1)


def bulk_success(request: Recorded) -> Answer:
    """AT's answer when every recipient was taken: statusCode 101 and a messageId each."""
    recipients = [
        {
            "statusCode": 101,
            "number": number,
            "status": "Success",
            "cost": "XOF 20.0000",
            "messageId": f"ATXid_{number.lstrip('+')}",
        }
        for number in request.form["to"].split(",")
    ]
    return Answer(201, {"SMSMessageData": {"Message": "Sent", "Recipients": recipients}})


def delivered_numbers(fake: FakeProvider) -> list[str]:
    """Every recipient of every bulk call the fake answered with success, in order."""
    return [
        number for request in fake.requests_to(BULK) for number in request.form["to"].split(",")
    ]


@pytest.fixture
def fake_at(app: Flask) -> Iterator[FakeProvider]:
    """Africa's Talking configured, its bulk API faked; quiet hours off."""
    with FakeProvider() as fake:
        fake.answer(BULK, bulk_success)
        app.config.update(
            AT_USERNAME="communes",
            AT_API_KEY="at-test-key",
            AT_API_BASE_URL=fake.url,
            QUIET_HOURS="00:00-00:00",
        )
        yield fake


@pytest.fixture
def loaded(session: Session) -> None:
    load_content(session)
    session.commit()


def phone() -> str:
    return f"+22901970{next(_numbers):05d}"


@pytest.fixture
def subscriber(session: Session, loaded: None) -> Callable[..., Contact]:
    def make(
        commune: str = "cotonou",
        topic: Topic = Topic.REDDITION,
        channel: Channel = Channel.SMS,
        language: str | None = None,
        number: str | None = None,
        whatsapp_last_inbound_at: datetime | None = None,
    ) -> Contact:
        number = number or phone()
        contact = session.scalar(select(Contact).where(Contact.phone_e164 == number))
        if contact is None:
            contact = Contact(
                phone_e164=number,
                language=language,
                whatsapp_last_inbound_at=whatsapp_last_inbound_at,
            )
            session.add(contact)
            session.flush()
        session.add(
            Subscription(
                contact_id=contact.id,
                commune_id=commune_id(session, commune),
                topic=topic,
                channel=channel,
            )
        )
        session.commit()
        return contact

    return make


@pytest.fixture
def broadcast(session: Session, loaded: None) -> Callable[..., Broadcast]:
    """Create a broadcast and ask for it to go (its start job is queued on commit)."""

    def make(**fields: object) -> Broadcast:
        values: dict[str, object] = {
            "commune_slug": "cotonou",
            "topic": Topic.REDDITION,
            "texts": {"fr": "Reddition de comptes samedi a 9h a la mairie."},
            "channels": [Channel.SMS],
            **fields,
        }
        created = compose.create(session, **values)  # type: ignore[arg-type]
        sending.request_start(session, created)
        session.commit()
        return created

    return make


def messages(session: Session, broadcast: Broadcast) -> list[OutboundMessage]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.broadcast_id == broadcast.id)
            .order_by(OutboundMessage.id)
        )
    )
