"""Write endpoints for published content, and contracts as OCDS.

The input of each kind is its content file's columns (`bot/dashboard/content_kinds.py`),
checked by the same rules as the files, the forms and the CSV import.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, g, jsonify, request

from bot.api.blueprint import json_body
from bot.api.openapi import schema
from bot.api.reads import RESOURCES
from bot.api.resources import form_values
from bot.api.routing import commune_route
from bot.content.cache import bump_content_version
from bot.dashboard import content_edit
from bot.dashboard.content_export import rows
from bot.dashboard.content_kinds import DATE_COLUMNS, DATETIME_COLUMNS, KINDS, NUMBER_COLUMNS, Kind
from bot.dashboard.ocds import release_package
from bot.dashboard.permissions import Capability
from bot.db import get_session
from bot.models import Commune
from bot.models.types import utcnow
from bot.redis import get_redis

API_KIND = {
    "budget-lines": "budget_lines",
    "documents": "documents",
    "projects": "projects",
    "contracts": "contracts",
    "agenda": "agenda",
    "good-practices": "good_practices",
}
"""API path segment -> content kind."""


def _column(kind: Kind, column: str) -> dict:
    if column == "sample":
        return {"type": "boolean", "description": "Sample data, never a commune's real figure."}
    if column in kind.choices:
        return {"enum": [choice.value for choice in kind.choices[column]]}
    if column in NUMBER_COLUMNS:
        return {"type": "integer"}
    if column in DATE_COLUMNS:
        return {"type": "string", "description": "YYYY-MM-DD"}
    if column in DATETIME_COLUMNS:
        return {"type": "string", "description": "Local time, YYYY-MM-DD HH:MM"}
    if column == "arrondissement":
        return {"type": "string", "description": "The arrondissement's name."}
    return {"type": "string"}


def _input_schema(path: str, kind: Kind) -> dict:
    name = RESOURCES[path].name + "Input"
    properties = {column: _column(kind, column) for column in kind.columns}
    optional = {"key", "sample", "url", "summary", "ends_at", "place", "description"}
    required = [c for c in kind.columns if c not in optional and c not in ("sector", "year")]
    return schema(name, {"type": "object", "required": required, "properties": properties})


def _saved(commune_row: Any, path: str, status: int) -> tuple[Response, int]:
    get_session().commit()
    # Web processes rebuild the citizens' menus from the new content.
    bump_content_version(get_redis())
    return jsonify(RESOURCES[path].dump(commune_row)), status


def _routes(path: str, kind_name: str) -> None:
    kind = KINDS[kind_name]
    body = _input_schema(path, kind)
    python_name = path.replace("-", "_")

    def create(commune: Commune) -> tuple[Response, int]:
        values = form_values(json_body())
        row = content_edit.create(get_session(), g.staff, commune, kind_name, values)
        return _saved(row, path, 201)

    def replace(commune: Commune, item_id: int) -> tuple[Response, int]:
        values = form_values(json_body())
        try:
            row = content_edit.update(get_session(), g.staff, commune, kind_name, item_id, values)
        except content_edit.ContentNotFound:
            abort(404)
        return _saved(row, path, 200)

    def delete(commune: Commune, item_id: int) -> tuple[Response, int]:
        try:
            content_edit.delete(get_session(), g.staff, commune, kind_name, item_id)
        except content_edit.ContentNotFound:
            abort(404)
        get_session().commit()
        bump_content_version(get_redis())
        return Response(status=204), 204

    for view, verb in ((create, "create"), (replace, "replace"), (delete, "delete")):
        view.__name__ = f"{verb}_{python_name}"
    documented = {"tag": path, "capability": Capability.EDIT_CONTENT}
    commune_route(
        f"/communes/<commune>/{path}",
        "POST",
        summary=f"Add one of the commune's {path.replace('-', ' ')}.",
        request=body,
        response=RESOURCES[path].schema_ref,
        status=201,
        **documented,
    )(create)
    commune_route(
        f"/communes/<commune>/{path}/<int:item_id>",
        "PUT",
        summary="Replace every column (a missing `sample` keeps the flag).",
        request=body,
        response=RESOURCES[path].schema_ref,
        **documented,
    )(replace)
    commune_route(
        f"/communes/<commune>/{path}/<int:item_id>",
        "DELETE",
        summary="Remove it; the audit log keeps its values.",
        response={"type": "null"},
        status=204,
        **documented,
    )(delete)


for _path, _kind in API_KIND.items():
    _routes(_path, _kind)


@commune_route(
    "/communes/<commune>/contracts/ocds",
    "GET",
    capability=Capability.READ,
    summary="The commune's contracts as an OCDS 1.1 release package.",
    tag="contracts",
    response={"type": "object", "required": ["releases"]},
)
def contracts_ocds(commune: Commune) -> Response:
    contracts = rows(get_session(), commune, KINDS["contracts"])
    return jsonify(release_package(commune, contracts, request.base_url, utcnow()))
