"""A citizen's data: what is held about a number, and erasing it on request.

Erasing removes the contact and everything that carries the number or the
citizen's own words in messages (inbound and outbound messages, consents,
subscriptions, conversation state). What the citizen gave the commune stays,
without the number: feedback tickets, questions and poll responses keep their
content and lose their link (their foreign keys are ON DELETE SET NULL).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis import Redis
from sqlalchemy import delete, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot import conversation
from bot.broadcasts import counters
from bot.db import write_lock
from bot.models import (
    Commune,
    Consent,
    Contact,
    Feedback,
    InboundMessage,
    OutboundMessage,
    PollParticipant,
    Question,
    Subscription,
)
from bot.models.enums import Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DataSummary:
    phone: str
    language: str | None
    commune: str | None
    subscriptions: tuple[tuple[str, str], ...]  # (commune name, topic), active ones
    consents: int  # grants recorded in the ledger, withdrawn or not
    feedback_refs: tuple[str, ...]
    questions: int
    polls: int
    messages: int


def summary(session: Session, contact_id: int) -> DataSummary:
    contact = session.get(Contact, contact_id)
    assert contact is not None
    rows = session.execute(
        select(Commune.name, Subscription.topic)
        .join(Commune, Subscription.commune_id == Commune.id)
        .where(Subscription.contact_id == contact_id, Subscription.active.is_(True))
        .order_by(Subscription.id)
    )
    subscriptions = tuple((name, topic.value) for name, topic in rows)

    def count(column: InstrumentedAttribute[int | None]) -> int:
        return session.scalar(select(func.count()).where(column == contact_id)) or 0

    refs = tuple(
        session.scalars(
            select(Feedback.ref).where(Feedback.contact_id == contact_id).order_by(Feedback.id)
        )
    )
    return DataSummary(
        phone=contact.phone_e164,
        language=contact.language,
        commune=contact.commune.name if contact.commune else None,
        subscriptions=subscriptions,
        consents=count(Consent.contact_id),
        feedback_refs=refs,
        questions=count(Question.contact_id),
        polls=count(PollParticipant.contact_id),
        messages=count(InboundMessage.contact_id),
    )


def _uncount_broadcast_messages(session: Session, contact_id: int) -> None:
    """The contact's broadcast messages go with it: its broadcasts must stop counting them."""
    for broadcast_id, status, count in session.execute(
        select(OutboundMessage.broadcast_id, OutboundMessage.status, func.count())
        .where(OutboundMessage.contact_id == contact_id, OutboundMessage.broadcast_id.is_not(None))
        .group_by(OutboundMessage.broadcast_id, OutboundMessage.status)
    ):
        counters.record(session, broadcast_id, [(status, None, count)])


def erase_contact(session: Session, redis: Redis, contact_id: int) -> bool:
    """Delete the contact's personal data; False when there was no such contact."""
    with write_lock(session):
        contact = session.get(Contact, contact_id)
        if contact is None:
            return False
        phone = contact.phone_e164
        session.execute(delete(InboundMessage).where(InboundMessage.contact_id == contact_id))
        _uncount_broadcast_messages(session, contact_id)
        session.delete(contact)
        session.commit()
    for channel in (Channel.SMS, Channel.WHATSAPP):
        conversation.forget(redis, channel, str(contact_id))
    conversation.forget_ussd(redis, phone)
    log.info("contact erased on request", extra={"fields": {"phone": phone}})
    return True
