"""Load the parsed content files into the database: all or nothing, idempotent.

Rows are matched on their natural keys (commune slug, area name, content_key,
ocid, the budget-line tuple), so loading twice changes nothing and a clerk's
edit updates the row in place. The loader never deletes: a row dropped from a
file may already carry citizens' questions or feedback; staff retire it from
the dashboard instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import models
from bot.content import records
from bot.content.validate import CONTENT_ROOT, parse_tree
from bot.models.enums import AreaKind

BUDGET_LINE_KEY = ("fiscal_year", "phase", "direction", "section", "sector")


class ContentInvalid(Exception):
    """The files hold errors; nothing was written."""

    def __init__(self, errors: list[records.ContentError]) -> None:
        super().__init__(f"{len(errors)} error(s) in the content files")
        self.errors = errors


@dataclass
class LoadReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def __str__(self) -> str:
        tables = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        parts = [
            f"{table} {self.created[table]} new, {self.updated[table]} updated, "
            f"{self.unchanged[table]} unchanged"
            for table in tables
        ]
        return "\n".join(parts) or "nothing to load"


class _Upserter:
    """Creates or updates rows of one table and one scope, counting what changed."""

    def __init__(
        self,
        session: Session,
        model: type[models.Base],
        existing: Iterable[Any],
        key: tuple[str, ...],
        report: LoadReport,
    ) -> None:
        self.session, self.model, self.key, self.report = session, model, key, report
        self.rows = {self._key_of(row): row for row in existing}

    def _key_of(self, row: Any) -> Hashable:
        return tuple(getattr(row, name) for name in self.key)

    def put(self, values: dict[str, Any]) -> Any:
        table = self.model.__tablename__
        row_key = tuple(values[name] for name in self.key)
        row = self.rows.get(row_key)
        if row is None:
            row = self.model(**values)
            self.session.add(row)
            self.rows[row_key] = row
            self.report.created[table] += 1
            return row
        changes = {k: v for k, v in values.items() if getattr(row, k) != v}
        for name, value in changes.items():
            setattr(row, name, value)
        (self.report.updated if changes else self.report.unchanged)[table] += 1
        return row


def _values(record: Any, **extra: Any) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in record.__dataclass_fields__}
    values.update(extra)
    return values


def load_content(session: Session, root: Path = CONTENT_ROOT) -> LoadReport:
    """Validate every file first; raise ContentInvalid before writing anything."""
    contents, errors = parse_tree(root)
    if errors:
        raise ContentInvalid(errors)
    report = LoadReport()
    communes = _Upserter(
        session, models.Commune, session.scalars(select(models.Commune)), ("slug",), report
    )
    for content in contents:
        facts = _values(content.commune)
        facts["languages"] = list(facts["languages"])
        facts["name_variants"] = list(facts["name_variants"])
        commune = communes.put(facts)
        session.flush()
        _load_commune(session, commune, content, report)
    session.flush()
    return report


def _scoped(session: Session, model: type[models.Base], commune_id: int) -> Any:
    return session.scalars(select(model).where(model.commune_id == commune_id))


def _load_commune(
    session: Session, commune: models.Commune, content: records.CommuneContent, report: LoadReport
) -> None:
    areas = _Upserter(
        session, models.Area, _scoped(session, models.Area, commune.id), ("kind", "name"), report
    )
    arrondissement_ids: dict[str, int] = {}
    for arrondissement in content.arrondissements:
        row = areas.put(
            {
                "commune_id": commune.id,
                "kind": AreaKind.ARRONDISSEMENT,
                "name": arrondissement.name,
                "variants": list(arrondissement.variants),
                "parent_id": None,
            }
        )
        session.flush()
        arrondissement_ids[arrondissement.name] = row.id
        for quartier in arrondissement.quartiers:
            areas.put(
                {
                    "commune_id": commune.id,
                    "kind": AreaKind.QUARTIER,
                    "name": quartier.name,
                    "variants": list(quartier.variants),
                    "parent_id": row.id,
                }
            )

    def upserter(model: type[models.Base], key: tuple[str, ...]) -> _Upserter:
        return _Upserter(session, model, _scoped(session, model, commune.id), key, report)

    plain: list[tuple[type[models.Base], tuple[str, ...], list[Any]]] = [
        (models.BudgetLine, BUDGET_LINE_KEY, content.budget_lines),
        (models.Document, ("content_key",), content.documents),
        (models.Contract, ("ocid",), content.contracts),
        (models.AgendaItem, ("content_key",), content.agenda_items),
        (models.GoodPractice, ("content_key",), content.good_practices),
    ]
    for model, key, items in plain:
        upsert = upserter(model, key)
        for item in items:
            upsert.put(_values(item, commune_id=commune.id))

    projects = upserter(models.Project, ("content_key",))
    for project in content.projects:
        values = _values(project, commune_id=commune.id)
        name = values.pop("arrondissement")
        values["area_id"] = arrondissement_ids.get(name) if name else None
        projects.put(values)

    events = upserter(models.Event, ("content_key",))
    for event in content.events:
        values = _values(event, commune_id=commune.id)
        decisions = values.pop("decisions")
        values["agenda"] = "\n".join(values["agenda"]) or None
        row = events.put(values)
        session.flush()
        _load_decisions(session, row, decisions, event.is_sample, report)


def _load_decisions(
    session: Session,
    event: models.Event,
    decisions: tuple[records.Decision, ...],
    is_sample: bool,
    report: LoadReport,
) -> None:
    existing = session.scalars(select(models.Decision).where(models.Decision.event_id == event.id))
    upsert = _Upserter(session, models.Decision, existing, ("number",), report)
    for decision in decisions:
        upsert.put(_values(decision, event_id=event.id, is_sample=is_sample))
