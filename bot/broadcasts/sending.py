"""Starting, pausing, resuming and cancelling a broadcast.

Staff ask for a broadcast to go (`request_start`): it becomes `scheduled` and
a start job is queued for its time. The job (`start`) inserts every message
row with one INSERT ... SELECT per channel and language; the unique key
`(broadcast_id, contact_id, channel)` makes a second start insert nothing.
Then one batch job per `BATCH_SIZE` rows goes to the `bulk` queue, queued in
one pipeline. The batches themselves run in workers/broadcast.py.

A job fired early (the broadcast was moved later) does nothing: the job queued
by the move will come. Quiet hours hold a start until the morning.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from types import ModuleType

from flask import current_app
from sqlalchemy import Insert, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.broadcasts import audience, counters
from bot.broadcasts.compose import message_text, price
from bot.broadcasts.quiet import QuietHours
from bot.channels.registry import outbound_provider
from bot.db import after_commit
from bot.models import Broadcast, OutboundMessage
from bot.models.enums import BroadcastStatus, MessageStatus
from bot.models.types import utcnow
from bot.redis import get_queue, get_redis

START_JOB = "workers.broadcast.start_broadcast"
BATCH_JOB = "workers.broadcast.send_batch"
BATCH_SIZE = 500
"""Rows per batch job: a few hundred; for Africa's Talking one bulk API call."""

_DIALECTS: dict[str, ModuleType] = {"postgresql": postgresql, "sqlite": sqlite}
_STARTABLE = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)
_COLUMNS = (
    "contact_id",
    "channel",
    "provider",
    "text",
    "broadcast_id",
    "status",
    "segments",
    "cost",
    "attempts",
)


class BroadcastStateError(ValueError):
    """The broadcast is not in a state that allows this (e.g. resuming a done one)."""


def request_start(session: Session, broadcast: Broadcast) -> None:
    """Send at `scheduled_at`, or now; the start job is queued once the caller commits."""
    if broadcast.status not in _STARTABLE:
        raise BroadcastStateError(f"broadcast {broadcast.id} is {broadcast.status.value}")
    broadcast.status = BroadcastStatus.SCHEDULED
    broadcast.scheduled_at = broadcast.scheduled_at or utcnow()
    after_commit(session, partial(enqueue_start, broadcast.id, broadcast.scheduled_at))


def enqueue_start(broadcast_id: int, when: datetime) -> None:
    queue = get_queue("default")
    if when <= utcnow():
        queue.enqueue(START_JOB, broadcast_id)
    else:
        queue.enqueue_at(when, START_JOB, broadcast_id)


def start(session: Session, broadcast_id: int, now: datetime | None = None) -> str:
    """The start job's work; returns what happened, for the job log."""
    now = now or utcnow()
    broadcast = session.get(Broadcast, broadcast_id, populate_existing=True)
    if broadcast is None:
        return "unknown broadcast"
    if broadcast.status is not BroadcastStatus.SCHEDULED:
        return f"not started: {broadcast.status.value}"
    if broadcast.scheduled_at is not None and broadcast.scheduled_at > now:
        return "not due yet"
    held = QuietHours.from_config(current_app.config).release_time(now, broadcast.urgent)
    if held is not None:
        broadcast.scheduled_at = held
        after_commit(session, partial(enqueue_start, broadcast.id, held))
        session.commit()
        return f"quiet hours: held until {held.isoformat()}"
    claimed = session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.SCHEDULED)
        .values(status=BroadcastStatus.SENDING, started_at=now)
    ).rowcount
    if not claimed:
        session.rollback()
        return "already started"
    inserted = _insert_messages(session, broadcast, now)
    counters.record(session, broadcast_id, [(None, MessageStatus.QUEUED, inserted)])
    session.commit()
    finish_if_done(session, broadcast_id)
    batches = enqueue_batches(session, broadcast_id)
    return f"{inserted} message(s) in {batches} batch(es)"


def _insert_messages(session: Session, broadcast: Broadcast, now: datetime) -> int:
    config = current_app.config
    dialect = _DIALECTS[session.get_bind().dialect.name]
    inserted = 0
    for group in audience.groups(broadcast, config["DEFAULT_LANGUAGE"]):
        text = message_text(
            broadcast.text_by_language[group.language], group.language, group.channel
        )
        segments, cost = price(text, group.channel, config)
        contacts = audience.recipients(broadcast, group, now).subquery()
        rows = select(
            contacts.c.id,
            literal(group.channel.value),
            literal(outbound_provider(group.channel).value),
            literal(text),
            literal(broadcast.id),
            literal(MessageStatus.QUEUED.value),
            literal(segments),
            literal(cost),
            literal(0),
        ).where(contacts.c.id.is_not(None))
        statement: Insert = (
            dialect.insert(OutboundMessage.__table__)
            .from_select(_COLUMNS, rows)
            .on_conflict_do_nothing()
            .returning(OutboundMessage.__table__.c.id)
        )
        # Counted from RETURNING: psycopg reports no rowcount for INSERT ... SELECT.
        inserted += len(session.execute(statement).all())
    return inserted


