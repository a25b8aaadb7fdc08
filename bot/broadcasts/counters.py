"""A broadcast's live counters: how many of its messages are in each bucket.

The buckets partition the messages (`queued` holds those being handed over
too), so the counters always add up to the broadcast's size. They move in the
same transaction as the rows they count, from the sending jobs and from
delivery reports, so a crash cannot leave them apart from the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.models import Broadcast
from bot.models.enums import MessageStatus

BUCKETS = {
    MessageStatus.QUEUED: "queued",
    MessageStatus.SENDING: "queued",
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.READ: "delivered",
    MessageStatus.FAILED: "failed",
    MessageStatus.SKIPPED: "skipped",
}

Move = tuple[MessageStatus | None, MessageStatus | None, int]
"""(from, to, how many); from None for new messages, to None for erased ones."""


def record(session: Session, broadcast_id: int, moves: Iterable[Move]) -> None:
    changes: Counter[str] = Counter()
    for old, new, count in moves:
        if old is not None:
            changes[BUCKETS[old]] -= count
        if new is not None:
            changes[BUCKETS[new]] += count
    values = {
        f"count_{bucket}": getattr(Broadcast, f"count_{bucket}") + change
        for bucket, change in changes.items()
        if change
    }
    if values:
        session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(values))
