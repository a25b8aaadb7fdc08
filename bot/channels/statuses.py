"""Applying delivery reports: status only moves forward; opt-outs are obeyed.

What reports say about messages whose handover is in doubt is kept for the
sweeper (bot/channels/report_memory.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from bot import models
from bot.broadcasts import counters
from bot.broadcasts.sending import finish_if_done
from bot.channels import report_memory
from bot.channels.base import StatusUpdate
from bot.db import get_session
from bot.models.enums import Provider
from bot.models.messaging import status_can_move
from bot.optout import opt_out, opt_out_phone

log = logging.getLogger(__name__)


def apply(updates: Sequence[StatusUpdate]) -> int:
    """Record the updates; return how many changed a message. Unknown ids are ignored."""
    session = get_session()
    changed = 0
    moved_on: set[int] = set()
    latest: dict[Provider, datetime] = {}
    for update in updates:
        row = session.scalar(
            select(models.OutboundMessage).where(
                models.OutboundMessage.provider == update.provider,
                models.OutboundMessage.external_id == update.external_id,
            )
        )
        reason = f"provider {update.error_code}"
        if update.opted_out and row is not None:
            opt_out(session, row.contact, row.channel, reason=reason)
        elif update.opted_out and update.opted_out_phone:
            opt_out_phone(session, update.opted_out_phone, None, reason=reason)
        if row is None:
            log.info(
                "status for an unknown message kept for the sweeper",
                extra={"fields": {"provider": update.provider, "external_id": update.external_id}},
            )
            report_memory.remember_unmatched(update)
            continue
        if row.sent_at is not None:
            latest[row.provider] = max(row.sent_at, latest.get(row.provider, row.sent_at))
        if status_can_move(row.status, update.status):
            if row.broadcast_id is not None:
                counters.record(session, row.broadcast_id, [(row.status, update.status, 1)])
                # Only a message leaving the queued bucket can finish its broadcast.
                if counters.BUCKETS[row.status] == "queued":
                    moved_on.add(row.broadcast_id)
            row.status = update.status
            row.error_code = update.error_code or row.error_code
            changed += 1
    session.commit()
    for provider, sent_at in latest.items():
        report_memory.raise_watermark(provider, sent_at)
    for broadcast_id in moved_on:
        finish_if_done(session, broadcast_id)
    return changed
