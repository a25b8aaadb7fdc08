"""The citizen's voice: feedback tickets, questions for sessions, polls."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.models.enums import Channel, FeedbackCategory, FeedbackStatus, PollStatus, Satisfaction
from bot.models.types import Timestamps, UTCDateTime, enum_column, utcnow


class Feedback(Timestamps, Base):
    """A report or opinion, followed by the citizen with its public reference."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "feedback_channel"))
    category: Mapped[FeedbackCategory] = mapped_column(
        enum_column(FeedbackCategory, "feedback_category")
    )
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    quartier_text: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    media: Mapped[list[dict]] = mapped_column(JSON, default=list)
    location: Mapped[dict | None] = mapped_column(JSON)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    status: Mapped[FeedbackStatus] = mapped_column(
        enum_column(FeedbackStatus, "feedback_status"), default=FeedbackStatus.RECEIVED
    )
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("feedback.id", ondelete="SET NULL")
    )
    assigned_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        enum_column(Satisfaction, "feedback_satisfaction")
    )
    # The conversation's draft that filed it: the same draft submitted twice at
    # once (two workers, a repeated message) is one ticket, by this unique key.
    draft_id: Mapped[str | None] = mapped_column(String(32), unique=True)

    updates: Mapped[list[FeedbackUpdate]] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", order_by="FeedbackUpdate.id"
    )


class FeedbackUpdate(Base):
    """One step of a ticket's life, with the note the citizen is sent."""

    __tablename__ = "feedback_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        ForeignKey("feedback.id", ondelete="CASCADE"), index=True
    )
    old_status: Mapped[FeedbackStatus | None] = mapped_column(
        enum_column(FeedbackStatus, "feedback_update_old_status")
    )
    new_status: Mapped[FeedbackStatus] = mapped_column(
        enum_column(FeedbackStatus, "feedback_update_new_status")
    )
    public_note: Mapped[str | None] = mapped_column(Text)
    staff_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    feedback: Mapped[Feedback] = relationship(back_populates="updates")


class Question(Timestamps, Base):
    """A citizen's question for an accountability or council session."""

    __tablename__ = "questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "question_channel"))
    text: Mapped[str] = mapped_column(Text)
    # Similar questions share a cluster id: the id of the group's first question.
    # `similarity` is this question's score (0-100) against that first one, for
    # explaining the grouping (bot/participation/questions.py).
    cluster_id: Mapped[int | None] = mapped_column(Integer, index=True)
    similarity: Mapped[int | None] = mapped_column(Integer)
    draft_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Poll(Timestamps, Base):
    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    question: Mapped[str] = mapped_column(Text)
    status: Mapped[PollStatus] = mapped_column(
        enum_column(PollStatus, "poll_status"), default=PollStatus.DRAFT
    )
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Touches political opinion: responses carry no contact, only a keyed hash.
    political: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    options: Mapped[list[PollOption]] = relationship(
        back_populates="poll", cascade="all, delete-orphan", order_by="PollOption.position"
    )


class PollOption(Base):
    __tablename__ = "poll_options"
    __table_args__ = (UniqueConstraint("poll_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))

    poll: Mapped[Poll] = relationship(back_populates="options")


class PollResponse(Base):
    """One answer per voter per poll: answering again changes the choice.

    `voter_key` is a keyed hash of poll and contact (bot/participation/polls.py),
    unique per poll. `contact_id` is kept only for polls that are not political,
    so a political poll's responses cannot be linked to a number from the data.
    """

    __tablename__ = "poll_responses"
    __table_args__ = (UniqueConstraint("poll_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    option_id: Mapped[int] = mapped_column(ForeignKey("poll_options.id", ondelete="CASCADE"))
    voter_key: Mapped[str] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id", ondelete="SET NULL"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "poll_response_channel"))
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PollParticipant(Base):
    """Who answered a poll (not what): the results go back to them."""

    __tablename__ = "poll_participants"
    __table_args__ = (UniqueConstraint("poll_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("polls.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "poll_participant_channel"))
    results_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
