"""The sweeper: messages and broadcasts a crash or a lost job left behind.

Every worker runs it once a minute (one worker at a time, under a Redis lock),
from RQ's maintenance loop (workers/worker.py); `flask broadcast sweep` runs it
by hand. It survives a Redis that lost its data, since it reads the database.

1. Broadcasts still `scheduled` well after their time (their start job was
   lost): the start job is queued again.
2. Rows left `sending` for longer than `SWEEP_IN_DOUBT_SECONDS`: a worker
   died during the call, or the call got no answer. The provider may have
   taken them. A delivery report that named the recipient but an id we never
   recorded, and came after the row was claimed, settles the row as the
   provider saw it. Without one, the row is queued again only once reports
   have come back for messages sent `REPORT_ORDER_MARGIN` after it (the
   watermark, bot/channels/report_memory.py): then its report would have
   come too, and the provider never had it. Reports that never come (none
   configured) leave it in doubt until `UNMATCHED_REPORT_SECONDS`, when it is
   failed as `in_doubt`, for staff to see. Never resent blindly: this is
   what keeps a worker killed mid-batch from sending anyone a second message.
   A call in doubt ("Appelez-moi", workers/voice.py) is failed at once: no
   report settles a call, and the sweeper must not take an SMS report for it.
3. Queued rows whose job is gone: a broadcast with queued rows and no batch
   alive lately (`broadcast_alive`) gets its batches queued again; a single
   message queued for longer than `SWEEP_STALE_SECONDS` is queued again.
   A second job for a row is harmless: a row is claimed by one UPDATE.
4. Broadcasts with nothing left to send are marked done.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Row, select, update
from sqlalchemy.orm import Session

from bot.broadcasts import counters, sending
from bot.broadcasts.quiet import QuietHours
from bot.channels import report_memory
from bot.channels.base import StatusUpdate
from bot.db import get_session
from bot.models import Broadcast, Contact, OutboundMessage
from bot.models.enums import BroadcastStatus, Channel, MessageStatus
from bot.models.messaging import status_can_move
from bot.models.types import utcnow
from bot.outbox import enqueue_send
from workers.context import job_context

log = logging.getLogger(__name__)

SWEEP_LIMIT = 10_000
"""Rows settled per sweep; the next sweep takes the rest."""

RESENT = "in_doubt_resent"
GAVE_UP = "in_doubt"

REPORT_ORDER_MARGIN = timedelta(seconds=10)
"""How far out of send order reports may come back before a missing one counts as never sent.

