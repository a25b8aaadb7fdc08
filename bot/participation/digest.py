"""The weekly digest: one short SMS a week, per commune, of what changed there.

For citizens who would rather not ask: `ABONNE COTONOU RESUME` subscribes to
the digest topic (its own subscription, with its consent in the ledger; never
part of "all"). Every Monday from 09:00 Porto-Novo time (DIGEST_WEEKDAY,
DIGEST_TIME, DIGEST_CATCH_UP) a worker runs `send_weekly`, which writes per commune:

- the sessions planned in the next DIGEST_EVENTS_AHEAD (scheduled or moved),
- the documents published in the last DIGEST_LOOKBACK,
- how many citizen feedback tickets the mairie answered in that week (counts
  only: a ticket is the citizen's business, not their neighbours').

Nothing changed, nothing sent. The text is at most SMS_MAX_SEGMENTS in each
language, opt-out line included, GSM-7 once transliterated, and says when it
is built from sample content. It goes as an ordinary broadcast of topic
`digest` (bot/broadcasts/): the send rate, quiet hours, opt-outs, delivery
reports and the sweeper all apply, and the unique key (broadcast, contact,
channel) keeps each contact to one message. One digest broadcast per commune
and week: a second run of the week finds it and writes nothing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot.broadcasts import sending
from bot.broadcasts.compose import message_text
from bot.db import write_lock
from bot.gsm import segment_info
from bot.i18n import SUPPORTED_LANGUAGES, format_time, t, to_local
from bot.models import (
    Broadcast,
    Commune,
    Contact,
    Document,
    Event,
    Feedback,
    FeedbackUpdate,
    Subscription,
)
from bot.models.enums import BroadcastKind, BroadcastStatus, Channel, EventStatus, Topic
from bot.models.types import utcnow

DIGEST_WEEKDAY = 0
"""Monday (datetime.weekday()): the week's news before the week's sessions."""
DIGEST_TIME = time(9, 0)
"""Local time (TIMEZONE): awake, and well outside the quiet hours."""
DIGEST_CATCH_UP = timedelta(hours=12)
"""How late on Monday a worker that was down may still send the week's digest:
until the quiet hours. Later, that week's digest is skipped rather than sent
on another day, a day or two before the next one."""
DIGEST_EVENTS_AHEAD = timedelta(days=14)
DIGEST_LOOKBACK = timedelta(days=7)
SMS_MAX_SEGMENTS = 2
MAX_EVENTS = 2
"""Sessions named in the text; more are counted."""
LOCK_SECONDS = 300
"""Longest a run may hold the digest lock (a few queries and inserts per commune)."""

_UPCOMING = (EventStatus.SCHEDULED, EventStatus.POSTPONED)
# From the most detailed text to the barest: the first that fits is sent.
_TITLE_LIMITS = (60, 40, 24, 0)


@dataclass(frozen=True)
class Item:
    title: str
    starts_at: datetime | None  # sessions only
    is_sample: bool


@dataclass(frozen=True)
class WeekNews:
    """What changed in one commune, as of `now`."""

    commune_id: int
    commune: str
    events: tuple[Item, ...]  # soonest first
    documents: tuple[Item, ...]  # newest first
    answers: int

    @property
    def empty(self) -> bool:
        return not (self.events or self.documents or self.answers)

    @property
    def sample(self) -> bool:
        return any(item.is_sample for item in (*self.events, *self.documents))


def week_start(now: datetime, zone: ZoneInfo) -> datetime:
    """The last digest time at or before `now` (UTC): this week's, or last week's."""
    local = now.astimezone(zone)
    days_back = (local.weekday() - DIGEST_WEEKDAY) % 7
    start = datetime.combine(local.date() - timedelta(days=days_back), DIGEST_TIME, zone)
    if start > local:
        start -= timedelta(days=7)
    return start.astimezone(UTC)


def news(session: Session, commune: Commune, now: datetime) -> WeekNews:
    events = session.scalars(
        select(Event)
        .where(
            Event.commune_id == commune.id,
            Event.status.in_(_UPCOMING),
            Event.starts_at >= now,
            Event.starts_at < now + DIGEST_EVENTS_AHEAD,
        )
        .order_by(Event.starts_at, Event.id)
    )
    documents = session.scalars(
        select(Document)
        .where(
            Document.commune_id == commune.id,
            Document.created_at >= now - DIGEST_LOOKBACK,
            Document.created_at < now,
        )
        .order_by(Document.created_at.desc(), Document.id.desc())
    )
    answers = session.scalar(
        select(func.count(func.distinct(FeedbackUpdate.feedback_id)))
        .join(Feedback, Feedback.id == FeedbackUpdate.feedback_id)
        .where(
            Feedback.commune_id == commune.id,
            # The update that files a ticket has no old status; every later one is the mairie's.
            FeedbackUpdate.old_status.is_not(None),
            FeedbackUpdate.created_at >= now - DIGEST_LOOKBACK,
            FeedbackUpdate.created_at < now,
        )
    )
    return WeekNews(
        commune_id=commune.id,
        commune=commune.name,
        events=tuple(Item(e.title, e.starts_at, e.is_sample) for e in events),
        documents=tuple(Item(d.title, None, d.is_sample) for d in documents),
        answers=answers or 0,
    )


def digest_text(week: WeekNews, lang: str) -> str:
    """The digest of a week with news, in `lang`, without the opt-out line.

    The first of ever shorter wordings whose SMS (opt-out line added) fits;
    the barest, counts only, is under 200 characters and always does.
    """
    for limit in _TITLE_LIMITS:
        text = "\n".join(_lines(week, lang, limit))
        if segment_info(message_text(text, lang, Channel.SMS)).segments <= SMS_MAX_SEGMENTS:
            break
    return text


def _lines(week: WeekNews, lang: str, limit: int) -> Iterator[str]:
    """The digest's lines, titles cut to `limit` characters; 0: counts only."""
    key = "digest.heading_sample" if week.sample else "digest.heading"
    yield t(key, lang, commune=week.commune, label=t("sample.label", lang))
    if week.events and limit:
        named = [
            t("digest.event", lang, title=_shortened(e.title, limit), when=_when(e, lang))
            for e in week.events[:MAX_EVENTS]
        ]
        more = len(week.events) - len(named)
        if more == 1:
            named.append(t("digest.events_more_one", lang))
        elif more:
            named.append(t("digest.events_more", lang, count=more))
        yield t("digest.events", lang, events=t("info.separator", lang).join(named))
    elif week.events:
        yield t("digest.events_count", lang, count=len(week.events))
    if len(week.documents) == 1 and limit:
        yield t("digest.document", lang, title=_shortened(week.documents[0].title, limit))
    elif week.documents and limit:
        title = _shortened(week.documents[0].title, limit)
        yield t("digest.documents", lang, count=len(week.documents), title=title)
    elif week.documents:
        yield t("digest.documents_count", lang, count=len(week.documents))
    if week.answers == 1:
        yield t("digest.answers_one", lang)
    elif week.answers:
        yield t("digest.answers", lang, count=week.answers)
    yield t("digest.more", lang)


