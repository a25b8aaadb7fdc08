"""Creating outbound message rows: the one place a text is fitted to its channel.

Rows are sent by `workers.send.send_outbound`, queued only once the row is
committed (`send_after_commit`): a job must never look for a row that a
rollback took back, nor a committed row wait for a job that was never queued.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy.orm import Session

from bot.channels.base import Media
from bot.channels.registry import outbound_provider
from bot.db import after_commit
from bot.gsm import segment_info, to_gsm7
from bot.models import Contact, OutboundMessage
from bot.models.enums import Channel, MessageStatus, Provider
from bot.redis import get_queue

SEND_JOB = "workers.send.send_outbound"


def new_message(
    session: Session,
    contact: Contact,
    channel: Channel,
    provider: Provider,
    text: str,
    broadcast_id: int | None = None,
    media: Media | None = None,
) -> OutboundMessage:
    """A queued row: `text`, or on WhatsApp the file `media` with `text` as its caption."""
    if media is not None and channel is not Channel.WHATSAPP:
        raise ValueError(f"a file cannot go by {channel.value}")
    # Any character outside GSM-7 would switch the whole SMS to UCS-2: 70
    # characters a segment instead of 160, more than twice the price.
    if channel is Channel.SMS:
        text = to_gsm7(text)
    row = OutboundMessage(
        contact_id=contact.id,
        channel=channel,
        provider=provider,
        text=text,
        media=None if media is None else {"url": media.url, "content_type": media.content_type},
        broadcast_id=broadcast_id,
        status=MessageStatus.QUEUED,
        segments=segment_info(text).segments if channel is Channel.SMS else 1,
    )
    session.add(row)
    session.flush()
    return row


def send_after_commit(session: Session, row: OutboundMessage, queue: str = "default") -> None:
    """Send `row` once the session commits; `high` for what a citizen is waiting for."""
    after_commit(session, partial(enqueue_send, row.id, queue))


def enqueue_send(row_id: int, queue: str = "default") -> None:
    get_queue(queue).enqueue(SEND_JOB, row_id)


def reply_channel(channel: Channel) -> Channel:
    """Where a later message goes: a USSD or voice session is over by then, SMS is not."""
    return Channel.SMS if channel in (Channel.USSD, Channel.VOICE) else channel


def notify(session: Session, contact_id: int | None, channel: Channel, text: str) -> bool:
    """Queue `text` to a contact on the channel they used; False when it cannot go.

    A contact erased or opted out (STOP) gets nothing: STOP promised no more
    messages, and SUIVI still answers a citizen who asks.
    """
    contact = session.get(Contact, contact_id) if contact_id is not None else None
    if contact is None or contact.opted_out_at is not None:
        return False
    channel = reply_channel(channel)
    row = new_message(session, contact, channel, outbound_provider(channel), text)
    send_after_commit(session, row)
    return True
