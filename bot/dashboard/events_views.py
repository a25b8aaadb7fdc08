"""Event pages: council and accountability sessions, scheduled, published, moved, held.

Each action that sends messages (publish, move, cancel, held) takes two
POSTs: the first shows which alerts go and which are cancelled, the second,
carrying `confirm=yes`, does it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from bot.broadcasts.event_alerts import ALERT_CHANNELS
from bot.dashboard import event_edit, event_plan, nav
from bot.dashboard.blueprint import bp
from bot.dashboard.event_plan import Consequences
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.db import get_session
from bot.models import Commune, Event
from bot.models.enums import EventStatus, EventType
from bot.models.types import utcnow

nav.register("dashboard.events", "dashboard.events.menu", 20, Capability.READ)

FIELDS = (
    "type",
    "title",
    "starts_at",
    "ends_at",
    "place",
    "follow_live",
    "agenda",
    "accepts_questions",
)
_DONE = ("created", "updated", "publish", "move", "cancel", "held")
_CLOSED = (EventStatus.CANCELLED, EventStatus.HELD)


def _event(commune: Commune, event_id: int) -> Event:
    found = event_edit.event_of(get_session(), commune, event_id)
    if found is None:
        raise NotFound()
    return found


def _render(template: str, status: int = 200, **context: Any):
    page = render_template(
        f"dashboard/events/{template}",
        channels=[channel.value for channel in ALERT_CHANNELS],
        **context,
    )
    return page, status


@bp.get("/<commune>/events")
@commune_page(Capability.READ)
def events(commune: Commune):
    rows = list(
        get_session().scalars(
            select(Event).where(Event.commune_id == commune.id).order_by(Event.starts_at)
        )
    )
    now = utcnow()
    upcoming = [event for event in rows if event.starts_at >= now]
    past = [event for event in reversed(rows) if event.starts_at < now]
    return _render("list.html", commune=commune, upcoming=upcoming, past=past)


def _values_of(event: Event) -> dict[str, str]:
    return {
        "type": event.type.value,
        "title": event.title,
        "starts_at": event_edit.local_input(event.starts_at),
        "ends_at": event_edit.local_input(event.ends_at),
        "place": event.place or "",
        "follow_live": event.follow_live or "",
        "agenda": event.agenda or "",
        "accepts_questions": "on" if event.accepts_questions else "",
    }


def _form(commune: Commune, event: Event | None, values: dict, errors: dict, status: int = 200):
    return _render(
        "form.html",
        status,
        commune=commune,
        event=event,
        values=values,
        errors=errors,
        types=list(EventType),
    )


def _submitted() -> dict[str, str]:
    return {name: request.form.get(name, "") for name in FIELDS}


@bp.route("/<commune>/events/new", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def event_new(commune: Commune):
    if request.method == "GET":
        return _form(commune, None, {"type": EventType.SESSION_ORDINAIRE.value}, {})
    session = get_session()
    values = _submitted()
    try:
        created = event_edit.create_event(session, g.staff, commune, values)
    except FormInvalid as invalid:
        session.rollback()
        return _form(commune, None, values, invalid.errors, 422)
    session.commit()
    return _to_event(commune, created, "created")


def _to_event(commune: Commune, event: Event, done: str):
    target = url_for("dashboard.event", commune=commune.slug, event_id=event.id, done=done)
    return redirect(target, 303)


@bp.get("/<commune>/events/<int:event_id>")
@commune_page(Capability.READ)
def event(commune: Commune, event_id: int):
    found = _event(commune, event_id)
    session = get_session()
    done = request.args.get("done")
    return _render(
        "show.html",
        commune=commune,
        event=found,
        alerts=event_plan.alert_plan(session, found),
        planned_only=found.published_at is None,
        editable=found.status in event_plan.EDITABLE,
        closed=found.status in _CLOSED,
        done=done if done in _DONE else None,
    )


@bp.route("/<commune>/events/<int:event_id>/edit", methods=["GET", "POST"], endpoint="event_edit")
@commune_page(Capability.EDIT_CONTENT)
def event_edit_page(commune: Commune, event_id: int):
    found = _event(commune, event_id)
    if request.method == "GET":
        return _form(commune, found, _values_of(found), {})
    session = get_session()
    values = _submitted()
    try:
        event_edit.update_event(session, g.staff, commune, found, values)
    except FormInvalid as invalid:
        session.rollback()
        return _form(commune, found, values, invalid.errors, 422)
    session.commit()
    return _to_event(commune, found, "updated")


# --- actions that send messages: look, then confirm ----------------------------------------


def _possible(action: str, event: Event) -> bool:
    if action == "publish":
        return event.status in event_plan.EDITABLE and event.published_at is None
    if action == "held":
        return event.status is not EventStatus.CANCELLED
    return event.status not in _CLOSED


def _consequences(action: str, event: Event, values: dict[str, str]) -> Consequences:
    """What the action would do; FormInvalid when its input is wrong."""
    session = get_session()
    if action == "publish":
        return Consequences(planned=event_plan.publish_plan(session, event))
    if action == "move":
        return event_plan.move_consequences(session, event, event_edit.new_start(event, values))
    if action == "cancel":
        return event_plan.cancel_consequences(session, event)
    event_edit.summary_of(values)
    return event_plan.held_consequences(session, event)


_ACTIONS: dict[str, Callable[..., object]] = {
    "publish": lambda session, commune, event, values: event_edit.publish_event(
        session, g.staff, commune, event
    ),
    "move": lambda session, commune, event, values: event_edit.move_event(
        session, g.staff, commune, event, values
    ),
    "cancel": lambda session, commune, event, values: event_edit.cancel_event(
        session, g.staff, commune, event
    ),
    "held": lambda session, commune, event, values: event_edit.mark_event_held(
        session, g.staff, commune, event, values
    ),
}


def _action_page(
    commune: Commune,
    event: Event,
    action: str,
    values: dict[str, str],
    *,
    reviewed: Consequences | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
):
    return _render(
        "action.html",
        status,
        commune=commune,
        event=event,
        action=action,
        values=values,
        reviewed=reviewed,
        errors=errors or {},
        possible=_possible(action, event),
    )


@bp.route("/<commune>/events/<int:event_id>/<action>", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def event_action(commune: Commune, event_id: int, action: str):
    if action not in _ACTIONS:
        raise NotFound()
    found = _event(commune, event_id)
    needs_input = action in ("move", "held")
    if request.method == "GET":
        values = {
            "starts_at": event_edit.local_input(found.starts_at),
            "summary": found.summary or "",
        }
        reviewed = None
        if not needs_input and _possible(action, found):
            reviewed = _consequences(action, found, values)
        return _action_page(commune, found, action, values, reviewed=reviewed)
    values = {name: request.form.get(name, "").strip() for name in ("starts_at", "summary")}
    if not _possible(action, found):
        return _action_page(commune, found, action, values, status=409)
    try:
        reviewed = _consequences(action, found, values)
    except FormInvalid as invalid:
        return _action_page(commune, found, action, values, errors=invalid.errors, status=422)
    if request.form.get("confirm") != "yes":
        return _action_page(commune, found, action, values, reviewed=reviewed)
    session = get_session()
    try:
        _ACTIONS[action](session, commune, found, values)
    except FormInvalid as invalid:
        session.rollback()
        return _action_page(commune, found, action, values, errors=invalid.errors, status=409)
    session.commit()
    return _to_event(commune, found, action)
