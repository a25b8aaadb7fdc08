"""Citizens who write to the service, what they agreed to, what they follow."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.models.enums import Channel, Topic
from bot.models.places import Area, Commune
from bot.models.types import Timestamps, UTCDateTime, enum_column, utcnow


class Contact(Timestamps, Base):
    """One phone number (or WhatsApp id) and what we know of its owner's wishes."""

    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    # E.164, or a WhatsApp id kept as given when it is not a phone number.
    phone_e164: Mapped[str] = mapped_column(String(32), unique=True)
    # Unknown until the citizen chooses; replies then use DEFAULT_LANGUAGE.
    language: Mapped[str | None] = mapped_column(String(8))
    preferred_channel: Mapped[Channel | None] = mapped_column(
        enum_column(Channel, "contact_channel")
    )
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("communes.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    whatsapp_last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    commune: Mapped[Commune | None] = relationship()
    area: Mapped[Area | None] = relationship()
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="contact", cascade="all, delete-orphan"
    )


class Consent(Base):
    """A ledger row: granting and withdrawing are recorded, never overwritten.

    A withdrawal sets `withdrawn_at` on the open row; a new grant is a new row,
    so the history of what the citizen agreed to, in which wording, stays whole.
    """

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_contact_purpose", "contact_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(60))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "consent_channel"))
    wording_version: Mapped[str] = mapped_column(String(40))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Subscription(Timestamps, Base):
    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("contact_id", "commune_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    topic: Mapped[Topic] = mapped_column(enum_column(Topic, "subscription_topic"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "subscription_channel"))
    active: Mapped[bool] = mapped_column(default=True)

    contact: Mapped[Contact] = relationship(back_populates="subscriptions")
