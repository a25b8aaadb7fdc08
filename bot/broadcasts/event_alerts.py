"""The alerts an event schedules for itself, and what moving or cancelling it does.

Publishing a council or accountability session plans, as broadcasts to the
commune's subscribers of its topic: an announcement now, a reminder the day
before, and "it starts now, here is how to follow" at its start. Marking it
held sends its summary. Each alert is an ordinary broadcast (kind and
event_id set), started by the RQ scheduler at its time, so staff see, pause
or cancel it like any other.

Moving the event cancels the alerts not yet started, plans them again for the
new time, and tells those already alerted; cancelling it cancels the pending
alerts and tells those already alerted. A start alert that would fall in
quiet hours is not planned: held until morning it would say "now" too late.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.broadcasts import compose, sending
from bot.broadcasts.quiet import QuietHours
from bot.i18n import SUPPORTED_LANGUAGES, format_datetime, t
from bot.models import Broadcast, Event
from bot.models.enums import (
    BroadcastKind,
    BroadcastStatus,
    Channel,
    EventStatus,
    EventType,
    Topic,
)
from bot.models.types import utcnow

REMINDER_BEFORE = timedelta(days=1)
SUMMARY_MAX = 600
"""Characters of the summary quoted in the alert; the full text is on the info screens."""

ALERT_CHANNELS = (Channel.SMS, Channel.WHATSAPP)
_NOT_STARTED = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED)
_STARTED = (BroadcastStatus.SENDING, BroadcastStatus.PAUSED, BroadcastStatus.DONE)
_PENDING = (*_NOT_STARTED, BroadcastStatus.PAUSED)


class EventStateError(ValueError):
    """The event cannot do this in its state (publishing a cancelled event...)."""


def topic_of(event: Event) -> Topic:
    return Topic.REDDITION if event.type is EventType.REDDITION_DE_COMPTES else Topic.SESSIONS


def alerts(session: Session, event: Event) -> list[Broadcast]:
    """The event's alerts, in the order they go."""
    return list(
        session.scalars(
            select(Broadcast)
            .where(Broadcast.event_id == event.id)
            .order_by(Broadcast.scheduled_at, Broadcast.id)
            # Workers move alerts on in other sessions: read their state afresh.
            .execution_options(populate_existing=True)
        )
    )


def publish(session: Session, event: Event, now: datetime | None = None) -> list[Broadcast]:
    """Publish the event and plan its alerts; publishing again plans nothing twice."""
    now = now or utcnow()
    if event.status in (EventStatus.CANCELLED, EventStatus.HELD):
        raise EventStateError(f"event {event.id} is {event.status.value}")
    if event.published_at is not None and alerts(session, event):
        return []
    event.published_at = now
    if event.status is EventStatus.DRAFT:
        event.status = EventStatus.SCHEDULED
    planned = [_alert(session, event, BroadcastKind.ANNOUNCEMENT, now)]
    return planned + _plan_ahead(session, event, now)


def move(
    session: Session, event: Event, starts_at: datetime, now: datetime | None = None
) -> list[Broadcast]:
    """Move the event; returns the alerts planned (the change notice first, when one goes)."""
    now = now or utcnow()
    if starts_at.tzinfo is None:
        raise EventStateError("give the new start with its time zone")
    if event.status in (EventStatus.CANCELLED, EventStatus.HELD):
        raise EventStateError(f"event {event.id} is {event.status.value}")
    duration = event.ends_at - event.starts_at if event.ends_at else None
    event.starts_at = starts_at
    event.ends_at = starts_at + duration if duration else None
    event.status = EventStatus.SCHEDULED
    if event.published_at is None:
        return []
    alerted = _cancel_pending(session, event)
    planned: list[Broadcast] = []
    if alerted:
        planned.append(_alert(session, event, BroadcastKind.CHANGE, now))
    else:
        planned.append(_alert(session, event, BroadcastKind.ANNOUNCEMENT, now))
    return planned + _plan_ahead(session, event, now)


