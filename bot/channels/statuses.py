"""Applying delivery reports: status only moves forward; opt-outs are obeyed.

A report whose id we never recorded is kept for a while under its provider and
recipient: it may be for a message whose handover a crash or an unanswered
call left in doubt, and the sweeper (workers/sweeper.py) settles such a
message from it instead of sending it a second time.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from sqlalchemy import select

from bot import models
from bot.broadcasts import counters
from bot.broadcasts.sending import finish_if_done
from bot.channels.base import StatusUpdate
from bot.db import get_session
from bot.models.enums import MessageStatus, Provider
from bot.models.messaging import status_can_move
from bot.optout import opt_out, opt_out_phone
from bot.redis import get_redis

log = logging.getLogger(__name__)

UNMATCHED_REPORT_SECONDS = 7200
"""How long a report with an unknown id is kept: beyond the sweeper's in-doubt wait."""


def apply(updates: Sequence[StatusUpdate]) -> int:
    """Record the updates; return how many changed a message. Unknown ids are ignored."""
    session = get_session()
    changed = 0
    moved_on: set[int] = set()
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
            _remember_unmatched(update)
            continue
        if status_can_move(row.status, update.status):
            if row.broadcast_id is not None:
                counters.record(session, row.broadcast_id, [(row.status, update.status, 1)])
                moved_on.add(row.broadcast_id)
            row.status = update.status
            row.error_code = update.error_code or row.error_code
            changed += 1
    session.commit()
    for broadcast_id in moved_on:
        finish_if_done(session, broadcast_id)
    return changed


def _key(provider: Provider, recipient: str) -> str:
    return f"report:unmatched:{provider.value}:{recipient}"


def _remember_unmatched(update: StatusUpdate) -> None:
    log.info(
        "status for an unknown message kept for the sweeper",
        extra={"fields": {"provider": update.provider, "external_id": update.external_id}},
    )
    if update.recipient is None:
        return
    kept = {"id": update.external_id, "status": update.status.value, "code": update.error_code}
    get_redis().set(
        _key(update.provider, update.recipient), json.dumps(kept), ex=UNMATCHED_REPORT_SECONDS
    )


def unmatched_report(provider: Provider, recipient: str) -> StatusUpdate | None:
    """The latest report for `recipient` that matched no message, if one came lately."""
    raw = get_redis().get(_key(provider, recipient))
    if raw is None:
        return None
    kept = json.loads(raw)
    return StatusUpdate(
        provider=provider,
        external_id=kept["id"],
        status=MessageStatus(kept["status"]),
        error_code=kept["code"],
        recipient=recipient,
    )


def forget_unmatched(provider: Provider, recipient: str) -> None:
    get_redis().delete(_key(provider, recipient))
