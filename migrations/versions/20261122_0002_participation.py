"""Participation: drafts submitted once, poll voters by keyed hash, poll participants.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:32:34.299542
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.models.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "poll_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column(
            "channel",
            sa.Enum(
                "ussd",
                "sms",
                "whatsapp",
                "voice",
                name="poll_participant_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("results_sent_at", bot.models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_poll_participants_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_participants_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_participants")),
        sa.UniqueConstraint(
            "poll_id", "contact_id", name=op.f("uq_poll_participants_poll_id_contact_id")
        ),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_feedback_draft_id"), ["draft_id"])

    with op.batch_alter_table("poll_responses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voter_key", sa.String(length=64), nullable=True))
    # Responses stored before voter keys existed keep one key per contact.
    op.execute("UPDATE poll_responses SET voter_key = 'contact:' || contact_id")
    with op.batch_alter_table("poll_responses", schema=None) as batch_op:
        batch_op.alter_column("voter_key", existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column("contact_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.drop_constraint(batch_op.f("uq_poll_responses_poll_id_contact_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_poll_responses_poll_id_voter_key"), ["poll_id", "voter_key"]
        )
        batch_op.drop_constraint(
            batch_op.f("fk_poll_responses_contact_id_contacts"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_poll_responses_contact_id_contacts"),
            "contacts",
            ["contact_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("political", sa.Boolean(), server_default=sa.false(), nullable=False)
        )

    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("similarity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("draft_id", sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_questions_draft_id"), ["draft_id"])


def downgrade() -> None:
    with op.batch_alter_table("questions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_questions_draft_id"), type_="unique")
        batch_op.drop_column("draft_id")
        batch_op.drop_column("similarity")

    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("political")

    with op.batch_alter_table("poll_responses", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_poll_responses_contact_id_contacts"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_poll_responses_contact_id_contacts"),
            "contacts",
            ["contact_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(batch_op.f("uq_poll_responses_poll_id_voter_key"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_poll_responses_poll_id_contact_id"), ["poll_id", "contact_id"]
        )
        batch_op.alter_column("contact_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.drop_column("voter_key")

    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_feedback_draft_id"), type_="unique")
        batch_op.drop_column("draft_id")

    op.drop_table("poll_participants")
