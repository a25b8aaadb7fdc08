"""The API's own endpoints: its OpenAPI document, who the token is, its communes."""

from __future__ import annotations

from flask import Response, g, jsonify

from bot.api.openapi import api_route, document, schema
from bot.dashboard.permissions import ROLE_CAPABILITIES, Capability, communes_visible
from bot.db import get_session
from bot.models.enums import StaffRoleName

_CAPABILITIES = {"type": "array", "items": {"enum": [c.value for c in Capability]}}

COMMUNE = schema(
    "Commune",
    {
        "type": "object",
        "required": ["slug", "name", "capabilities"],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "role": {"enum": [r.value for r in StaffRoleName] + [None]},
            "capabilities": _CAPABILITIES,
        },
    },
)
ME = schema(
    "Me",
    {
        "type": "object",
        "required": ["email", "name", "national_admin", "communes"],
        "properties": {
            "email": {"type": "string"},
            "name": {"type": "string"},
            "national_admin": {"type": "boolean"},
            "communes": {"type": "array", "items": COMMUNE},
        },
    },
)


@api_route(
    "/openapi.json",
    "GET",
    summary="This document.",
    tag="API",
    capability=None,
    response={"type": "object"},
    public=True,
)
def openapi() -> Response:
    return jsonify(document())


def _communes() -> list[dict]:
    staff = g.staff
    roles = {role.commune_id: role.role for role in staff.roles}
    result = []
    for commune in communes_visible(get_session(), staff):
        role = roles.get(commune.id)
        capabilities = (
            set(Capability) if staff.is_national_admin else ROLE_CAPABILITIES[StaffRoleName(role)]
        )
        result.append(
            {
                "slug": commune.slug,
                "name": commune.name,
                "role": role.value if role else None,
                "capabilities": sorted(c.value for c in capabilities),
            }
        )
    return result


@api_route("/me", "GET", summary="The token's staff user.", tag="API", capability=None, response=ME)
def me() -> Response:
    staff = g.staff
    return jsonify(
        {
            "email": staff.email,
            "name": staff.name,
            "national_admin": staff.is_national_admin,
            "communes": _communes(),
        }
    )


@api_route(
    "/communes",
    "GET",
    summary="The communes the token may read, with its capabilities there.",
    tag="API",
    capability=None,
    response={"type": "array", "items": COMMUNE},
)
def communes() -> Response:
    return jsonify(_communes())
