"""The six kinds of published content staff manage, described once.

A kind's columns are those of its file in `bot/content/communes/<slug>/` (CSV, or
the YAML fields for documents and good practices), and its rows are checked by
the same builders of `bot.content.checks` that check those files, so a form, an
uploaded CSV and a shipped file follow one set of rules. Natural keys are the
loader's: `content_key`, `ocid`, or the budget-line tuple.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import InstrumentedAttribute

from bot import models
from bot.content import checks, validate
from bot.content.loader import BUDGET_LINE_KEY
from bot.content.sources import FieldReader
from bot.i18n import LOCAL_TIMEZONE
from bot.models.enums import (
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    ContractStatus,
    DocumentType,
    ProcurementMethod,
    ProjectStatus,
)

ATTRIBUTE_OF_COLUMN = {"key": "content_key", "sample": "is_sample", "arrondissement": "area_id"}
"""File column -> model attribute, where the names differ."""

NUMBER_COLUMNS = frozenset({"fiscal_year", "year", "amount_xof", "budget_xof", "progress"})
LONG_TEXT_COLUMNS = frozenset({"summary", "description"})
DATE_COLUMNS = frozenset({"published_on", "date_signed"})
DATETIME_COLUMNS = frozenset({"starts_at", "ends_at"})
LOCAL_DATETIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class Context:
    """What checking a row needs from the database: the commune's arrondissements."""

    arrondissements: dict[str, int] = field(default_factory=dict)
    """name -> area id"""


Build = Callable[[FieldReader, dict, Context], Any]


@dataclass(frozen=True)
class Kind:
    slug: str
    """URL segment, export file stem and catalog key part: "budget_lines"."""
    model: type[models.Base]
    columns: tuple[str, ...]
    build: Build
    key: tuple[str, ...]
    """Model attributes of the natural key the loader upserts on."""
    order_by: tuple[InstrumentedAttribute, ...]
    list_columns: tuple[str, ...]
    choices: dict[str, type[StrEnum]] = field(default_factory=dict)

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def widget(self, column: str) -> str:
        """How a form asks for `column`."""
        if column == "sample":
            return "checkbox"
        if column == "arrondissement":
            return "area"
        if column in self.choices:
            return "choice"
        for widget, names in (
            ("number", NUMBER_COLUMNS),
            ("textarea", LONG_TEXT_COLUMNS),
            ("date", DATE_COLUMNS),
            ("datetime", DATETIME_COLUMNS),
        ):
            if column in names:
                return widget
        return "text"

    def values(self, record: Any, context: Context) -> dict[str, Any]:
        """The model attributes of a checked record (`commune_id` aside)."""
        values = {name: getattr(record, name) for name in record.__dataclass_fields__}
        if "arrondissement" in values:
            name = values.pop("arrondissement")
            values["area_id"] = context.arrondissements.get(name) if name else None
        return values

    def key_of(self, values: dict[str, Any]) -> tuple:
        return tuple(values[name] for name in self.key)

    def texts(self, row: Any) -> dict[str, str]:
        """The row as file cells: what export writes and what an edit form starts from."""
        return {column: cell(row, column) for column in self.columns}


def cell(row: Any, column: str) -> str:
    """One value of `row` written the way the content files write it."""
    if column == "arrondissement":
        return row.area.name if row.area is not None else ""
    value = getattr(row, ATTRIBUTE_OF_COLUMN.get(column, column))
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TIMEZONE).strftime(LOCAL_DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _project(fields: FieldReader, seen: dict, context: Context) -> Any:
    return checks.project(fields, seen, list(context.arrondissements))


def _plain(builder: Callable[[FieldReader, dict], Any]) -> Build:
    return lambda fields, seen, _context: builder(fields, seen)


BudgetLine, Document, Project = models.BudgetLine, models.Document, models.Project
Contract, AgendaItem, GoodPractice = models.Contract, models.AgendaItem, models.GoodPractice

KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        Kind(
            "budget_lines",
            BudgetLine,
            validate.BUDGET_COLUMNS,
            _plain(checks.budget_line),
            BUDGET_LINE_KEY,
            (
                BudgetLine.fiscal_year.desc(),
                BudgetLine.phase,
                BudgetLine.direction,
                BudgetLine.section,
                BudgetLine.sector,
            ),
            ("fiscal_year", "phase", "direction", "section", "sector", "amount_xof"),
            {"phase": BudgetPhase, "direction": BudgetDirection, "section": BudgetSection},
        ),
        Kind(
            "documents",
            Document,
            validate.DOCUMENT_FIELDS,
            _plain(checks.document),
            ("content_key",),
            (Document.published_on.desc(), Document.title),
            ("title", "type", "fiscal_year", "published_on"),
            {"type": DocumentType},
        ),
        Kind(
            "projects",
            Project,
            validate.PROJECT_COLUMNS,
            _project,
            ("content_key",),
            (Project.fiscal_year.desc(), Project.title),
            ("title", "fiscal_year", "sector", "arrondissement", "status", "progress"),
            {"status": ProjectStatus},
        ),
        Kind(
            "contracts",
            Contract,
            validate.CONTRACT_COLUMNS,
            _plain(checks.contract),
            ("ocid",),
            (Contract.date_signed.desc(), Contract.ocid),
            ("ocid", "title", "supplier", "amount_xof", "date_signed", "status"),
            {"method": ProcurementMethod, "status": ContractStatus},
        ),
        Kind(
            "agenda",
            AgendaItem,
            validate.AGENDA_COLUMNS,
            _plain(checks.agenda_item),
            ("content_key",),
            (AgendaItem.starts_at.desc(), AgendaItem.title),
            ("starts_at", "title", "place"),
        ),
        Kind(
            "good_practices",
            GoodPractice,
            validate.PRACTICE_FIELDS,
            _plain(checks.good_practice),
            ("content_key",),
            (GoodPractice.year.desc(), GoodPractice.title),
            ("title", "sector", "year"),
        ),
    )
}