Short enough that a broadcast sent in a few seconds still has later messages
to vouch for its earlier ones. A handset switched off delays its report past
any margin: a message in doubt to it may then arrive twice. That takes a
crash during the very call that carried it; the alternative, never resending,
loses every message of a call that never left.
"""


@dataclass
class Swept:
    restarted: int = 0  # broadcasts whose start job was queued again
    adopted: int = 0  # in-doubt rows settled from a delivery report
    resent: int = 0  # in-doubt rows the provider never had: queued again
    failed: int = 0  # in-doubt rows no report ever settled: failed, not resent
    requeued: int = 0  # jobs queued again for rows whose job was lost
    finished: int = 0  # broadcasts marked done

    def __str__(self) -> str:
        return ", ".join(f"{field.name} {getattr(self, field.name)}" for field in fields(self))


def sweep_job() -> str:
    with job_context():
        return str(sweep(get_session()))


def sweep(session: Session, now: datetime | None = None) -> Swept:
    config = current_app.config
    now = now or utcnow()
    stale = now - timedelta(seconds=config["SWEEP_STALE_SECONDS"])
    swept = Swept()
    swept.restarted = _restart_overdue(session, stale)
    resent_broadcasts, resent_single = _settle_in_doubt(
        session, now, now - timedelta(seconds=config["SWEEP_IN_DOUBT_SECONDS"]), swept
    )
    quiet = QuietHours.from_config(config).contains(now)
    for broadcast_id in _orphaned_broadcasts(session, quiet) | resent_broadcasts:
        swept.requeued += sending.enqueue_batches(session, broadcast_id)
    stale_single = session.scalars(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.broadcast_id.is_(None),
            OutboundMessage.status == MessageStatus.QUEUED,
            OutboundMessage.updated_at < stale,
        )
        .limit(SWEEP_LIMIT)
    ).all()
    session.commit()
    for row_id in {*stale_single, *resent_single}:
        enqueue_send(row_id)
        swept.requeued += 1
    for broadcast_id in session.scalars(
        select(Broadcast.id).where(
            Broadcast.status == BroadcastStatus.SENDING, Broadcast.count_queued <= 0
        )
    ).all():
        swept.finished += sending.finish_if_done(session, broadcast_id)
    if any(getattr(swept, field.name) for field in fields(swept)):
        log.info("sweep", extra={"fields": {f.name: getattr(swept, f.name) for f in fields(swept)}})
    return swept


def _restart_overdue(session: Session, stale: datetime) -> int:
    overdue = session.execute(
        select(Broadcast.id, Broadcast.scheduled_at).where(
            Broadcast.status == BroadcastStatus.SCHEDULED, Broadcast.scheduled_at < stale
        )
    ).all()
    session.commit()
    for broadcast_id, when in overdue:
        sending.enqueue_start(broadcast_id, when)
    return len(overdue)


def _settle_in_doubt(
    session: Session, now: datetime, before: datetime, swept: Swept
) -> tuple[set[int], set[int]]:
    """Adopt the provider's report, or queue again, or give up; returns what was queued again."""
    rows = session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.provider,
            OutboundMessage.broadcast_id,
            OutboundMessage.updated_at,
            OutboundMessage.channel,
            Contact.phone_e164,
        )
        .join(Contact, Contact.id == OutboundMessage.contact_id)
        .where(OutboundMessage.status == MessageStatus.SENDING, OutboundMessage.updated_at < before)
        .order_by(OutboundMessage.id)
        .limit(SWEEP_LIMIT)
    ).all()
    marks = {provider: report_memory.watermark(provider) for provider in {r.provider for r in rows}}
    broadcasts: set[int] = set()
    single: set[int] = set()
    for row in rows:
        if row.channel == Channel.VOICE:
            # No report ever settles a call, and one placed again would ring
            # the citizen twice: a call in doubt is failed for staff to see.
            _move(session, row, MessageStatus.FAILED, GAVE_UP)
            swept.failed += 1
            continue
        report = report_memory.unmatched_report(row.provider, row.phone_e164, row.updated_at)
        if report is not None:
            _adopt(session, row, report)
            swept.adopted += 1
            continue
        mark = marks[row.provider]
        if mark is not None and mark >= row.updated_at + REPORT_ORDER_MARGIN:
            _move(session, row, MessageStatus.QUEUED, RESENT)
            (broadcasts if row.broadcast_id is not None else single).add(row.broadcast_id or row.id)
            swept.resent += 1
        elif row.updated_at < now - timedelta(seconds=report_memory.UNMATCHED_REPORT_SECONDS):
            _move(session, row, MessageStatus.FAILED, GAVE_UP)
            swept.failed += 1
    session.commit()
    return broadcasts, single


def _adopt(session: Session, row: Row[Any], report: StatusUpdate) -> None:
    new = report.status if status_can_move(MessageStatus.SENDING, report.status) else None
    values: dict[str, Any] = {"external_id": report.external_id, "error_code": report.error_code}
    if new is not None:
        values["status"] = new
    session.execute(update(OutboundMessage).where(OutboundMessage.id == row.id).values(values))
    report_memory.forget_unmatched(row.provider, row.phone_e164)
    if row.broadcast_id is not None and new is not None:
        counters.record(session, row.broadcast_id, [(MessageStatus.SENDING, new, 1)])


def _move(session: Session, row: Row[Any], status: MessageStatus, code: str) -> None:
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row.id, OutboundMessage.status == MessageStatus.SENDING)
        .values(status=status, error_code=code)
    )
    if row.broadcast_id is not None:
        counters.record(session, row.broadcast_id, [(MessageStatus.SENDING, status, 1)])


def _orphaned_broadcasts(session: Session, quiet: bool) -> set[int]:
    """Sending broadcasts with queued rows and no batch seen alive lately."""
    query = select(Broadcast.id).where(
        Broadcast.status == BroadcastStatus.SENDING, Broadcast.count_queued > 0
    )
    if quiet:
        query = query.where(Broadcast.urgent.is_(True))
    candidates = session.scalars(query).all()
    session.commit()
    return {broadcast_id for broadcast_id in candidates if not sending.is_alive(broadcast_id)}
