"""Who receives a broadcast, on which channel, in which language.

Subscribers of the commune to the broadcast's topic or to `all`, with an
active subscription, minus contacts who opted out; the weekly digest
(bot/participation/digest.py) goes to its own subscribers only. A USSD or
voice subscriber gets SMS (the session is over by the time an alert goes). The alerts that
correct an earlier one (an event moved or cancelled) go to those the event's
earlier alerts reached instead, on the channel that reached them.

Each query is a SELECT the sending code turns into one INSERT ... SELECT per
channel and language: 100,000 recipients never pass through Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from bot.models import Broadcast, Contact, OutboundMessage, Subscription
from bot.models.enums import BroadcastKind, Channel, MessageStatus, Topic
from bot.models.types import utcnow

SOURCE_CHANNELS = {
    Channel.SMS: (Channel.SMS, Channel.USSD, Channel.VOICE),
    Channel.WHATSAPP: (Channel.WHATSAPP,),
}
"""The subscription channels each broadcast channel serves."""

WHATSAPP_WINDOW = timedelta(hours=24)
"""Free-form WhatsApp messages only within 24 h of the citizen's last message."""

CORRECTIONS = (BroadcastKind.CHANGE, BroadcastKind.CANCELLATION)
HANDED_OVER = (
    MessageStatus.SENDING,
    MessageStatus.SENT,
    MessageStatus.DELIVERED,
    MessageStatus.READ,
)


@dataclass(frozen=True)
class Group:
    """Recipients of one channel who get the text of one language."""

    channel: Channel
    language: str
    # Contacts whose language has no text of its own get the default language's.
    fallback: bool
    other_languages: tuple[str, ...]

    def condition(self) -> ColumnElement[bool]:
        if not self.fallback:
            return Contact.language == self.language
        if not self.other_languages:
            return true()
        return or_(Contact.language.is_(None), Contact.language.not_in(self.other_languages))


def groups(broadcast: Broadcast, default_language: str) -> Iterator[Group]:
    languages = tuple(sorted(broadcast.text_by_language))
    default = default_language if default_language in languages else languages[0]
    others = tuple(language for language in languages if language != default)
    for name in broadcast.channels:
        channel = Channel(name)
        for language in others:
            yield Group(channel, language, False, others)
        yield Group(channel, default, True, others)


def recipients(
    broadcast: Broadcast, group: Group, now: datetime | None = None
) -> Select[tuple[int]]:
    """The contact ids of one group, each once.

    A contact subscribed on both SMS and WhatsApp gets the broadcast once: on
    WhatsApp when it can reach them there (a template, or a message from them
    in the last 24 h), else by SMS.
    """
    query = _candidates(broadcast, group)
    if group.channel is Channel.SMS and Channel.WHATSAPP.value in broadcast.channels:
        whatsapp = _candidates(broadcast, replace(group, channel=Channel.WHATSAPP))
        if not broadcast.whatsapp_template:
            opens = (now or utcnow()) - WHATSAPP_WINDOW
            whatsapp = whatsapp.where(Contact.whatsapp_last_inbound_at >= opens)
        query = query.where(Contact.id.not_in(whatsapp.with_only_columns(Contact.id)))
    return query


def _candidates(broadcast: Broadcast, group: Group) -> Select[tuple[int]]:
    if broadcast.kind in CORRECTIONS:
        earlier = (
            select(OutboundMessage.contact_id)
            .join(Broadcast, Broadcast.id == OutboundMessage.broadcast_id)
            .where(
                Broadcast.event_id == broadcast.event_id,
                Broadcast.kind.not_in(CORRECTIONS),
                OutboundMessage.channel == group.channel,
                OutboundMessage.status.in_(HANDED_OVER),
            )
        )
        query = select(Contact.id).where(Contact.id.in_(earlier))
    else:
        query = (
            select(Contact.id)
            .join(Subscription, Subscription.contact_id == Contact.id)
            .where(
                Subscription.commune_id == broadcast.commune_id,
                Subscription.active.is_(True),
                Subscription.channel.in_(SOURCE_CHANNELS[group.channel]),
            )
            .distinct()
        )
        if broadcast.topic is Topic.DIGEST:
            # The digest is its own subscription, never part of "all".
            query = query.where(Subscription.topic == Topic.DIGEST)
        elif broadcast.topic is Topic.ALL:
            query = query.where(Subscription.topic != Topic.DIGEST)
        else:
            query = query.where(Subscription.topic.in_((broadcast.topic, Topic.ALL)))
    return query.where(Contact.opted_out_at.is_(None), group.condition())


def size(session: Session, broadcast: Broadcast, group: Group, now: datetime | None = None) -> int:
    return _count(session, recipients(broadcast, group, now))


def outside_whatsapp_window(
    session: Session, broadcast: Broadcast, group: Group, since: datetime
) -> int:
    """WhatsApp recipients who have not written within 24 h: a template must reach them."""
    last = Contact.whatsapp_last_inbound_at
    return _count(session, recipients(broadcast, group).where(or_(last.is_(None), last < since)))


def _count(session: Session, query: Select[tuple[int]]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery()))
