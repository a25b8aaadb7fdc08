"""Storing the inbound messages the webhooks buffered in Redis."""

from __future__ import annotations

from bot.channels.inbound import ingest
from workers.context import job_context


def ingest_inbound() -> str:
    """RQ job (queue `high`): drain the inbound stream into the database."""
    with job_context():
        return f"stored {ingest()} new message(s)"
