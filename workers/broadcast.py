"""Broadcast jobs: starting a broadcast, and handing one batch of its messages over.

A batch is a range of message ids of one broadcast. Its rows go in chunks of
at most one second of the provider's rate: permits first (a Redis token
bucket shared by every worker), then the chunk is claimed (`queued` →
`sending`, one UPDATE ... RETURNING, committed), then handed over: for
Africa's Talking one bulk API call per chunk and text, for the others one
call per message on a few threads. Claiming right before the call keeps the
window in which a crash leaves a row `sending` to the call itself; such rows
are settled by the sweeper (workers/sweeper.py), never resent blindly.

Between chunks the broadcast is read again: a pause or a cancel stops the
batch at once, and a contact who opted out meanwhile is skipped.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from itertools import islice
from typing import Any

from flask import current_app
from sqlalchemy import Row, bindparam, select, update
from sqlalchemy.orm import Session

from bot.broadcasts import counters, sending
from bot.broadcasts.audience import WHATSAPP_WINDOW
from bot.broadcasts.quiet import QuietHours
from bot.broadcasts.ratelimit import SendRate, send_rate
from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import OutboundMessage, SendError, SendFailure, SendResult
from bot.channels.registry import sender
from bot.db import get_session
from bot.models import Broadcast, Contact
from bot.models import OutboundMessage as MessageRow
from bot.models.enums import BroadcastStatus, Channel, MessageStatus, Provider
from bot.models.messaging import status_can_move
from bot.models.types import utcnow
from bot.optout import opt_out_phone
from bot.redis import get_queue, get_redis
from workers.context import job_context
from workers.send import send_or_template, template_for

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
"""Attempts per message before a retryable failure is given up (single replies: 5)."""

BACKOFF_SECONDS, BACKOFF_CAP_SECONDS = 5, 300
"""First retry of a batch, doubling up to the cap: a throttled provider gets air."""

PER_MESSAGE_THREADS = 8
"""Concurrent calls for providers without a bulk API (Twilio, Meta, console)."""

NO_TEMPLATE = "no_template"
"""Skip reason: outside the WhatsApp window and the broadcast has no template."""

_TABLE = MessageRow.__table__
Outcome = SendResult | SendError | None  # None: skipped, no template


def start_broadcast(broadcast_id: int) -> str:
    """RQ job (queue `default`): insert the messages and queue the batches."""
    with job_context():
        return sending.start(get_session(), broadcast_id)


def send_batch(broadcast_id: int, first_id: int, last_id: int) -> str:
    """RQ job (queue `bulk`): hand over the queued messages of one id range."""
    with job_context():
        return Batch(get_session(), broadcast_id, first_id, last_id).run()


class Batch:
    def __init__(self, session: Session, broadcast_id: int, first_id: int, last_id: int) -> None:
        self.session = session
        self.broadcast_id = broadcast_id
        self.range = (first_id, last_id)
        self.config = current_app.config
        self.handed = self.retry = 0
        self.attempts: dict[int, int] = {}

    def run(self) -> str:
        broadcast = self.session.get(Broadcast, self.broadcast_id, populate_existing=True)
        if broadcast is None or broadcast.status is not BroadcastStatus.SENDING:
            return f"not sending: {broadcast.status.value if broadcast else 'unknown'}"
        held = QuietHours.from_config(self.config).release_time(utcnow(), broadcast.urgent)
        if held is not None:
            get_queue("bulk").enqueue_at(held, send_batch, self.broadcast_id, *self.range)
            return f"quiet hours: held until {held.isoformat()}"
        self.broadcast = broadcast
        skipped = self._skip_opted_out()
        for (provider, channel), rows in self._pending().items():
            rate = SendRate(get_redis(), provider, channel, send_rate(self.config, channel))
            for chunk in _chunks(rows, min(sending.BATCH_SIZE, rate.rate)):
                wait = rate.reserve(len(chunk))
                if wait > 0:
                    time.sleep(wait)
                sending.mark_alive(self.broadcast_id)
                if not self._still_sending():
                    return f"stopped: broadcast {self._status().value}; {self.handed} handed over"
                claimed = self._claim(chunk)
                if claimed:
                    self._record(claimed, self._hand_over(provider, channel, claimed))
        if self.retry:
            self._retry_later()
        sending.finish_if_done(self.session, self.broadcast_id)
        return f"{self.handed} handed over, {skipped} skipped, {self.retry} to retry"

    def _in_range(self) -> Any:
        first, last = self.range
        return (
            (MessageRow.broadcast_id == self.broadcast_id)
            & MessageRow.id.between(first, last)
            & (MessageRow.status == MessageStatus.QUEUED)
        )

    def _skip_opted_out(self) -> int:
        opted_out = select(Contact.id).where(Contact.opted_out_at.is_not(None))
        skipped = self.session.execute(
            update(MessageRow)
            .where(self._in_range(), MessageRow.contact_id.in_(opted_out))
            .values(status=MessageStatus.SKIPPED, error_code="opted_out")
        ).rowcount
        counters.record(
            self.session,
            self.broadcast_id,
            [(MessageStatus.QUEUED, MessageStatus.SKIPPED, skipped)],
        )
        self.session.commit()
        return skipped

    def _pending(self) -> dict[tuple[Provider, Channel], list[Row[Any]]]:
        rows = self.session.execute(
            select(
                MessageRow.id,
                MessageRow.provider,
                MessageRow.channel,
                MessageRow.text,
                Contact.phone_e164,
                Contact.language,
                Contact.whatsapp_last_inbound_at,
            )
            .join(Contact, Contact.id == MessageRow.contact_id)
            .where(self._in_range())
            .order_by(MessageRow.id)
        ).all()
        self.session.commit()
        grouped: dict[tuple[Provider, Channel], list[Row[Any]]] = defaultdict(list)
        for row in rows:
            grouped[(row.provider, row.channel)].append(row)
        return grouped

    def _status(self) -> BroadcastStatus:
        status = self.session.scalar(
            select(Broadcast.status).where(Broadcast.id == self.broadcast_id)
        )
        self.session.commit()
        return status

    def _still_sending(self) -> bool:
        return self._status() is BroadcastStatus.SENDING

    def _claim(self, chunk: Sequence[Row[Any]]) -> list[Row[Any]]:
        """Move the chunk's rows still queued (and not opted out) to `sending`; commit."""
        opted_out = select(Contact.id).where(Contact.opted_out_at.is_not(None))
        claimed = dict(
            self.session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.id.in_([row.id for row in chunk]),
                    _TABLE.c.status == MessageStatus.QUEUED.value,
                    _TABLE.c.contact_id.not_in(opted_out),
                )
                .values(status=MessageStatus.SENDING.value, attempts=_TABLE.c.attempts + 1)
                .returning(_TABLE.c.id, _TABLE.c.attempts)
            ).all()
        )
        self.session.commit()
        self.attempts.update(claimed)
        return [row for row in chunk if row.id in claimed]

    def _hand_over(
        self, provider: Provider, channel: Channel, rows: list[Row[Any]]
    ) -> dict[int, Outcome]:
        adapter = sender(provider)
        if isinstance(adapter, AfricasTalkingAdapter) and channel is Channel.SMS:
            return _bulk(adapter, rows)
        window_opens = utcnow() - WHATSAPP_WINDOW
        with ThreadPoolExecutor(PER_MESSAGE_THREADS) as pool:
            outcomes = pool.map(lambda row: self._one(adapter, row, window_opens), rows)
            return {row.id: outcome for row, outcome in zip(rows, outcomes, strict=True)}

    def _one(self, adapter: Any, row: Row[Any], window_opens: datetime) -> Outcome:
        template = template_for(self.broadcast, row.language)
        outgoing = OutboundMessage(channel=row.channel, to=row.phone_e164, text=row.text)
        if row.channel is Channel.WHATSAPP and not _in_window(row, window_opens):
            if template is None:
                return None
            outgoing = OutboundMessage(
                channel=row.channel, to=row.phone_e164, text=row.text, template=template
            )
        try:
            return send_or_template(adapter, outgoing, template)
        except SendError as error:
            return error

    def _record(self, rows: list[Row[Any]], outcomes: dict[int, Outcome]) -> None:
        now = utcnow()
        sent: list[dict[str, Any]] = []
        moves: list[counters.Move] = []
        for row in rows:
            outcome = outcomes.get(row.id)
            if isinstance(outcome, SendResult):
                status = (
                    outcome.status
                    if status_can_move(MessageStatus.SENDING, outcome.status)
                    else MessageStatus.SENT
                )
                sent.append({"row": row.id, "external": outcome.external_id, "new": status})
                moves.append((MessageStatus.SENDING, status, 1))
            elif outcome is None:
                self._set(row.id, MessageStatus.SKIPPED, NO_TEMPLATE)
                moves.append((MessageStatus.SENDING, MessageStatus.SKIPPED, 1))
            else:
                moves.extend(self._failed(row, outcome, self.attempts.get(row.id, MAX_ATTEMPTS)))
        if sent:
            self.session.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.id == bindparam("row"),
                    _TABLE.c.status == MessageStatus.SENDING.value,
                )
                .values(
                    status=bindparam("new"),
                    external_id=bindparam("external"),
                    sent_at=now,
                    error_code=None,
                ),
                sent,
            )
        counters.record(self.session, self.broadcast_id, moves)
        self.session.commit()
        self.handed += len(sent)

    def _failed(self, row: Row[Any], error: SendError, attempts: int) -> list[counters.Move]:
        if error.failure is SendFailure.IN_DOUBT:
            # Left `sending`: the sweeper settles it from the provider's reports.
            self._set(row.id, MessageStatus.SENDING, error.code)
            return []
        if error.failure is SendFailure.RETRYABLE and attempts < MAX_ATTEMPTS:
            self._set(row.id, MessageStatus.QUEUED, error.code)
            self.retry += 1
            return []
        if error.failure is SendFailure.OPTED_OUT:
            opt_out_phone(self.session, row.phone_e164, row.channel, f"provider {error.code}")
        self._set(row.id, MessageStatus.FAILED, error.code)
        return [(MessageStatus.SENDING, MessageStatus.FAILED, 1)]

    def _set(self, row_id: int, status: MessageStatus, code: str | None) -> None:
        self.session.execute(
            update(_TABLE)
            .where(_TABLE.c.id == row_id, _TABLE.c.status == MessageStatus.SENDING.value)
            .values(status=status.value, error_code=code)
        )

    def _retry_later(self) -> None:
        """One retry job for the whole range, after the backoff of its most-tried row."""
        first, last = self.range
        tried = self.session.scalar(
            select(MessageRow.attempts)
            .where(self._in_range())
            .order_by(MessageRow.attempts.desc())
            .limit(1)
        )
        self.session.commit()
        delay = timedelta(
            seconds=min(BACKOFF_SECONDS * 2 ** max((tried or 1) - 1, 0), BACKOFF_CAP_SECONDS)
        )
        get_queue("bulk").enqueue_in(
            delay, send_batch, self.broadcast_id, first, last, job_timeout=sending.batch_timeout()
        )
        sending.mark_alive(self.broadcast_id, waiting=delay.total_seconds())


def _in_window(row: Row[Any], window_opens: datetime) -> bool:
    last = row.whatsapp_last_inbound_at
    return last is not None and last >= window_opens


def _bulk(adapter: AfricasTalkingAdapter, rows: list[Row[Any]]) -> dict[int, Outcome]:
    """One bulk call per distinct text (one per language, in practice)."""
    by_text: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        by_text[row.text].append(row)
    outcomes: dict[int, Outcome] = {}
    for text, group in by_text.items():
        try:
            results = adapter.send_many(text, [row.phone_e164 for row in group])
        except SendError as error:
            outcomes.update((row.id, error) for row in group)
            continue
        outcomes.update((row.id, results[row.phone_e164]) for row in group)
    return outcomes


def _chunks(rows: list[Row[Any]], size: int) -> Iterator[list[Row[Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk
