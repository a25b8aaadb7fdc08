"""What a simulated phone has received: the messages handed over for its number.

A message shows once its provider took it (sent, delivered, read): a queued
row has not reached any phone yet. Rows are not handed over in id order (a
broadcast's rows are inserted before a later reply is sent), so the cursor a
poll returns stops before the first row still waiting, and the page drops the
rows it already shows by id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import DEFAULT_LANGUAGE, resolve_language
from bot.models import Contact, OutboundMessage
from bot.models.enums import MessageStatus

FILE_ICON = "📎 "
"""Starts the line that shows a WhatsApp file's link under its caption (the page is no phone)."""

PAGE_SIZE = 100
"""Rows read per poll; the page asks again at once when a poll came back full."""

RECEIVED = frozenset({MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ})
WAITING = frozenset({MessageStatus.QUEUED, MessageStatus.SENDING})


@dataclass(frozen=True)
class Received:
    id: int
    channel: str
    text: str
    broadcast: bool
    at: str

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "channel": self.channel,
            "text": self.text,
            "broadcast": self.broadcast,
            "at": self.at,
        }


@dataclass(frozen=True)
class Poll:
    messages: tuple[Received, ...]
    cursor: int
    full: bool


def language_for(session: Session, phone: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The language the service answers `phone` in: the contact's choice, else `default`."""
    chosen = session.scalar(select(Contact.language).where(Contact.phone_e164 == phone))
    return resolve_language(chosen or default)


def shown(text: str, media: dict | None) -> str:
    """A message as the page shows it: its text, and a file's link under its caption."""
    if media is None:
        return text
    return f"{text}\n{FILE_ICON}{media['url']}" if text else FILE_ICON + media["url"]


def received_since(session: Session, phone: str, after: int) -> Poll:
    """Messages to `phone` handed over, among the rows with an id above `after`."""
    rows = session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.channel,
            OutboundMessage.text,
            OutboundMessage.media,
            OutboundMessage.broadcast_id,
            OutboundMessage.status,
            OutboundMessage.sent_at,
            OutboundMessage.created_at,
        )
        .join(Contact, Contact.id == OutboundMessage.contact_id)
        .where(Contact.phone_e164 == phone, OutboundMessage.id > after)
        .order_by(OutboundMessage.id)
        .limit(PAGE_SIZE)
    ).all()
    cursor = after
    waiting_seen = False
    messages = []
    for row in rows:
        if row.status in WAITING:
            waiting_seen = True
        elif not waiting_seen:
            cursor = row.id
        if row.status in RECEIVED:
            moment = row.sent_at or row.created_at
            messages.append(
                Received(
                    id=row.id,
                    channel=row.channel.value,
                    text=shown(row.text, row.media),
                    broadcast=row.broadcast_id is not None,
                    at=moment.isoformat() if moment else "",
                )
            )
    return Poll(tuple(messages), cursor, full=len(rows) == PAGE_SIZE and not waiting_seen)
