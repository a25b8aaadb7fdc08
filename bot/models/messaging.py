"""Messages in and out, and broadcasts to subscribers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.models.enums import (
    BroadcastKind,
    BroadcastStatus,
    Channel,
    MessageStatus,
    Provider,
    Topic,
)
from bot.models.people import Contact
from bot.models.types import Timestamps, UTCDateTime, enum_column, utcnow

# Delivery statuses only move forward; `failed` and `skipped` are final too.
STATUS_RANK = {
    MessageStatus.QUEUED: 0,
    MessageStatus.SENDING: 1,
    MessageStatus.SENT: 2,
    MessageStatus.DELIVERED: 3,
    MessageStatus.READ: 4,
    MessageStatus.FAILED: 5,
    MessageStatus.SKIPPED: 5,
}


def status_can_move(current: MessageStatus, new: MessageStatus) -> bool:
    """True when `new` is news: a late `sent` never overwrites `delivered`."""
    if current in (MessageStatus.FAILED, MessageStatus.SKIPPED, MessageStatus.READ):
        return False
    return STATUS_RANK[new] > STATUS_RANK[current]


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    # Providers retry; the unique key makes storing a retry impossible.
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, "inbound_provider"))
    external_id: Mapped[str] = mapped_column(String(128))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "inbound_channel"))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # E.164, or a WhatsApp id as given when it is not a phone number.
    sender: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str | None] = mapped_column(String(64))
    # Africa's Talking premium SMS: the id a reply must quote to be free for the citizen.
    link_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    media: Mapped[list[dict]] = mapped_column(JSON, default=list)
    location: Mapped[dict | None] = mapped_column(JSON)
    session_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # Set in the transaction that stores the reply: a reply job run again after a
    # failure (workers/reply.py) answers a message once.
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Broadcast(Timestamps, Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[Topic] = mapped_column(enum_column(Topic, "broadcast_topic"))
    kind: Mapped[BroadcastKind] = mapped_column(
        enum_column(BroadcastKind, "broadcast_kind"),
        default=BroadcastKind.MANUAL,
        server_default=BroadcastKind.MANUAL.value,
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    # {"fr": "...", "en": "..."}: each contact gets their language, French otherwise.
    text_by_language: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    whatsapp_template: Mapped[str | None] = mapped_column(String(120))
    whatsapp_template_variables: Mapped[dict | None] = mapped_column(JSON)
    urgent: Mapped[bool] = mapped_column(default=False)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[BroadcastStatus] = mapped_column(
        enum_column(BroadcastStatus, "broadcast_status"), default=BroadcastStatus.DRAFT
    )
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Counters by delivery bucket (see bot/broadcasts/counters.py); `queued`
    # includes rows being handed over.
    count_queued: Mapped[int] = mapped_column(Integer, default=0)
    count_sent: Mapped[int] = mapped_column(Integer, default=0)
    count_delivered: Mapped[int] = mapped_column(Integer, default=0)
    count_failed: Mapped[int] = mapped_column(Integer, default=0)
    count_skipped: Mapped[int] = mapped_column(Integer, default=0)


class OutboundMessage(Timestamps, Base):
    __tablename__ = "outbound_messages"
    # A broadcast can never send twice to one person on one channel.
    __table_args__ = (
        UniqueConstraint("broadcast_id", "contact_id", "channel"),
        Index("ix_outbound_messages_provider_external_id", "provider", "external_id"),
        Index("ix_outbound_messages_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "outbound_channel"))
    provider: Mapped[Provider] = mapped_column(enum_column(Provider, "outbound_provider"))
    text: Mapped[str] = mapped_column(Text)
    # WhatsApp: a file sent with `text` as its caption, {"url", "content_type"}
    # (a budget chart, a document); the URL is absolute, as the provider fetches it.
    media: Mapped[dict | None] = mapped_column(JSON)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    status: Mapped[MessageStatus] = mapped_column(
        enum_column(MessageStatus, "outbound_status"), default=MessageStatus.QUEUED
    )
    external_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=1)
    cost: Mapped[int] = mapped_column(Integer, default=0)  # estimated, in XOF
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    contact: Mapped[Contact] = relationship()
    broadcast: Mapped[Broadcast | None] = relationship()
