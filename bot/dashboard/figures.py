"""The dashboard's figures, each one a few GROUP BY queries over every commune asked for.

Plain functions of a session and commune ids, no Flask inside, so a JSON API
can serve the same numbers. The number of queries never depends on the number
of rows or of communes.

A message has no commune of its own. It is counted for the commune its contact
last chose (`contacts.commune_id`), and an outbound message of a broadcast for
the broadcast's commune; messages of a contact who never chose one are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import String

from bot.i18n import LOCAL_TIMEZONE
from bot.models import Broadcast, Contact, Feedback, InboundMessage, OutboundMessage, Subscription
from bot.models.enums import Channel, FeedbackStatus, Topic

DAYS = 30
OPEN_STATUSES = (FeedbackStatus.RECEIVED, FeedbackStatus.ACKNOWLEDGED, FeedbackStatus.IN_PROGRESS)
AGE_BUCKETS = ("lt_2d", "2_7d", "7_30d", "gt_30d")
_AGE_LIMITS = ((2, "lt_2d"), (7, "2_7d"), (30, "7_30d"))
RECENT_BROADCASTS = 10


class LocalDay(FunctionElement):
    """The Porto-Novo calendar day of a UTC timestamp column, in SQL."""

    type = String()
    inherit_cache = True


@compiles(LocalDay, "postgresql")
def _local_day_postgresql(element: LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    zone = LOCAL_TIMEZONE.key.replace("'", "")
    return f"date(timezone('{zone}', {compiler.process(element.clauses, **kw)}))"


@compiles(LocalDay)
def _local_day_sqlite(element: LocalDay, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite knows no time zones; Benin keeps UTC+1 all year (no daylight saving).
    offset = LOCAL_TIMEZONE.utcoffset(datetime.now()) or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    return f"date({compiler.process(element.clauses, **kw)}, '{minutes:+d} minutes')"


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


@dataclass
class SubscriberCounts:
    """Active subscribers: distinct contacts with an active subscription, not opted out."""

    total: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)


def _active_subscriptions(commune_ids: Collection[int]) -> Select:
    return (
        select(Subscription.commune_id)
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(
            Subscription.active.is_(True),
            Contact.opted_out_at.is_(None),
            Subscription.commune_id.in_(commune_ids),
        )
        .group_by(Subscription.commune_id)
    )


def subscriber_counts(
    session: Session, commune_ids: Collection[int]
) -> dict[int, SubscriberCounts]:
    """Per commune id: active subscribers in all, by topic and by channel (every value listed)."""
    counts = {commune_id: SubscriberCounts() for commune_id in commune_ids}
    if not counts:
        return counts
    subscribers = func.count(func.distinct(Subscription.contact_id))
    active = _active_subscriptions(counts)
    topics: dict[int, dict[str, int]] = defaultdict(dict)
    channels: dict[int, dict[str, int]] = defaultdict(dict)
    for commune_id, total in session.execute(active.add_columns(subscribers)):
        counts[commune_id].total = total
    for commune_id, topic, count in session.execute(
        active.add_columns(Subscription.topic, subscribers).group_by(Subscription.topic)
    ):
        topics[commune_id][Topic(topic).value] = count
    for commune_id, channel, count in session.execute(
        active.add_columns(Subscription.channel, subscribers).group_by(Subscription.channel)
    ):
        channels[commune_id][Channel(channel).value] = count
    for commune_id, item in counts.items():
        item.by_topic = {t.value: topics[commune_id].get(t.value, 0) for t in Topic}
        item.by_channel = {c.value: channels[commune_id].get(c.value, 0) for c in Channel}
    return counts


def subscribers_by_language(session: Session, commune_id: int) -> dict[str | None, int]:
    """Active subscribers of one commune by the language they chose (None: not chosen yet)."""
    query = (
        select(Contact.language, func.count(func.distinct(Subscription.contact_id)))
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(
            Subscription.active.is_(True),
            Contact.opted_out_at.is_(None),
            Subscription.commune_id == commune_id,
        )
        .group_by(Contact.language)
        .order_by(Contact.language)
    )
    return {language: count for language, count in session.execute(query)}


def opted_out_count(session: Session, commune_id: int) -> int:
    """Contacts subscribed to this commune at some time who have since sent STOP."""
    query = (
        select(func.count(func.distinct(Subscription.contact_id)))
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(Subscription.commune_id == commune_id, Contact.opted_out_at.is_not(None))
    )
    return session.scalar(query) or 0


@dataclass(frozen=True)
class DayMessages:
    day: date
    inbound: int
    outbound: int


def local_days(today: date, days: int = DAYS) -> list[date]:
    """The `days` local days ending with `today`, oldest first."""
    return [today - timedelta(days=days - 1 - n) for n in range(days)]


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TIMEZONE).astimezone(UTC)


def _per_day(
    session: Session, commune: ColumnElement, stamp: ColumnElement, query: Select
) -> dict[tuple[int, date], int]:
    rows = query.add_columns(commune.label("commune_id"), LocalDay(stamp).label("day")).subquery()
    grouped = select(rows.c.commune_id, rows.c.day, func.count()).group_by(
        rows.c.commune_id, rows.c.day
    )
    return {(commune_id, _as_date(day)): n for commune_id, day, n in session.execute(grouped)}


def messages_per_day(
    session: Session, commune_ids: Collection[int], today: date, days: int = DAYS
) -> dict[int, list[DayMessages]]:
    """Per commune id: messages received and sent on each of the last `days` local days.

    `today` is a Porto-Novo date. Outbound messages count on the day they were
    created (queued), whatever became of them.
    """
    if not commune_ids:
        return {}
    wanted = local_days(today, days)
    since = _local_midnight_utc(wanted[0])
    until = _local_midnight_utc(today + timedelta(days=1))
    inbound = _per_day(
        session,
        Contact.commune_id,
        InboundMessage.received_at,
        select()
        .select_from(InboundMessage)
        .join(Contact, Contact.id == InboundMessage.contact_id)
        .where(
            InboundMessage.received_at >= since,
            InboundMessage.received_at < until,
            Contact.commune_id.in_(commune_ids),
        ),
    )
    outbound_commune = func.coalesce(Broadcast.commune_id, Contact.commune_id)
    outbound = _per_day(
        session,
        outbound_commune,
        OutboundMessage.created_at,
        select()
        .select_from(OutboundMessage)
        .join(Contact, Contact.id == OutboundMessage.contact_id)
        .outerjoin(Broadcast, Broadcast.id == OutboundMessage.broadcast_id)
        .where(
            OutboundMessage.created_at >= since,
            OutboundMessage.created_at < until,
            outbound_commune.in_(commune_ids),
        ),
    )
    return {
        commune_id: [
            DayMessages(day, inbound.get((commune_id, day), 0), outbound.get((commune_id, day), 0))
            for day in wanted
        ]
        for commune_id in commune_ids
    }


def feedback_by_status(session: Session, commune_ids: Collection[int]) -> dict[int, dict[str, int]]:
    """Per commune id: tickets in each status, every status listed."""
    counts = {commune_id: {s.value: 0 for s in FeedbackStatus} for commune_id in commune_ids}
    if not counts:
        return counts
    query = (
        select(Feedback.commune_id, Feedback.status, func.count())
        .where(Feedback.commune_id.in_(counts))
        .group_by(Feedback.commune_id, Feedback.status)
    )
    for commune_id, status, count in session.execute(query):
        counts[commune_id][FeedbackStatus(status).value] = count
    return counts


def open_feedback_by_age(
    session: Session, commune_ids: Collection[int], now: datetime
) -> dict[int, dict[str, dict[str, int]]]:
    """Per commune id, per age bucket (AGE_BUCKETS): open tickets by status.

    Age is counted from the ticket's creation to `now`; a ticket exactly two
    days old is in `2_7d`.
    """
    empty = {bucket: {s.value: 0 for s in OPEN_STATUSES} for bucket in AGE_BUCKETS}
    counts = {commune_id: {b: dict(v) for b, v in empty.items()} for commune_id in commune_ids}
    if not counts:
        return counts
    bucket = case(
        *((Feedback.created_at > now - timedelta(days=d), name) for d, name in _AGE_LIMITS),
        else_="gt_30d",
    )
    rows = (
        select(Feedback.commune_id, Feedback.status, bucket.label("bucket"))
        .where(Feedback.commune_id.in_(counts), Feedback.status.in_(OPEN_STATUSES))
        .subquery()
    )
    query = select(rows.c.commune_id, rows.c.status, rows.c.bucket, func.count()).group_by(
        rows.c.commune_id, rows.c.status, rows.c.bucket
    )
    for commune_id, status, name, count in session.execute(query):
        counts[commune_id][name][FeedbackStatus(status).value] = count
    return counts


@dataclass(frozen=True)
class BroadcastDelivery:
    id: int
    topic: str
    started_at: datetime
    sent: int
    delivered: int
    failed: int

    @property
    def rate(self) -> float | None:
        """Delivered share of the messages handed to a provider, in percent; None if none."""
        handed = self.sent + self.delivered + self.failed
        return 100 * self.delivered / handed if handed else None


def recent_broadcast_delivery(
    session: Session, commune_ids: Collection[int], limit: int = RECENT_BROADCASTS
) -> dict[int, list[BroadcastDelivery]]:
    """Per commune id: its `limit` most recently started broadcasts, newest first."""
    found: dict[int, list[BroadcastDelivery]] = {commune_id: [] for commune_id in commune_ids}
    if not found:
        return found
    rank = (
        func.row_number()
        .over(
            partition_by=Broadcast.commune_id,
            order_by=(Broadcast.started_at.desc(), Broadcast.id.desc()),
        )
        .label("rank")
    )
    ranked = (
        select(Broadcast.id, rank)
        .where(Broadcast.commune_id.in_(found), Broadcast.started_at.is_not(None))
        .subquery()
    )
    query = (
        select(
            Broadcast.commune_id,
            Broadcast.id,
            Broadcast.topic,
            Broadcast.started_at,
            Broadcast.count_sent,
            Broadcast.count_delivered,
            Broadcast.count_failed,
        )
        .join(ranked, ranked.c.id == Broadcast.id)
        .where(ranked.c.rank <= limit)
        .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
    )
    for commune_id, broadcast_id, topic, started_at, sent, delivered, failed in session.execute(
        query
    ):
        found[commune_id].append(
            BroadcastDelivery(broadcast_id, Topic(topic).value, started_at, sent, delivered, failed)
        )
    return found
