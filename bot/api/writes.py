"""Write endpoints for sessions (events), broadcasts and feedback.

Each calls the dashboard's own write function (checks, audit row, alerts), so
the API can do exactly what the pages can, no more; the view commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g, jsonify

from bot.api.blueprint import json_body
from bot.api.openapi import schema
from bot.api.reads import RESOURCES, in_commune
from bot.api.resources import form_values
from bot.api.routing import commune_route
from bot.broadcasts.compose import BROADCAST_TOPICS, Estimate
from bot.dashboard import broadcast_edit, event_edit, feedback_edit
from bot.dashboard.permissions import Capability
from bot.db import get_session
from bot.models import Broadcast, Commune, Event, Feedback
from bot.models.enums import EventType, FeedbackStatus

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
            "topic": {"enum": [t.value for t in BROADCAST_TOPICS]},
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


def _committed(payload: Any, status: int = 200) -> tuple[Response, int]:
    get_session().commit()
    return jsonify(payload), status


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


def _action(
    path: str,
    model: type,
    action: str,
    change: Callable[..., Any],
    *,
    capability: Capability,
    summary: str,
    result: Callable[[Any, Any], Any],
    request: dict | None = None,
) -> None:
    """POST `/communes/<commune>/<path>/<id>/<action>`, committed.

    Runs `change(session, staff, commune, row)` on a row of the commune, with the
    body's values as a last argument when the action takes a body; `result`
    makes the answer from the row and what `change` returned.
    """

    def view(commune: Commune, item_id: int) -> tuple[Response, int]:
        row = in_commune(model, item_id, commune)
        arguments = [get_session(), g.staff, commune, row]
        if request is not None:
            arguments.append(form_values(json_body()))
        return _committed(result(row, change(*arguments)))

    view.__name__ = f"{action}_{path.replace('-', '_')}"
    commune_route(
        f"/communes/<commune>/{path}/<int:item_id>/{action}",
        "POST",
        capability=capability,
        summary=summary,
        tag=path,
        request=request,
        response=EVENT_WITH_ALERTS if model is Event else RESOURCES[path].schema_ref,
    )(view)


def _event_and_alerts(event: Event, alerts: list[Broadcast]) -> dict[str, Any]:
    return {
        "event": RESOURCES["events"].dump(event),
        "alerts": RESOURCES["broadcasts"].dump_all(alerts),
    }


def _dump(path: str) -> Callable[[Any, Any], Any]:
    return lambda row, _returned: RESOURCES[path].dump(row)


for _name, _change, _summary, _request in (
    (
        "publish",
        event_edit.publish_event,
        "Publish a session and plan its alerts (announcement, reminder, start).",
        None,
    ),
    (
        "move",
        event_edit.move_event,
        "Move a published session; those already alerted get a change notice.",
        schema(
            "MoveInput",
            {"type": "object", "required": ["starts_at"], "properties": {"starts_at": _LOCAL_TIME}},
        ),
    ),
    ("cancel", event_edit.cancel_event, "Cancel a session; those already alerted are told.", None),
    (
        "held",
        event_edit.mark_event_held,
        "Mark a session held, with its summary, which subscribers are sent.",
        schema("HeldInput", {"type": "object", "properties": {"summary": _TEXT}}),
    ),
):
    _action(
        "events",
        Event,
        _name,
        _change,
        capability=Capability.EDIT_CONTENT,
        summary=_summary,
        result=_event_and_alerts,
        request=_request,
    )


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


for _name, _summary in (
    ("pause", "Pause a broadcast between chunks."),
    ("resume", "Resume a paused broadcast."),
    ("cancel", "Cancel a broadcast; messages not yet handed over are skipped."),
):
    _action(
        "broadcasts",
        Broadcast,
        _name,
        getattr(broadcast_edit, _name),
        capability=Capability.SEND_BROADCASTS,
        summary=_summary,
        result=_dump("broadcasts"),
    )


def _object(name: str, required: list[str], properties: dict) -> dict:
    return schema(name, {"type": "object", "required": required, "properties": properties})


for _name, _change, _summary, _request in (
    (
        "assign",
        feedback_edit.assign,
        "Give a ticket to a staff member of the commune ('me', 'none' or a staff id).",
        _object("AssignInput", ["assignee"], {"assignee": _TEXT}),
    ),
    (
        "status",
        feedback_edit.set_status,
        "Move a ticket on; the citizen is sent the status and the public note.",
        _object(
            "StatusInput",
            ["status"],
            {"status": {"enum": [s.value for s in FeedbackStatus]}, "note": _TEXT},
        ),
    ),
    (
        "merge",
        feedback_edit.merge,
        "Mark a ticket a duplicate of another ticket of the commune (its reference).",
        _object("MergeInput", ["into"], {"into": _TEXT}),
    ),
):
    _action(
        "feedback",
        Feedback,
        _name,
        _change,
        capability=Capability.HANDLE_FEEDBACK,
        summary=_summary,
        result=_dump("feedback"),
        request=_request,
    )
