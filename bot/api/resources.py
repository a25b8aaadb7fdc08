"""Rows as JSON, and their JSON Schemas, read off the SQLAlchemy models.

One declaration per resource (model and the columns it shows) gives both the
response body and the schema in the OpenAPI document, so they cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, inspect
from sqlalchemy import Enum as SAEnum

from bot.api.openapi import schema
from bot.audit import json_safe
from bot.dashboard.forms import FormInvalid
from bot.models.types import UTCDateTime


@dataclass(frozen=True)
class Resource:
    name: str
    model: type
    columns: tuple[str, ...]
    schema_ref: dict

    def dump(self, row: object) -> dict[str, Any]:
        return {name: json_safe(getattr(row, name)) for name in self.columns}

    def dump_all(self, rows: Iterable[object]) -> list[dict[str, Any]]:
        return [self.dump(row) for row in rows]


def resource(
    name: str, model: type, *, exclude: Iterable[str] = (), extra: Mapping[str, dict] | None = None
) -> Resource:
    """The model's columns minus `exclude` (never a phone number, hash or token)."""
    skipped = {"commune_id", "content_key", *exclude}
    columns = [c for c in inspect(model).columns if c.key not in skipped]
    properties = {c.key: _column_schema(c) for c in columns}
    properties.update(extra or {})
    definition = {
        "type": "object",
        "required": [c.key for c in columns],
        "properties": properties,
    }
    return Resource(name, model, tuple(c.key for c in columns), schema(name, definition))


def _column_schema(column: Any) -> dict:
    kind = column.type
    if isinstance(kind, SAEnum):
        values: list[Any] = list(kind.enums)
        base: dict = {"enum": values}
    elif isinstance(kind, Boolean):
        base = {"type": "boolean"}
    elif isinstance(kind, Integer | BigInteger):
        base = {"type": "integer"}
    elif isinstance(kind, UTCDateTime):
        base = {"type": "string", "format": "date-time"}
    elif isinstance(kind, Date):
        base = {"type": "string", "format": "date"}
    elif isinstance(kind, JSON):
        base = {}
    else:
        base = {"type": "string"}
    if column.nullable and base:
        if "enum" in base:
            base = {"enum": [*base["enum"], None]}
        else:
            base = {
                "type": [base["type"], "null"],
                **{k: v for k, v in base.items() if k != "type"},
            }
    return base


def form_values(body: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body as the values the write functions read, as from a form.

    Numbers and booleans become their text and null an empty field, as a form
    would send them; a list or an object of such values keeps its shape (a
    broadcast's channels, a template's variables). Anything nested deeper is
    refused here, with the field's name.
    """
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, value in body.items():
        if isinstance(value, list):
            items = [_scalar(item) for item in value]
            if any(item is None for item in items):
                errors[name] = "must hold only texts, numbers or booleans"
            values[name] = items
        elif isinstance(value, dict):
            pairs = {str(key): _scalar(item) for key, item in value.items()}
            if any(item is None for item in pairs.values()):
                errors[name] = "must map names to texts, numbers or booleans"
            values[name] = pairs
        else:
            values[name] = "" if value is None else _scalar(value)
    if errors:
        raise FormInvalid(errors)
    return values


def _scalar(value: object) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    return None
