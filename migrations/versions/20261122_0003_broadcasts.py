"""Broadcasts: what kind (manual or an event's alert), the event index, start and finish times

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 03:08:13.164882
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "manual",
                    "announcement",
                    "reminder",
                    "start",
                    "summary",
                    "change",
                    "cancellation",
                    name="broadcast_kind",
                    native_enum=False,
                    create_constraint=True,
                ),
                server_default="manual",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("started_at", bot.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("finished_at", bot.models.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_broadcasts_event_id"), ["event_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_event_id"))
        batch_op.drop_column("finished_at")
        batch_op.drop_column("started_at")
        # The enum's CHECK goes first: SQLite's copy of the table would keep it.
        batch_op.drop_constraint(batch_op.f("ck_broadcasts_broadcast_kind"), type_="check")
        batch_op.drop_column("kind")
