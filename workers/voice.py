"""Placing a call a citizen asked for ("Appelez-moi", bot/voice_callback.py)."""

from __future__ import annotations

from bot import models
from bot.db import get_session
from bot.models.enums import MessageStatus
from workers.context import job_context
from workers.send import deliver


def place_call(message_id: int) -> str:
    """RQ job (queue `high`): place the call of one voice row, unless the contact
    opted out since asking; then sent like any message (workers/send.py)."""
    with job_context():
        session = get_session()
        row = session.get(models.OutboundMessage, message_id)
        if row is None:
            return "unknown call"
        if row.status is MessageStatus.QUEUED and row.contact.opted_out_at is not None:
            row.status = MessageStatus.SKIPPED
            session.commit()
            return "skipped: opted out"
        return deliver(message_id)
