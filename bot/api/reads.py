"""Read endpoints: a commune's content, sessions, broadcasts and feedback.

Everything here needs only the `read` capability in the commune of the path;
an id from another commune is not found.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request
from sqlalchemy import select

from bot.api.resources import Resource, resource
from bot.api.routing import commune_route
from bot.dashboard.permissions import Capability
from bot.db import get_session
from bot.models import (
    AgendaItem,
    Broadcast,
    BudgetLine,
    Commune,
    Contract,
    Document,
    Event,
    Feedback,
    GoodPractice,
    Project,
)
from bot.models.enums import FeedbackStatus

MAX_LIMIT = 500

RESOURCES: dict[str, Resource] = {
    "budget-lines": resource("BudgetLine", BudgetLine),
    "documents": resource("Document", Document),
    "projects": resource("Project", Project),
    "contracts": resource("Contract", Contract),
    "agenda": resource("AgendaItem", AgendaItem),
    "good-practices": resource("GoodPractice", GoodPractice),
    "events": resource("Event", Event),
    "broadcasts": resource("Broadcast", Broadcast),
    # Who wrote it stays out: staff answer a ticket, they do not need the number.
    "feedback": resource("Feedback", Feedback, exclude=("contact_id", "draft_id")),
}

_PAGING = {
    "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 100},
    "offset": {"type": "integer", "minimum": 0, "default": 0},
}


def _page() -> tuple[int, int]:
    limit = request.args.get("limit", 100, type=int)
    offset = request.args.get("offset", 0, type=int)
    if limit is None or offset is None or not 1 <= limit <= MAX_LIMIT or offset < 0:
        abort(400, description=f"limit is 1 to {MAX_LIMIT}, offset 0 or more")
    return limit, offset


def in_commune(model: type, row_id: int, commune: Commune) -> Any:
    """The row `row_id` of `model` if it belongs to `commune`, else 404."""
    found = get_session().get(model, row_id)
    if found is None or found.commune_id != commune.id:
        abort(404)
    return found


def _listing(kind: str, query_extra: dict[str, dict] | None = None):
    item = RESOURCES[kind]

    def view(commune: Commune) -> Response:
        limit, offset = _page()
        query = select(item.model).where(item.model.commune_id == commune.id)
        if kind == "feedback" and request.args.get("status"):
            status = request.args["status"]
            if status not in {s.value for s in FeedbackStatus}:
                abort(400, description="unknown status")
            query = query.where(Feedback.status == status)
        rows = get_session().scalars(query.order_by(item.model.id).limit(limit).offset(offset))
        return jsonify(item.dump_all(rows))

    view.__name__ = f"list_{kind.replace('-', '_')}"
    commune_route(
        f"/communes/<commune>/{kind}",
        "GET",
        summary=f"The commune's {kind.replace('-', ' ')}, by id.",
        tag=kind,
        capability=Capability.READ,
        response={"type": "array", "items": item.schema_ref},
        query={**_PAGING, **(query_extra or {})},
    )(view)


def _one(kind: str):
    item = RESOURCES[kind]

    def view(commune: Commune, item_id: int) -> Response:
        return jsonify(item.dump(in_commune(item.model, item_id, commune)))

    view.__name__ = f"get_{kind.replace('-', '_')}"
    commune_route(
        f"/communes/<commune>/{kind}/<int:item_id>",
        "GET",
        summary=f"One of the commune's {kind.replace('-', ' ')}.",
        tag=kind,
        capability=Capability.READ,
        response=item.schema_ref,
    )(view)


for _kind in RESOURCES:
    extra = {"status": {"enum": [s.value for s in FeedbackStatus]}} if _kind == "feedback" else None
    _listing(_kind, extra)
    _one(_kind)
