"""What a session's alerts would do, computed without writing anything.

The pages show it before a clerk publishes, moves, cancels or marks a session
held, so the confirmation says which alerts go, when and to how many, and
which pending ones are cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.broadcasts import audience, event_alerts
from bot.broadcasts.quiet import QuietHours
from bot.i18n import SUPPORTED_LANGUAGES
from bot.models import Broadcast, Event, OutboundMessage
from bot.models.enums import BroadcastKind, BroadcastStatus, EventStatus
from bot.models.types import utcnow

EDITABLE = (EventStatus.DRAFT, EventStatus.SCHEDULED, EventStatus.POSTPONED)
"""The statuses in which an event may still be edited, published or moved."""
_PENDING = (BroadcastStatus.DRAFT, BroadcastStatus.SCHEDULED, BroadcastStatus.PAUSED)
_STARTED = (BroadcastStatus.SENDING, BroadcastStatus.PAUSED, BroadcastStatus.DONE)


@dataclass(frozen=True)
class PlannedAlert:
    """One alert of an event: stored (`broadcast` set) or only planned."""

    kind: BroadcastKind
    when: datetime | None
    recipients: dict[str, int]  # by channel: sent so far once started, else as of now
    broadcast: Broadcast | None = None
    held_until: datetime | None = None  # quiet hours hold it until then
    at_once: bool = False  # goes as soon as the action is confirmed: `when` is only "now"

    @property
    def status(self) -> BroadcastStatus | None:
        return self.broadcast.status if self.broadcast is not None else None


@dataclass(frozen=True)
class Consequences:
    """What an action would do: the pending alerts it cancels, the alerts it plans."""

    cancelled: list[PlannedAlert] = field(default_factory=list)
    planned: list[PlannedAlert] = field(default_factory=list)


def _quiet() -> QuietHours:
    return QuietHours.from_config(current_app.config)


def _audience(session: Session, event: Event, kind: BroadcastKind) -> dict[str, int]:
    """Recipients per channel an alert of `kind` would have now; the alert is never stored."""
    probe = Broadcast(
        commune_id=event.commune_id,
        topic=event_alerts.topic_of(event),
        kind=kind,
        event_id=event.id,
        text_by_language=dict.fromkeys(SUPPORTED_LANGUAGES, "-"),
        channels=[channel.value for channel in event_alerts.ALERT_CHANNELS],
    )
    counts = dict.fromkeys(probe.channels, 0)
    for group in audience.groups(probe, current_app.config["DEFAULT_LANGUAGE"]):
        counts[group.channel.value] += audience.size(session, probe, group)
    return counts


def _planned(
    session: Session, event: Event, kind: BroadcastKind, when: datetime, at_once: bool = False
) -> PlannedAlert:
    return PlannedAlert(
        kind,
        when,
        _audience(session, event, kind),
        held_until=_quiet().release_time(when, False),
        at_once=at_once,
    )


def _ahead(
    session: Session, event: Event, starts_at: datetime, now: datetime
) -> list[PlannedAlert]:
    # The rule of event_alerts._plan_ahead (a test holds the two together).
    planned = []
    reminder = starts_at - event_alerts.REMINDER_BEFORE
    if reminder > now:
        planned.append(_planned(session, event, BroadcastKind.REMINDER, reminder))
    if starts_at > now and not _quiet().contains(starts_at):
        planned.append(_planned(session, event, BroadcastKind.START, starts_at))
    return planned


def _stored(session: Session, alert: Broadcast) -> PlannedAlert:
    if alert.started_at is not None:
        rows = session.execute(
            select(OutboundMessage.channel, func.count())
            .where(OutboundMessage.broadcast_id == alert.id)
            .group_by(OutboundMessage.channel)
        ).all()
        counts = dict.fromkeys(alert.channels, 0)
        counts.update({str(channel): count for channel, count in rows})
    elif alert.status is BroadcastStatus.CANCELLED:
        counts = {}
    else:
        counts = dict.fromkeys(alert.channels, 0)
        for group in audience.groups(alert, current_app.config["DEFAULT_LANGUAGE"]):
            counts[group.channel.value] += audience.size(session, alert, group)
    held = None
    if alert.status is BroadcastStatus.SCHEDULED and alert.scheduled_at is not None:
        held = _quiet().release_time(alert.scheduled_at, alert.urgent)
    return PlannedAlert(alert.kind, alert.scheduled_at, counts, alert, held)


def alert_plan(session: Session, event: Event, now: datetime | None = None) -> list[PlannedAlert]:
    """The event's alerts: the stored ones once published, else what publishing would plan."""
    if event.published_at is None and not event_alerts.alerts(session, event):
        return publish_plan(session, event, now)
    return [_stored(session, alert) for alert in event_alerts.alerts(session, event)]


def publish_plan(session: Session, event: Event, now: datetime | None = None) -> list[PlannedAlert]:
    """What `publish_event` would plan now: the announcement, the reminder, the start alert."""
    now = now or utcnow()
    if event.status not in EDITABLE or (event.published_at and event_alerts.alerts(session, event)):
        return []
    return [
        _planned(session, event, BroadcastKind.ANNOUNCEMENT, now, at_once=True),
        *_ahead(session, event, event.starts_at, now),
    ]


def _pending(session: Session, event: Event) -> tuple[list[PlannedAlert], bool]:
    """The alerts an action would cancel, and whether an earlier alert already went out."""
    cancelled, alerted = [], False
    for alert in event_alerts.alerts(session, event):
        if alert.status in _STARTED and alert.started_at is not None:
            alerted = True
        if alert.status in _PENDING:
            cancelled.append(_stored(session, alert))
    return cancelled, alerted


def move_consequences(
    session: Session, event: Event, starts_at: datetime, now: datetime | None = None
) -> Consequences:
    now = now or utcnow()
    if event.published_at is None:
        return Consequences()
    cancelled, alerted = _pending(session, event)
    notice = BroadcastKind.CHANGE if alerted else BroadcastKind.ANNOUNCEMENT
    return Consequences(
        cancelled,
        [
            _planned(session, event, notice, now, at_once=True),
            *_ahead(session, event, starts_at, now),
        ],
    )


def cancel_consequences(
    session: Session, event: Event, now: datetime | None = None
) -> Consequences:
    cancelled, alerted = _pending(session, event)
    if not alerted:
        return Consequences(cancelled)
    notice = _planned(session, event, BroadcastKind.CANCELLATION, now or utcnow(), at_once=True)
    return Consequences(cancelled, [notice])


def held_consequences(session: Session, event: Event, now: datetime | None = None) -> Consequences:
    cancelled, _ = _pending(session, event)
    summarized = event.status is EventStatus.HELD and bool(event.summary)
    if event.published_at is None or summarized:
        return Consequences(cancelled)
    notice = _planned(session, event, BroadcastKind.SUMMARY, now or utcnow(), at_once=True)
    return Consequences(cancelled, [notice])