def cancel(session: Session, event: Event, now: datetime | None = None) -> list[Broadcast]:
    now = now or utcnow()
    if event.status in (EventStatus.CANCELLED, EventStatus.HELD):
        raise EventStateError(f"event {event.id} is {event.status.value}")
    event.status = EventStatus.CANCELLED
    if not _cancel_pending(session, event):
        return []
    return [_alert(session, event, BroadcastKind.CANCELLATION, now)]


def mark_held(
    session: Session, event: Event, summary: str | None, now: datetime | None = None
) -> list[Broadcast]:
    """Record that the event was held, with its summary, and send the summary to subscribers.

    Marked held again, the summary is updated; it goes to subscribers again
    only when the first notice had none ("the minutes will be published"):
    a corrected summary is read on the information screens, not pushed twice.
    """
    now = now or utcnow()
    if event.status is EventStatus.CANCELLED:
        raise EventStateError(f"event {event.id} is cancelled")
    already_summarized = event.status is EventStatus.HELD and bool(event.summary)
    event.status = EventStatus.HELD
    event.summary = " ".join((summary or "").split()) or event.summary
    _cancel_pending(session, event)
    if event.published_at is None or already_summarized:
        return []
    return [_alert(session, event, BroadcastKind.SUMMARY, now)]


def _plan_ahead(session: Session, event: Event, now: datetime) -> list[Broadcast]:
    planned = []
    reminder = event.starts_at - REMINDER_BEFORE
    if reminder > now:
        planned.append(_alert(session, event, BroadcastKind.REMINDER, reminder))
    quiet = QuietHours.from_config(current_app.config)
    if event.starts_at > now and not quiet.contains(event.starts_at):
        planned.append(_alert(session, event, BroadcastKind.START, event.starts_at))
    return planned


def _cancel_pending(session: Session, event: Event) -> bool:
    """Cancel the alerts not yet started or paused; True when an earlier alert went out.

    A change notice not yet started goes too: it gives a time that is no longer
    right, and the caller plans the notice that replaces it. An alert paused
    before its start job ran never went out: it does not count as alerting.
    """
    alerted = False
    for alert in alerts(session, event):
        if alert.status in _STARTED and alert.started_at is not None:
            alerted = True
        if alert.status in _PENDING:
            sending.cancel(session, alert)
    return alerted


def _alert(session: Session, event: Event, kind: BroadcastKind, when: datetime) -> Broadcast:
    broadcast = compose.create(
        session,
        commune_slug=event.commune.slug,
        topic=topic_of(event),
        texts={lang: alert_text(event, kind, lang) for lang in SUPPORTED_LANGUAGES},
        channels=ALERT_CHANNELS,
        kind=kind,
        event_id=event.id,
        scheduled_at=when,
    )
    sending.request_start(session, broadcast)
    return broadcast


def alert_text(event: Event, kind: BroadcastKind, lang: str) -> str:
    fields = {
        "commune": event.commune.name,
        "title": event.title,
        "when": format_datetime(event.starts_at, lang),
    }
    if kind is BroadcastKind.SUMMARY:
        summary = (event.summary or "").strip()
        if len(summary) > SUMMARY_MAX:
            summary = summary[: SUMMARY_MAX - 3].rsplit(" ", 1)[0] + "..."
        key = "alert.summary" if summary else "alert.summary_none"
        parts = [t(key, lang, summary=summary, **fields)]
    else:
        key = {
            BroadcastKind.ANNOUNCEMENT: "alert.announcement",
            BroadcastKind.REMINDER: "alert.reminder",
            BroadcastKind.START: "alert.start",
            BroadcastKind.CHANGE: "alert.moved",
            BroadcastKind.CANCELLATION: "alert.cancelled",
        }[kind]
        parts = [t(key, lang, **fields)]
        if kind is not BroadcastKind.CANCELLATION and event.place:
            parts.append(t("alert.place", lang, place=event.place))
        if kind in (BroadcastKind.START, BroadcastKind.REMINDER) and event.follow_live:
            parts.append(t("alert.follow", lang, how=event.follow_live))
    if event.is_sample:
        parts.insert(0, t("alert.sample", lang, label=t("sample.label", lang)))
    return " ".join(parts)[: compose.MAX_TEXT]
