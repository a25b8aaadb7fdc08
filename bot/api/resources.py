"""Rows as JSON, and their JSON Schemas, read off the SQLAlchemy models.

One declaration per resource (model and the columns it shows) gives both the
response body and the schema in the OpenAPI document, so they cannot differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, inspect
from sqlalchemy import Enum as SAEnum

from bot.api.openapi import schema
from bot.dashboard.forms import FormInvalid
from bot.models.types import UTCDateTime


@dataclass(frozen=True)
class Resource:
    name: str
    model: type
    columns: tuple[str, ...]
    schema_ref: dict

    def dump(self, row: object) -> dict[str, Any]:
        return {name: _json(getattr(row, name)) for name in self.columns}

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


def _json(value: object) -> object:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def form_values(body: Mapping[str, Any]) -> dict[str, str]:
    """A JSON body as the text fields the write functions read, as from a form.

    Numbers and booleans become their text, null an empty field; a list or an
    object is refused here, with the field's name.
    """
    values, errors = {}, {}
    for name, value in body.items():
        if value is None:
            values[name] = ""
        elif isinstance(value, bool):
            values[name] = "true" if value else "false"
        elif isinstance(value, int | float | str):
            values[name] = str(value)
        else:
            errors[name] = "must be a text, a number or a boolean"
    if errors:
        raise FormInvalid(errors)
    return values