def _shortened(title: str, limit: int) -> str:
    return textwrap.shorten(title, limit, placeholder="...")


def _when(item: Item, lang: str) -> str:
    assert item.starts_at is not None  # sessions always have a start
    local = to_local(item.starts_at)
    day = format_date(local.date(), t("digest.day_format", lang), locale=lang)
    return t("digest.when", lang, day=day, time=format_time(local, lang))


@dataclass
class Sent:
    """What a run did, for the job log."""

    started: list[str]  # commune slugs whose digest went out
    already: list[str]  # a digest of this week exists
    unchanged: list[str]  # nothing to tell
    no_subscriber: list[str]

    def __str__(self) -> str:
        parts = (
            f"started {','.join(self.started) or '-'}",
            f"already {','.join(self.already) or '-'}",
            f"unchanged {','.join(self.unchanged) or '-'}",
            f"no subscriber {','.join(self.no_subscriber) or '-'}",
        )
        return "; ".join(parts)


def send_weekly(session: Session, now: datetime | None = None) -> Sent:
    """Write and start this week's digest of every commune that has news and subscribers.

    The caller holds the digest lock (workers/digest.py): two runs at once
    would both find no digest of the week and both write one.
    """
    now = now or utcnow()
    start = week_start(now, ZoneInfo(current_app.config["TIMEZONE"]))
    sent = Sent([], [], [], [])
    for commune in session.scalars(select(Commune).order_by(Commune.id)):
        if _sent_since(session, commune.id, start):
            sent.already.append(commune.slug)
        elif not _has_subscribers(session, commune.id):
            sent.no_subscriber.append(commune.slug)
        else:
            week = news(session, commune, now)
            if week.empty:
                sent.unchanged.append(commune.slug)
                continue
            _start(session, week, now)
            sent.started.append(commune.slug)
    return sent


def _sent_since(session: Session, commune_id: int, start: datetime) -> bool:
    return bool(
        session.scalar(
            select(
                exists().where(
                    Broadcast.commune_id == commune_id,
                    Broadcast.topic == Topic.DIGEST,
                    Broadcast.created_at >= start,
                )
            )
        )
    )


def _has_subscribers(session: Session, commune_id: int) -> bool:
    return bool(
        session.scalar(
            select(
                exists()
                .where(
                    Subscription.commune_id == commune_id,
                    Subscription.topic == Topic.DIGEST,
                    Subscription.active.is_(True),
                    Contact.opted_out_at.is_(None),
                )
                .where(Contact.id == Subscription.contact_id)
            )
        )
    )


def _start(session: Session, week: WeekNews, now: datetime) -> None:
    texts = {lang: digest_text(week, lang) for lang in SUPPORTED_LANGUAGES}
    with write_lock(session):
        broadcast = Broadcast(
            commune_id=week.commune_id,
            topic=Topic.DIGEST,
            kind=BroadcastKind.MANUAL,
            text_by_language=texts,
            channels=[Channel.SMS.value],
            status=BroadcastStatus.DRAFT,
            # The week it belongs to is read from here by the next run.
            created_at=now,
        )
        session.add(broadcast)
        session.flush()
        sending.request_start(session, broadcast)
        session.commit()
