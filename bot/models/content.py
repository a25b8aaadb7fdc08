"""Published commune information: budgets, documents, projects, contracts,
the mayor's agenda, council and accountability sessions, good practices.

Every table carries `is_sample`: content shipped as an example must never be
presented as a commune's real figures. `content_key` is the stable key of a row
loaded from `bot/content/` files, so loading twice updates instead of
duplicating; rows created by staff have none.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.models.enums import (
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    ContractStatus,
    DocumentType,
    EventStatus,
    EventType,
    ProcurementMethod,
    ProjectStatus,
)
from bot.models.places import Area, Commune
from bot.models.types import Timestamps, UTCDateTime, enum_column


def _commune_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("communes.id", ondelete="CASCADE"), index=True)


def _sample_flag() -> Mapped[bool]:
    return mapped_column(Boolean, default=False, server_default=false())


class Document(Timestamps, Base):
    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("commune_id", "content_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    content_key: Mapped[str | None] = mapped_column(String(120))
    type: Mapped[DocumentType] = mapped_column(enum_column(DocumentType, "document_type"))
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(500))
    summary: Mapped[str | None] = mapped_column(Text)
    published_on: Mapped[date | None] = mapped_column(Date)
    is_sample: Mapped[bool] = _sample_flag()

    commune: Mapped[Commune] = relationship()


class BudgetLine(Timestamps, Base):
    __tablename__ = "budget_lines"
    __table_args__ = (
        UniqueConstraint("commune_id", "fiscal_year", "phase", "direction", "section", "sector"),
        CheckConstraint("amount_xof >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    fiscal_year: Mapped[int] = mapped_column(Integer)
    phase: Mapped[BudgetPhase] = mapped_column(enum_column(BudgetPhase, "budget_phase"))
    direction: Mapped[BudgetDirection] = mapped_column(
        enum_column(BudgetDirection, "budget_direction")
    )
    section: Mapped[BudgetSection] = mapped_column(enum_column(BudgetSection, "budget_section"))
    sector: Mapped[str] = mapped_column(String(120))
    amount_xof: Mapped[int] = mapped_column(BigInteger)
    is_sample: Mapped[bool] = _sample_flag()


class Project(Timestamps, Base):
    """An item of the annual work plan (PTA)."""

    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("commune_id", "content_key"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
        CheckConstraint("budget_xof >= 0", name="budget_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    content_key: Mapped[str | None] = mapped_column(String(120))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(120))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    status: Mapped[ProjectStatus] = mapped_column(enum_column(ProjectStatus, "project_status"))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    budget_xof: Mapped[int] = mapped_column(BigInteger)
    is_sample: Mapped[bool] = _sample_flag()

    area: Mapped[Area | None] = relationship()


class Contract(Timestamps, Base):
    """A contract awarded, as the OCDS subset Communes+ published."""

    __tablename__ = "contracts"
    __table_args__ = (CheckConstraint("amount_xof >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    ocid: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    method: Mapped[ProcurementMethod] = mapped_column(
        enum_column(ProcurementMethod, "procurement_method")
    )
    supplier: Mapped[str] = mapped_column(String(200))
    amount_xof: Mapped[int] = mapped_column(BigInteger)
    date_signed: Mapped[date | None] = mapped_column(Date)
    status: Mapped[ContractStatus] = mapped_column(enum_column(ContractStatus, "contract_status"))
    is_sample: Mapped[bool] = _sample_flag()


class AgendaItem(Timestamps, Base):
    """An entry of the mayor's public agenda."""

    __tablename__ = "agenda_items"
    __table_args__ = (UniqueConstraint("commune_id", "content_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    content_key: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    is_sample: Mapped[bool] = _sample_flag()


class Event(Timestamps, Base):
    """A council session, an accountability session or a public hearing."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("commune_id", "content_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    content_key: Mapped[str | None] = mapped_column(String(120))
    type: Mapped[EventType] = mapped_column(enum_column(EventType, "event_type"))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    place: Mapped[str | None] = mapped_column(String(300))
    follow_live: Mapped[str | None] = mapped_column(Text)
    agenda: Mapped[str | None] = mapped_column(Text)
    status: Mapped[EventStatus] = mapped_column(enum_column(EventStatus, "event_status"))
    summary: Mapped[str | None] = mapped_column(Text)
    accepts_questions: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_sample: Mapped[bool] = _sample_flag()

    commune: Mapped[Commune] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="event", cascade="all, delete-orphan", order_by="Decision.number"
    )


class Decision(Timestamps, Base):
    """A deliberation adopted during a session."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("event_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    is_sample: Mapped[bool] = _sample_flag()

    event: Mapped[Event] = relationship(back_populates="decisions")


class GoodPractice(Timestamps, Base):
    __tablename__ = "good_practices"
    __table_args__ = (UniqueConstraint("commune_id", "content_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = _commune_fk()
    content_key: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str | None] = mapped_column(String(120))
    year: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    is_sample: Mapped[bool] = _sample_flag()
