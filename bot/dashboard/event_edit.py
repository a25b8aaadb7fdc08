"""Scheduling council and accountability sessions, and what their alerts will do.

Plain functions over plain values, shared by the pages (events_views.py) and the
JSON API. Write functions check what staff typed, raise FormInvalid with a
message per field in the staff's language, write through
bot.broadcasts.event_alerts, add an audit row, and leave the commit to the
caller. What the alerts would do before anything is written is in event_plan.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.broadcasts import event_alerts
from bot.content.cache import bump_content_version
from bot.dashboard.event_plan import EDITABLE
from bot.dashboard.forms import FormInvalid, flag, local_moment, text
from bot.dashboard.text import translate
from bot.db import after_commit
from bot.i18n import LOCAL_TIMEZONE
from bot.models import Broadcast, Commune, Event, StaffUser
from bot.models.enums import EventStatus, EventType
from bot.redis import get_redis

MAX_TITLE = Event.__table__.c.title.type.length or 300
MAX_PLACE = Event.__table__.c.place.type.length or 300
MAX_FOLLOW_LIVE = 1000
MAX_AGENDA_LINES = 30
MAX_AGENDA_LINE = 300
MAX_SUMMARY = 4000
MAX_DATETIME_INPUT = 40
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100
"""Dates typed outside these years are typing mistakes, not sessions."""


def _error(key: str, **params: object) -> str:
    return translate(f"dashboard.events.error.{key}", **params)


def parse_local_datetime(raw: object, name: str, *, required: bool) -> datetime | None:
    """A `datetime-local` value ("2030-03-12T10:00", Porto-Novo time) as an aware UTC datetime.

    Raises FormInvalid naming `name` when it is missing (and `required`) or not a date.
    """
    typed = raw.strip() if isinstance(raw, str) else ""
    if not typed:
        if required:
            raise FormInvalid({name: _error("required")})
        return None
    moment = local_moment(typed) if len(typed) <= MAX_DATETIME_INPUT else None
    if moment is None:
        raise FormInvalid({name: _error("datetime")})
    if not EARLIEST_YEAR <= moment.astimezone(LOCAL_TIMEZONE).year <= LATEST_YEAR:
        raise FormInvalid({name: _error("year", first=EARLIEST_YEAR, last=LATEST_YEAR)})
    return moment


def local_input(moment: datetime | None) -> str:
    """The value a `datetime-local` input shows for a stored UTC time."""
    if moment is None:
        return ""
    return moment.astimezone(LOCAL_TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def event_of(session: Session, commune: Commune, event_id: int) -> Event | None:
    """The event `event_id` of `commune`; None when it is another commune's or unknown."""
    return session.scalar(select(Event).where(Event.id == event_id, Event.commune_id == commune.id))


