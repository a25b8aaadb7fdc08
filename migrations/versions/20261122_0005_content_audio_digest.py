"""Recorded readings of content per language, the weekly digest topic, files on WhatsApp,
replies stored once

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 08:34:51.281040
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.types

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOPICS = ("sessions", "reddition", "budget", "urgences", "all")


def _topics(table: str, name: str, values: tuple[str, ...]) -> None:
    """Replace the CHECK constraint that lists a topic column's values."""
    allowed = ", ".join(f"'{value}'" for value in values)
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(name, type_="check")
        batch_op.create_check_constraint(name, f"topic IN ({allowed})")


def upgrade() -> None:
    op.create_table(
        "content_audio",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            bot.models.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            bot.models.types.UTCDateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["commune_id"],
            ["communes.id"],
            name=op.f("fk_content_audio_commune_id_communes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["staff_users.id"],
            name=op.f("fk_content_audio_uploaded_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_audio")),
        sa.UniqueConstraint(
            "kind", "item_id", "language", name=op.f("uq_content_audio_kind_item_id_language")
        ),
    )
    with op.batch_alter_table("content_audio", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_content_audio_commune_id"), ["commune_id"], unique=False
        )

    _topics("subscriptions", "subscription_topic", (*TOPICS, "digest"))
    _topics("broadcasts", "broadcast_topic", (*TOPICS, "digest"))
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media", sa.JSON(), nullable=True))
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("answered_at", bot.models.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_column("answered_at")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("media")
    op.execute("DELETE FROM subscriptions WHERE topic = 'digest'")
    _topics("subscriptions", "subscription_topic", TOPICS)
    _topics("broadcasts", "broadcast_topic", TOPICS)
    with op.batch_alter_table("content_audio", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_content_audio_commune_id"))

    op.drop_table("content_audio")
