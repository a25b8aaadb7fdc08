"""The OpenAPI 3.1 document, built from the routes as they are declared.

`api_route` registers a Flask view and its description together, so the
document cannot drift from the endpoints: a route without a description does
not exist, and the tests check every described path answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.api.blueprint import PUBLIC_ENDPOINTS, bp
from bot.dashboard.permissions import Capability

F = TypeVar("F", bound=Callable[..., Any])

_CONVERTER = re.compile(r"<(?:(int|string):)?(\w+)>")

SCHEMAS: dict[str, dict] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "message": {"type": "string"},
                    "fields": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                        "description": "Per field, why it was refused (422).",
                    },
                },
            }
        },
    }
}


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    summary: str
    tag: str
    capability: Capability | None
    response: dict
    request: dict | None = None
    query: dict[str, dict] = field(default_factory=dict)
    status: int = 200
    public: bool = False


OPERATIONS: list[Operation] = []


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def schema(name: str, definition: dict) -> dict:
    """Register a component schema; returns a `$ref` to it."""
    SCHEMAS[name] = definition
    return ref(name)


def api_route(
    rule: str,
    method: str,
    *,
    summary: str,
    tag: str,
    capability: Capability | None,
    response: dict,
    request: dict | None = None,
    query: dict[str, dict] | None = None,
    status: int = 200,
    public: bool = False,
) -> Callable[[F], F]:
    """`bp.route(rule, methods=[method])` plus its OpenAPI operation.

    `capability` is what the caller needs in the commune of the path (None:
    any valid token); `query` maps query parameters to their schemas; a
    `public` route needs no token (the blueprint lets its endpoint through).
    """
    operation = Operation(
        rule,
        method.upper(),
        summary,
        tag,
        capability,
        response,
        request,
        query or {},
        status,
        public,
    )

    def decorate(view: F) -> F:
        OPERATIONS.append(operation)
        bp.route(rule, methods=[operation.method])(view)
        if public:
            PUBLIC_ENDPOINTS.add(f"{bp.name}.{view.__name__}")
        return view

    return decorate


def _path(rule: str) -> tuple[str, list[dict]]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1} if kind == "int" else {"type": "string"},
        }
        for kind, name in _CONVERTER.findall(rule)
    ]
    return bp.url_prefix + _CONVERTER.sub(r"{\2}", rule), parameters


def _operation(op: Operation) -> dict:
    _, parameters = _path(op.rule)
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": definition}
        for name, definition in op.query.items()
    ]
    needs = (
        f" Needs the `{op.capability.value}` capability in the commune." if op.capability else ""
    )
    success: dict[str, Any] = {"description": "Success."}
    if op.status != 204:
        success["content"] = {"application/json": {"schema": op.response}}
    responses: dict[str, Any] = {str(op.status): success}
    if not op.public:
        responses["401"] = _error_response("No valid API token.")
    if "<commune>" in op.rule or op.capability:
        responses["403"] = _error_response("The token's roles do not allow it in this commune.")
    if "<" in op.rule:
        responses["404"] = _error_response("No such commune or object in this commune.")
    document: dict[str, Any] = {
        "summary": op.summary,
        "description": op.summary + needs,
        "operationId": _operation_id(op),
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.public:
        document["security"] = []
    if op.request is not None:
        document["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.request}},
        }
        responses["400"] = _error_response("The body is not a JSON object.")
        responses["415"] = _error_response("The body is not JSON.")
        responses["422"] = _error_response("Some fields are invalid; `fields` says why.")
    return document


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[^a-z0-9]+", "_", _CONVERTER.sub(r"by_\2", op.rule).lower()).strip("_")
    return f"{op.method.lower()}_{words}"


def _error_response(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ref("Error")}}}


def document() -> dict:
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        path, _ = _path(op.rule)
        paths.setdefault(path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Communes+ staff API",
            "version": "1.0.0",
            "description": (
                "Content, sessions, broadcasts and citizen feedback of the communes a staff "
                "user has a role in. Authenticate with `Authorization: Bearer <token>` "
                "(`flask --app bot staff token-create`). Roles: viewer (read), agent (+ "
                "feedback), editor (+ content, sessions, broadcasts), admin (+ staff)."
            ),
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": paths,
    }