def _checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Event columns typed in a form, checked; FormInvalid with every bad field."""
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    try:
        checked["type"] = EventType(text(values, "type"))
    except ValueError:
        errors["type"] = _error("type")
    title = text(values, "title")
    if not title:
        errors["title"] = _error("required")
    elif len(title) > MAX_TITLE:
        errors["title"] = _error("too_long", limit=MAX_TITLE)
    checked["title"] = title
    for name in ("starts_at", "ends_at"):
        try:
            checked[name] = parse_local_datetime(
                values.get(name), name, required=name == "starts_at"
            )
        except FormInvalid as invalid:
            errors.update(invalid.errors)
    starts, ends = checked.get("starts_at"), checked.get("ends_at")
    if starts and ends and ends <= starts:
        errors["ends_at"] = _error("ends_before")
    for name, limit in (("place", MAX_PLACE), ("follow_live", MAX_FOLLOW_LIVE)):
        given = text(values, name)
        if len(given) > limit:
            errors[name] = _error("too_long", limit=limit)
        checked[name] = given or None
    lines = [line.strip() for line in text(values, "agenda").splitlines() if line.strip()]
    if len(lines) > MAX_AGENDA_LINES:
        errors["agenda"] = _error("agenda_lines", limit=MAX_AGENDA_LINES)
    elif any(len(line) > MAX_AGENDA_LINE for line in lines):
        errors["agenda"] = _error("too_long", limit=MAX_AGENDA_LINE)
    checked["agenda"] = "\n".join(lines) or None
    checked["accepts_questions"] = flag(values, "accepts_questions")
    if errors:
        raise FormInvalid(errors)
    return checked


def _content_changed(session: Session) -> None:
    # Citizens' menus read a cached snapshot: tell every process to rebuild it.
    after_commit(session, partial(bump_content_version, get_redis()))


def _same_commune(event: Event, commune: Commune) -> None:
    if event.commune_id != commune.id:
        raise ValueError(f"event {event.id} is not of commune {commune.slug}")


def create_event(
    session: Session, staff: StaffUser, commune: Commune, values: Mapping[str, Any]
) -> Event:
    """A new draft event of `commune` from form values.

    Values: type (an EventType value), title, starts_at and ends_at (local
    "YYYY-MM-DDTHH:MM"; ends_at optional), place, follow_live, agenda (one item
    per line), accepts_questions ("on"/"1"/"true"). Citizens see it once published.
    """
    event = Event(commune_id=commune.id, status=EventStatus.DRAFT, is_sample=False)
    for name, value in _checked(values).items():
        setattr(event, name, value)
    session.add(event)
    session.flush()
    audit.record(
        session, staff, "create", "event", event.id, commune.id, after=audit.snapshot(event)
    )
    _content_changed(session)
    return event


def update_event(
    session: Session, staff: StaffUser, commune: Commune, event: Event, values: Mapping[str, Any]
) -> Event:
    """Change an event's details (same values as `create_event`).

    A held or cancelled event cannot be edited. Once published, its start can
    only change through `move_event`, which tells subscribers; alerts already
    planned keep the text they were written with.
    """
    _same_commune(event, commune)
    if event.status not in EDITABLE:
        raise FormInvalid({"status": _error("not_editable")})
    checked = _checked(values)
    if event.published_at is not None:
        # The form shows minutes only: an unchanged start keeps its stored seconds.
        if checked["starts_at"] != event.starts_at.replace(second=0, microsecond=0):
            raise FormInvalid({"starts_at": _error("use_move")})
        checked["starts_at"] = event.starts_at
    before = audit.snapshot(event)
    for name, value in checked.items():
        setattr(event, name, value)
    audit.record(
        session, staff, "update", "event", event.id, commune.id, before, audit.snapshot(event)
    )
    _content_changed(session)
    return event


def _apply(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    event: Event,
    action: str,
    change: Any,
) -> list[Broadcast]:
    _same_commune(event, commune)
    before = audit.snapshot(event)
    try:
        planned = change()
    except event_alerts.EventStateError:
        raise FormInvalid(
            {"status": _error("state", status=translate(f"dashboard.events.status.{event.status}"))}
        ) from None
    after = {**audit.snapshot(event), "alerts": [alert.id for alert in planned]}
    audit.record(session, staff, action, "event", event.id, commune.id, before, after)
    _content_changed(session)
    return planned


def publish_event(
    session: Session, staff: StaffUser, commune: Commune, event: Event, now: datetime | None = None
) -> list[Broadcast]:
    """Publish the event and plan its alerts (see `publish_plan`); returns the alerts planned."""
    return _apply(
        session, staff, commune, event, "publish", lambda: event_alerts.publish(session, event, now)
    )


def move_event(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    event: Event,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> list[Broadcast]:
    """Move the event to `values["starts_at"]` (local time); its end keeps its duration.

    Pending alerts are cancelled and planned again; those already alerted get
    a change notice. Returns the alerts planned, the notice first.
    """
    starts_at = new_start(event, values)
    return _apply(
        session,
        staff,
        commune,
        event,
        "move",
        lambda: event_alerts.move(session, event, starts_at, now),
    )


def new_start(event: Event, values: Mapping[str, Any]) -> datetime:
    """The checked `values["starts_at"]` of a move; FormInvalid when missing, bad or unchanged."""
    starts_at = parse_local_datetime(values.get("starts_at"), "starts_at", required=True)
    assert starts_at is not None
    if starts_at == event.starts_at:
        raise FormInvalid({"starts_at": _error("same_start")})
    return starts_at


def cancel_event(
    session: Session, staff: StaffUser, commune: Commune, event: Event, now: datetime | None = None
) -> list[Broadcast]:
    """Cancel the event and its pending alerts; those already alerted get a notice."""
    return _apply(
        session, staff, commune, event, "cancel", lambda: event_alerts.cancel(session, event, now)
    )


def mark_event_held(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    event: Event,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> list[Broadcast]:
    """Record that the event was held, with `values["summary"]`, and send the summary alert."""
    summary = summary_of(values)
    return _apply(
        session,
        staff,
        commune,
        event,
        "held",
        lambda: event_alerts.mark_held(session, event, summary, now),
    )


def summary_of(values: Mapping[str, Any]) -> str:
    """The checked `values["summary"]` of an event marked held (may be empty)."""
    summary = text(values, "summary")
    if len(summary) > MAX_SUMMARY:
        raise FormInvalid({"summary": _error("too_long", limit=MAX_SUMMARY)})
    return summary
