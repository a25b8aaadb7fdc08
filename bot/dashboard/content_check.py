"""Check rows of one content kind and plan their upsert, for forms and CSV uploads alike.

Rows go through `FieldReader` and the builders of `bot.content.checks` (the rules
of the shipped files), then through what the database adds: column lengths, the
range of a BIGINT, the commune's arrondissements, and an ocid being unique across
communes. Nothing here writes; `plan` says what an upsert would create or update.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import BigInteger, String, select
from sqlalchemy.orm import Session

from bot.content.records import ContentError
from bot.content.sources import FieldReader, Message, RawRecord
from bot.dashboard.content_kinds import ATTRIBUTE_OF_COLUMN, Context, Kind
from bot.i18n import t
from bot.models import Area, Commune, Contract
from bot.models.enums import AreaKind

BIGINT_MAX = 2**63 - 1


@dataclass
class Checked:
    """A valid row: the model attributes it sets, and where it came from."""

    line: int
    values: dict[str, Any]
    cells: dict[str, str]
    """The row as written in the file (what a preview shows)."""


@dataclass
class Change:
    line: int
    action: Literal["create", "update", "unchanged"]
    values: dict[str, Any]
    cells: dict[str, str]
    row: Any | None = None
    """The existing row (update, unchanged)."""
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """attribute -> (before, after), for an update."""


def context(session: Session, commune: Commune) -> Context:
    areas = session.execute(
        select(Area.name, Area.id)
        .where(Area.commune_id == commune.id, Area.kind == AreaKind.ARRONDISSEMENT)
        .order_by(Area.id)
    )
    return Context({name: area_id for name, area_id in areas})


def check(
    kind: Kind,
    raws: list[RawRecord],
    label: str,
    ctx: Context,
    errors: list[ContentError],
) -> list[Checked]:
    """The valid rows of `raws`; every problem is appended to `errors`."""
    seen: dict[Hashable, int] = {}
    checked: list[Checked] = []
    for raw in raws:
        fields = FieldReader(label, raw, errors)
        record = kind.build(fields, seen, ctx)
        values = kind.values(record, ctx)
        _fits_columns(kind, fields, values)
        if fields.ok:
            cells = {name: "" if v is None else str(v) for name, (v, _line) in raw.values.items()}
            checked.append(Checked(raw.line, values, cells))
    return checked


def _fits_columns(kind: Kind, fields: FieldReader, values: dict[str, Any]) -> None:
    """What the files' rules leave to the database: text lengths and BIGINT range."""
    columns = kind.model.__table__.columns
    for column in kind.columns:
        name = ATTRIBUTE_OF_COLUMN.get(column, column)
        value, sql_type = values.get(name), columns[name].type
        if isinstance(value, str) and isinstance(sql_type, String) and sql_type.length:
            if len(value) > sql_type.length:
                message = Message(
                    "dashboard.content.check.too_long",
                    "must be at most {limit} characters, got {length}",
                    limit=sql_type.length,
                    length=len(value),
                )
                fields.error(column, message, fields.line(column))
        elif isinstance(value, int) and isinstance(sql_type, BigInteger) and value > BIGINT_MAX:
            message = Message(
                "dashboard.content.check.too_big", "must be at most {limit}", limit=BIGINT_MAX
            )
            fields.error(column, message, fields.line(column))


def existing_rows(session: Session, kind: Kind, commune: Commune) -> dict[tuple, Any]:
    """The commune's rows of `kind` by natural key."""
    rows = session.scalars(select(kind.model).where(kind.model.commune_id == commune.id))
    return {tuple(getattr(row, name) for name in kind.key): row for row in rows}


def ocid_elsewhere(session: Session, commune: Commune, ocids: list[str]) -> set[str]:
    """The ocids among `ocids` that another commune already holds (ocid is unique)."""
    if not ocids:
        return set()
    query = select(Contract.ocid).where(Contract.ocid.in_(ocids), Contract.commune_id != commune.id)
    return set(session.scalars(query))


def ocid_taken() -> Message:
    return Message("dashboard.content.check.ocid_elsewhere", "is already used by another commune")


def plan(
    session: Session,
    commune: Commune,
    kind: Kind,
    checked: list[Checked],
    label: str,
    errors: list[ContentError],
) -> list[Change]:
    """What upserting `checked` on the natural key would do; a clash is an error."""
    rows = existing_rows(session, kind, commune)
    taken = (
        ocid_elsewhere(session, commune, [c.values["ocid"] for c in checked])
        if kind.slug == "contracts"
        else set()
    )
    changes = []
    for item in checked:
        if item.values.get("ocid") in taken:
            errors.append(ContentError(label, item.line, "ocid", ocid_taken()))
            continue
        row = rows.get(kind.key_of(item.values))
        if row is None:
            changes.append(Change(item.line, "create", item.values, item.cells))
            continue
        changed = {
            name: (getattr(row, name), value)
            for name, value in item.values.items()
            if getattr(row, name) != value
        }
        action = "update" if changed else "unchanged"
        changes.append(Change(item.line, action, item.values, item.cells, row, changed))
    return changes


def describe(message: str, lang: str) -> str:
    """A problem's text in `lang` when it carries a catalog key, else as written."""
    if not isinstance(message, Message):
        return message
    params = {
        name: describe(value, lang) if isinstance(value, Message) else value
        for name, value in message.params.items()
    }
    return t(message.key, lang, **params)


def form_errors(errors: list[ContentError], lang: str) -> dict[str, str]:
    """ContentErrors of one form row as FormInvalid's field -> message (first per field)."""
    found: dict[str, str] = {}
    for error in errors:
        found.setdefault(error.field or "form", describe(error.message, lang))
    return found
