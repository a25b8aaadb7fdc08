"""Write endpoints for sessions (events), broadcasts and feedback.

Each calls the dashboard's own write function (checks, audit row, alerts), so
the API can do exactly what the pages can, no more; the view commits.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, jsonify

from bot.api.blueprint import json_body
from bot.api.openapi import schema
from bot.api.reads import RESOURCES, in_commune
from bot.api.resources import form_values
from bot.api.routing import commune_route
from bot.broadcasts.compose import Estimate
from bot.dashboard import broadcast_edit, event_edit, feedback_edit
from bot.dashboard.permissions import Capability
from bot.db import get_session
from bot.models import Broadcast, Commune, Event, Feedback
from bot.models.enums import EventType, FeedbackStatus, Topic

_TEXT = {"type": "string"}
_LOCAL_TIME = {
    "type": "string",
    "description": "Local time in Porto-Novo, YYYY-MM-DDTHH:MM.",
    "examples": ["2026-12-05T09:00"],
}

EVENT_INPUT = schema(
    "EventInput",
    {
        "type": "object",
        "required": ["type", "title", "starts_at"],
        "properties": {
            "type": {"enum": [t.value for t in EventType]},
            "title": _TEXT,
            "starts_at": _LOCAL_TIME,
            "ends_at": _LOCAL_TIME,
            "place": _TEXT,
            "follow_live": _TEXT,
            "agenda": {"type": "string", "description": "One item per line."},
            "accepts_questions": {"type": "boolean"},
        },
    },
)
BROADCAST_INPUT = schema(
    "BroadcastInput",
    {
        "type": "object",
        "required": ["topic", "text_fr", "channels"],
        "properties": {
            "topic": {"enum": [t.value for t in Topic]},
            "text_fr": _TEXT,
            "text_en": _TEXT,
            "channels": {"type": "array", "items": {"enum": ["sms", "whatsapp"]}},
            "whatsapp_template": _TEXT,
            "template_variables": {"type": "object", "additionalProperties": _TEXT},
            "scheduled_at": {**_LOCAL_TIME, "description": "Local time; absent: now."},
            "urgent": {"type": "boolean", "description": "Goes even in quiet hours."},
        },
    },
)
ESTIMATE = schema(
    "Estimate",
    {
        "type": "object",
        "required": ["recipients", "cost_xof", "held_until", "lines"],
        "properties": {
            "recipients": {"type": "integer"},
            "cost_xof": {"type": "integer"},
            "held_until": {"type": ["string", "null"], "format": "date-time"},
            "lines": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "channel": _TEXT,
                        "language": _TEXT,
                        "text": _TEXT,
                        "replaced": {"type": "array", "items": _TEXT},
                        "segments": {"type": "integer"},
                        "recipients": {"type": "integer"},
                        "cost_xof": {"type": "integer"},
                        "outside_window": {"type": "integer"},
                    },
                },
            },
        },
    },
)
EVENT_WITH_ALERTS = schema(
    "EventWithAlerts",
    {
        "type": "object",
        "required": ["event", "alerts"],
        "properties": {
            "event": RESOURCES["events"].schema_ref,
            "alerts": {"type": "array", "items": RESOURCES["broadcasts"].schema_ref},
        },
    },
)

_EVENTS = "/communes/<commune>/events"
_BROADCASTS = "/communes/<commune>/broadcasts"
_FEEDBACK = "/communes/<commune>/feedback/<int:item_id>"


def _committed(payload: Any, status: int = 200) -> tuple[Response, int]:
    get_session().commit()
    return jsonify(payload), status


def _event_result(event: Event, alerts: list[Broadcast]) -> tuple[Response, int]:
    return _committed(
        {
            "event": RESOURCES["events"].dump(event),
            "alerts": RESOURCES["broadcasts"].dump_all(alerts),
        }
    )


@commune_route(
    _EVENTS,
    "POST",
    capability=Capability.EDIT_CONTENT,
    summary="Schedule a council or accountability session (a draft until published).",
    tag="events",
    request=EVENT_INPUT,
    response=RESOURCES["events"].schema_ref,
    status=201,
)
def create_event(commune: Commune) -> tuple[Response, int]:
    values = form_values(json_body())
    event = event_edit.create_event(get_session(), g.staff, commune, values)
    return _committed(RESOURCES["events"].dump(event), 201)


@commune_route(
    _EVENTS + "/<int:item_id>",
    "PATCH",
    capability=Capability.EDIT_CONTENT,
    summary="Change a session's details (all fields, as on creation).",
    tag="events",
    request=EVENT_INPUT,
    response=RESOURCES["events"].schema_ref,
)
def update_event(commune: Commune, item_id: int) -> tuple[Response, int]:
    event = in_commune(Event, item_id, commune)
    values = form_values(json_body())
    event_edit.update_event(get_session(), g.staff, commune, event, values)
    return _committed(RESOURCES["events"].dump(event))


@commune_route(
    _EVENTS + "/<int:item_id>/publish",
    "POST",
    capability=Capability.EDIT_CONTENT,
    summary="Publish a session and plan its alerts (announcement, reminder, start).",
    tag="events",
    response=EVENT_WITH_ALERTS,
)
def publish_event(commune: Commune, item_id: int) -> tuple[Response, int]:
    event = in_commune(Event, item_id, commune)
    alerts = event_edit.publish_event(get_session(), g.staff, commune, event)
    return _event_result(event, alerts)


@commune_route(
    _EVENTS + "/<int:item_id>/move",
    "POST",
    capability=Capability.EDIT_CONTENT,
    summary="Move a published session; those already alerted get a change notice.",
    tag="events",
    request=schema(
        "MoveInput",
        {"type": "object", "required": ["starts_at"], "properties": {"starts_at": _LOCAL_TIME}},
    ),
    response=EVENT_WITH_ALERTS,
)
def move_event(commune: Commune, item_id: int) -> tuple[Response, int]:
    event = in_commune(Event, item_id, commune)
    values = form_values(json_body())
    alerts = event_edit.move_event(get_session(), g.staff, commune, event, values)
    return _event_result(event, alerts)


@commune_route(
    _EVENTS + "/<int:item_id>/cancel",
    "POST",
    capability=Capability.EDIT_CONTENT,
    summary="Cancel a session; those already alerted are told.",
    tag="events",
    response=EVENT_WITH_ALERTS,
)
def cancel_event(commune: Commune, item_id: int) -> tuple[Response, int]:
    event = in_commune(Event, item_id, commune)
    alerts = event_edit.cancel_event(get_session(), g.staff, commune, event)
    return _event_result(event, alerts)


@commune_route(
    _EVENTS + "/<int:item_id>/held",
    "POST",
    capability=Capability.EDIT_CONTENT,
    summary="Mark a session held, with its summary, which subscribers are sent.",
    tag="events",
    request=schema("HeldInput", {"type": "object", "properties": {"summary": _TEXT}}),
    response=EVENT_WITH_ALERTS,
)
def event_held(commune: Commune, item_id: int) -> tuple[Response, int]:
    event = in_commune(Event, item_id, commune)
    values = form_values(json_body())
    alerts = event_edit.mark_event_held(get_session(), g.staff, commune, event, values)
    return _event_result(event, alerts)


def _estimate(estimate: Estimate) -> dict[str, Any]:
    return {
        "recipients": estimate.recipients,
        "cost_xof": estimate.cost_xof,
        "held_until": estimate.held_until.isoformat() if estimate.held_until else None,
        "lines": [
            {
                "channel": line.channel.value,
                "language": line.language,
                "text": line.text,
                "replaced": list(line.replaced),
                "segments": line.segments,
                "recipients": line.recipients,
                "cost_xof": line.cost_xof,
                "outside_window": line.outside_window,
            }
            for line in estimate.lines
        ],
    }


@commune_route(
    _BROADCASTS + "/preview",
    "POST",
    capability=Capability.SEND_BROADCASTS,
    summary="What a broadcast would send, to how many, at what cost; stores nothing.",
    tag="broadcasts",
    request=BROADCAST_INPUT,
    response=ESTIMATE,
)
def preview_broadcast(commune: Commune) -> Response:
    values = form_values(json_body())
    return jsonify(_estimate(broadcast_edit.preview(get_session(), commune, values)))


@commune_route(
    _BROADCASTS,
    "POST",
    capability=Capability.SEND_BROADCASTS,
    summary="Send a broadcast now, or at `scheduled_at`.",
    tag="broadcasts",
    request=BROADCAST_INPUT,
    response=RESOURCES["broadcasts"].schema_ref,
    status=201,
)
def send_broadcast(commune: Commune) -> tuple[Response, int]:
    values = form_values(json_body())
    broadcast = broadcast_edit.send(get_session(), g.staff, commune, values)
    return _committed(RESOURCES["broadcasts"].dump(broadcast), 201)


def _steering(action: str, summary: str) -> None:
    steer = getattr(broadcast_edit, action)

    def view(commune: Commune, item_id: int) -> tuple[Response, int]:
        broadcast = in_commune(Broadcast, item_id, commune)
        steer(get_session(), g.staff, commune, broadcast)
        return _committed(RESOURCES["broadcasts"].dump(broadcast))

    view.__name__ = f"{action}_broadcast"
    commune_route(
        _BROADCASTS + f"/<int:item_id>/{action}",
        "POST",
        capability=Capability.SEND_BROADCASTS,
        summary=summary,
        tag="broadcasts",
        response=RESOURCES["broadcasts"].schema_ref,
    )(view)


_steering("pause", "Pause a broadcast between chunks.")
_steering("resume", "Resume a paused broadcast.")
_steering("cancel", "Cancel a broadcast; messages not yet handed over are skipped.")


def _ticket_action(action: str, function: str, summary: str, request: dict) -> None:
    change = getattr(feedback_edit, function)

    def view(commune: Commune, item_id: int) -> tuple[Response, int]:
        ticket = in_commune(Feedback, item_id, commune)
        values = form_values(json_body())
        change(get_session(), g.staff, commune, ticket, values)
        return _committed(RESOURCES["feedback"].dump(ticket))

    view.__name__ = f"{action}_feedback"
    commune_route(
        f"{_FEEDBACK}/{action}",
        "POST",
        capability=Capability.HANDLE_FEEDBACK,
        summary=summary,
        tag="feedback",
        request=request,
        response=RESOURCES["feedback"].schema_ref,
    )(view)


def _object(name: str, required: list[str], properties: dict) -> dict:
    return schema(name, {"type": "object", "required": required, "properties": properties})


_ticket_action(
    "assign",
    "assign",
    "Give a ticket to a staff member of the commune ('me', 'none' or a staff id).",
    _object("AssignInput", ["assignee"], {"assignee": _TEXT}),
)
_ticket_action(
    "status",
    "set_status",
    "Move a ticket on; the citizen is sent the status and the public note.",
    _object(
        "StatusInput",
        ["status"],
        {"status": {"enum": [s.value for s in FeedbackStatus]}, "note": _TEXT},
    ),
)
_ticket_action(
    "merge",
    "merge",
    "Mark a ticket a duplicate of another ticket of the commune (its reference).",
    _object("MergeInput", ["into"], {"into": _TEXT}),
)
