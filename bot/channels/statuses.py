"""Applying delivery reports: status only moves forward; opt-outs are obeyed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select

from bot import models
from bot.channels.base import StatusUpdate
from bot.db import get_session
from bot.models.messaging import status_can_move
from bot.optout import opt_out, opt_out_phone

log = logging.getLogger(__name__)


def apply(updates: Sequence[StatusUpdate]) -> int:
    """Record the updates; return how many changed a message. Unknown ids are ignored."""
    session = get_session()
    changed = 0
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
                "status for an unknown message ignored",
                extra={"fields": {"provider": update.provider, "external_id": update.external_id}},
            )
            continue
        if status_can_move(row.status, update.status):
            row.status = update.status
            row.error_code = update.error_code or row.error_code
            changed += 1
    session.commit()
    return changed
