"""Recorded readings of content, per language, for citizens who listen instead of reading.

A voice call plays the recording of a content item in the caller's language
where one exists, and reads the text in French otherwise (DESIGN.md §6). The
audio is kept in the database, not on a local disk, so every web process of a
deployment can serve it.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base
from bot.models.types import Timestamps


class ContentAudio(Timestamps, Base):
    __tablename__ = "content_audio"
    __table_args__ = (UniqueConstraint("kind", "item_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(
        ForeignKey("communes.id", ondelete="CASCADE"), index=True
    )
    # A content kind as the dashboard names it ("documents", "events", ...) and
    # the row's id there: one recording per item and language.
    kind: Mapped[str] = mapped_column(String(32))
    item_id: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    content_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size_bytes: Mapped[int] = mapped_column(Integer)
    # Served as the ETag, and tells a re-upload of the same file.
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
