"""Creating outbound message rows: the one place a text is fitted to its channel."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.gsm import segment_info, to_gsm7
from bot.models import Contact, OutboundMessage
from bot.models.enums import Channel, MessageStatus, Provider


def new_message(
    session: Session,
    contact: Contact,
    channel: Channel,
    provider: Provider,
    text: str,
    broadcast_id: int | None = None,
) -> OutboundMessage:
    # Any character outside GSM-7 would switch the whole SMS to UCS-2: 70
    # characters a segment instead of 160, more than twice the price.
    if channel is Channel.SMS:
        text = to_gsm7(text)
    row = OutboundMessage(
        contact_id=contact.id,
        channel=channel,
        provider=provider,
        text=text,
        broadcast_id=broadcast_id,
        status=MessageStatus.QUEUED,
        segments=segment_info(text).segments if channel is Channel.SMS else 1,
    )
    session.add(row)
    session.flush()
    return row
