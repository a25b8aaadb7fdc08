"""Communes and their arrondissements and quartiers."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base
from bot.models.enums import AreaKind
from bot.models.types import Timestamps, enum_column


class Commune(Timestamps, Base):
    __tablename__ = "communes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    department: Mapped[str] = mapped_column(String(120))
    population: Mapped[int | None] = mapped_column(Integer)
    population_year: Mapped[int | None] = mapped_column(Integer)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Spellings citizens type ("calavi", "cotonu"), for matching.
    name_variants: Mapped[list[str]] = mapped_column(JSON, default=list)

    areas: Mapped[list[Area]] = relationship(back_populates="commune", cascade="all, delete-orphan")


class Area(Timestamps, Base):
    """An arrondissement, or a quartier inside one (parent)."""

    __tablename__ = "areas"
    __table_args__ = (UniqueConstraint("commune_id", "kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("communes.id", ondelete="CASCADE"))
    kind: Mapped[AreaKind] = mapped_column(enum_column(AreaKind, "area_kind"))
    name: Mapped[str] = mapped_column(String(120))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="CASCADE"))
    variants: Mapped[list[str]] = mapped_column(JSON, default=list)

    commune: Mapped[Commune] = relationship(back_populates="areas")
    parent: Mapped[Area | None] = relationship(remote_side=[id])