def enqueue_batches(session: Session, broadcast_id: int) -> int:
    """One batch job per BATCH_SIZE queued rows, by id range, queued in one pipeline."""
    ranges = batch_ranges(session, broadcast_id)
    session.commit()
    enqueue_ranges(broadcast_id, ranges)
    return len(ranges)


def batch_ranges(session: Session, broadcast_id: int) -> list[tuple[int, int]]:
    ids = session.scalars(
        select(OutboundMessage.id)
        .where(
            OutboundMessage.broadcast_id == broadcast_id,
            OutboundMessage.status == MessageStatus.QUEUED,
        )
        .order_by(OutboundMessage.id)
    ).all()
    return [
        (ids[at], ids[min(at + BATCH_SIZE, len(ids)) - 1]) for at in range(0, len(ids), BATCH_SIZE)
    ]


def mark_alive(broadcast_id: int, waiting: float = 0) -> None:
    """A batch of this broadcast is queued, running, or `waiting` s for a retry.

    The sweeper leaves it alone until that is stale.
    """
    seconds = current_app.config["SWEEP_STALE_SECONDS"] + int(waiting)
    client = get_redis()
    key = f"broadcast:{broadcast_id}:alive"
    # Never shorten what another batch announced (a retry waiting longer).
    if (client.ttl(key) or 0) < seconds:
        client.set(key, 1, ex=seconds)


def is_alive(broadcast_id: int) -> bool:
    return bool(get_redis().exists(f"broadcast:{broadcast_id}:alive"))


def enqueue_ranges(broadcast_id: int, ranges: list[tuple[int, int]]) -> None:
    if not ranges:
        return
    mark_alive(broadcast_id)
    queue = get_queue("bulk")
    timeout = batch_timeout()
    queue.enqueue_many(
        [
            queue.prepare_data(
                BATCH_JOB, (broadcast_id, first, last), timeout=timeout, result_ttl=3600
            )
            for first, last in ranges
        ]
    )


def batch_timeout() -> int:
    """Seconds a batch may take: its permits at the slowest configured rate, with room."""
    config = current_app.config
    slowest = min(config["SEND_RATE_SMS"], config["SEND_RATE_WHATSAPP"])
    return 180 + 2 * BATCH_SIZE // slowest


def finish_if_done(session: Session, broadcast_id: int) -> bool:
    """Mark the broadcast done once no message of it waits; True when this call did."""
    done = session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.SENDING,
            Broadcast.count_queued <= 0,
        )
        .values(status=BroadcastStatus.DONE, finished_at=utcnow())
    ).rowcount
    session.commit()
    return bool(done)


def pause(session: Session, broadcast: Broadcast) -> None:
    """Stop handing messages over; those already with the provider go on."""
    if broadcast.status not in (BroadcastStatus.SENDING, BroadcastStatus.SCHEDULED):
        raise BroadcastStateError(f"broadcast {broadcast.id} is {broadcast.status.value}")
    broadcast.status = BroadcastStatus.PAUSED


def resume(session: Session, broadcast: Broadcast) -> None:
    if broadcast.status is not BroadcastStatus.PAUSED:
        raise BroadcastStateError(f"broadcast {broadcast.id} is {broadcast.status.value}")
    if broadcast.started_at is None:
        broadcast.status = BroadcastStatus.DRAFT
        request_start(session, broadcast)
        return
    broadcast.status = BroadcastStatus.SENDING
    ranges = batch_ranges(session, broadcast.id)
    after_commit(session, partial(enqueue_ranges, broadcast.id, ranges))


def cancel(session: Session, broadcast: Broadcast) -> int:
    """Cancel; the messages not yet handed over are skipped. Returns how many."""
    if broadcast.status in (BroadcastStatus.DONE, BroadcastStatus.CANCELLED):
        raise BroadcastStateError(f"broadcast {broadcast.id} is {broadcast.status.value}")
    broadcast.status = BroadcastStatus.CANCELLED
    broadcast.finished_at = utcnow()
    skipped = session.execute(
        update(OutboundMessage)
        .where(
            OutboundMessage.broadcast_id == broadcast.id,
            OutboundMessage.status == MessageStatus.QUEUED,
        )
        .values(status=MessageStatus.SKIPPED, error_code="cancelled")
    ).rowcount
    counters.record(session, broadcast.id, [(MessageStatus.QUEUED, MessageStatus.SKIPPED, skipped)])
    return skipped
