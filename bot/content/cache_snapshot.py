"""The values of a commune snapshot, and how they are read from the database.

Plain frozen dataclasses, no ORM objects: a snapshot is shared by every thread
of a process (bot/content/cache.py) and outlives the session that built it.
Field names follow the models (amount_xof, budget_xof, ...). Upcoming and past
are relative to the `now` the snapshot was built at; `valid_after` and
`valid_until` bound the times for which that classification still holds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import models
from bot.content.audio import RecordingKey, recordings
from bot.models.enums import (
    AreaKind,
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    ContractStatus,
    DocumentType,
    EventStatus,
    EventType,
    ProcurementMethod,
    ProjectStatus,
)
from bot.models.types import utcnow

UPCOMING_STATUSES = (EventStatus.SCHEDULED, EventStatus.POSTPONED)
COUNCIL_SESSIONS = (EventType.SESSION_ORDINAIRE, EventType.SESSION_EXTRAORDINAIRE)


@dataclass(frozen=True)
class SectorAmount:
    sector: str
    amount_xof: int


@dataclass(frozen=True)
class BudgetTotals:
    """One fiscal year and phase; every total is the sum of its budget lines."""

    fiscal_year: int
    phase: BudgetPhase
    recettes: int
    depenses: int
    recettes_fonctionnement: int
    recettes_investissement: int
    depenses_fonctionnement: int
    depenses_investissement: int
    recette_sectors: tuple[SectorAmount, ...]  # both sections, largest first
    depense_sectors: tuple[SectorAmount, ...]  # both sections, largest first
    is_sample: bool


@dataclass(frozen=True)
class DocumentInfo:
    id: int  # a recording of the document is found by it (bot/content/audio.py)
    type: DocumentType
    fiscal_year: int | None
    title: str
    url: str | None
    summary: str | None
    published_on: date | None
    is_sample: bool


@dataclass(frozen=True)
class ProjectInfo:
    fiscal_year: int
    title: str
    sector: str
    arrondissement: str | None
    status: ProjectStatus
    progress: int
    budget_xof: int
    is_sample: bool


@dataclass(frozen=True)
class ContractInfo:
    title: str
    supplier: str
    amount_xof: int
    date_signed: date | None
    status: ContractStatus
    method: ProcurementMethod
    is_sample: bool


@dataclass(frozen=True)
class AgendaInfo:
    title: str
    starts_at: datetime  # aware, UTC
    ends_at: datetime | None
    place: str | None
    description: str | None
    upcoming: bool  # starts_at >= the snapshot's now
    is_sample: bool


@dataclass(frozen=True)
class DecisionInfo:
    number: str
    title: str
    summary: str | None
    is_sample: bool


@dataclass(frozen=True)
class EventInfo:
    id: int  # a recording of the session is found by it (bot/content/audio.py)
    type: EventType
    title: str
    starts_at: datetime  # aware, UTC
    ends_at: datetime | None
    place: str | None
    follow_live: str | None
    agenda: tuple[str, ...]
    status: EventStatus
    summary: str | None
    accepts_questions: bool
    decisions: tuple[DecisionInfo, ...]
    is_sample: bool


@dataclass(frozen=True)
class GoodPracticeInfo:
    title: str
    sector: str | None
    year: int | None
    summary: str
    is_sample: bool


@dataclass(frozen=True)
class CommuneSnapshot:
    slug: str
    name: str
    department: str
    population: int | None
    population_year: int | None
    arrondissements: tuple[str, ...]
    budgets: tuple[BudgetTotals, ...]  # by fiscal year, voted before executed
    years: tuple[int, ...]  # years with budget lines, ascending
    documents: tuple[DocumentInfo, ...]  # latest fiscal year (then publication) first
    projects: tuple[ProjectInfo, ...]  # latest fiscal year first, then largest budget
    contracts: tuple[ContractInfo, ...]  # latest signed first
    agenda: tuple[AgendaInfo, ...]  # upcoming (soonest first), then past (latest first)
    next_events: tuple[EventInfo, ...]  # per type, the next scheduled or postponed one
    last_events: tuple[EventInfo, ...]  # per type, the last held one
    good_practices: tuple[GoodPracticeInfo, ...]  # latest year first
    built_at: datetime
    valid_after: datetime | None  # the snapshot holds for valid_after < now <= valid_until
    valid_until: datetime | None
    # Paths of the recordings of its documents and sessions, by (kind, item id,
    # language) (bot/content/audio.py): a hop finds one without a query.
    recordings: Mapping[RecordingKey, str] = field(default_factory=dict, compare=False)
    # Replies built from this snapshot, by screen, language and year (bot/flows/info_common.py):
    # the snapshot never changes, so neither do they.
    replies: dict[tuple[Any, ...], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_sample(self) -> bool:
        """Whether any content record is sample data (the commune facts never are)."""
        records: Iterable[Any] = (
            *self.budgets,
            *self.documents,
            *self.projects,
            *self.contracts,
            *self.agenda,
            *self.next_events,
            *self.last_events,
            *self.good_practices,
        )
        return any(record.is_sample for record in records)

    @property
    def voted_years(self) -> tuple[int, ...]:
        return tuple(b.fiscal_year for b in self.budgets if b.phase == BudgetPhase.VOTED)

    def budget(self, year: int, phase: BudgetPhase) -> BudgetTotals | None:
        return next((b for b in self.budgets if (b.fiscal_year, b.phase) == (year, phase)), None)

    def latest_document(self, doc_type: DocumentType) -> DocumentInfo | None:
        return next((d for d in self.documents if d.type == doc_type), None)

    def next_event(self, *types: EventType) -> EventInfo | None:
        return min((e for e in self.next_events if e.type in types), key=_start, default=None)

    def last_event(self, *types: EventType) -> EventInfo | None:
        return max((e for e in self.last_events if e.type in types), key=_start, default=None)

    def is_valid_at(self, now: datetime) -> bool:
        after, until = self.valid_after, self.valid_until
        return (after is None or after < now) and (until is None or now <= until)


def _start(item: Any) -> datetime:
    return item.starts_at


def _copy(cls: type, row: Any, **given: Any) -> Any:
    """A value of `cls` from the ORM row's attributes of the same names."""
    return cls(
        **{f.name: given[f.name] if f.name in given else getattr(row, f.name) for f in fields(cls)}
    )


def build_snapshot(
    session: Session, slug: str, now: datetime | None = None
) -> CommuneSnapshot | None:
    """Read a commune's content in a few queries; None for an unknown slug."""
    now = now or utcnow()
    commune = session.scalar(select(models.Commune).where(models.Commune.slug == slug))
    if commune is None:
        return None

    def rows(model: Any, *order: Any) -> list[Any]:
        query = select(model).where(model.commune_id == commune.id).order_by(*order, model.id)
        return list(session.scalars(query))

    arrondissements = session.scalars(
        select(models.Area.name)
        .where(models.Area.commune_id == commune.id, models.Area.kind == AreaKind.ARRONDISSEMENT)
        .order_by(models.Area.id)
    )
    budgets = _budgets(rows(models.BudgetLine))
    projects = session.execute(
        select(models.Project, models.Area.name)
        .outerjoin(models.Area, models.Project.area_id == models.Area.id)
        .where(models.Project.commune_id == commune.id)
    ).all()
    events = session.scalars(
        select(models.Event)
        .where(models.Event.commune_id == commune.id)
        .options(selectinload(models.Event.decisions))
    ).all()
    agenda = rows(models.AgendaItem, models.AgendaItem.starts_at)
    starts = [item.starts_at for item in (*agenda, *events)]
    documents = [_copy(DocumentInfo, d) for d in rows(models.Document)]
    documents.sort(key=lambda d: (d.fiscal_year or 0, d.published_on or date.min), reverse=True)
    contracts = rows(models.Contract)
    contracts.sort(key=lambda c: (c.date_signed or date.min, c.id), reverse=True)
    practices = rows(models.GoodPractice)
    practices.sort(key=lambda g: -(g.year or 0))
    return CommuneSnapshot(
        slug=commune.slug,
        name=commune.name,
        department=commune.department,
        population=commune.population,
        population_year=commune.population_year,
        arrondissements=tuple(arrondissements),
        budgets=budgets,
        years=tuple(sorted({b.fiscal_year for b in budgets})),
        documents=tuple(documents),
        projects=tuple(
            sorted(
                (_copy(ProjectInfo, p, arrondissement=area) for p, area in projects),
                key=lambda p: (-p.fiscal_year, -p.budget_xof, p.title),
            )
        ),
        contracts=tuple(_copy(ContractInfo, c) for c in contracts),
        agenda=tuple(
            [_copy(AgendaInfo, a, upcoming=True) for a in agenda if a.starts_at >= now]
            + [_copy(AgendaInfo, a, upcoming=False) for a in reversed(agenda) if a.starts_at < now]
        ),
        next_events=_per_type(
            [e for e in events if e.status in UPCOMING_STATUSES and e.starts_at >= now],
            latest=False,
        ),
        last_events=_per_type(
            [e for e in events if e.status == EventStatus.HELD and e.starts_at < now], latest=True
        ),
        good_practices=tuple(_copy(GoodPracticeInfo, g) for g in practices),
        built_at=now,
        valid_after=max((s for s in starts if s < now), default=None),
        valid_until=min((s for s in starts if s >= now), default=None),
        recordings=recordings(session, commune.id),
    )


def _budgets(lines: list[models.BudgetLine]) -> tuple[BudgetTotals, ...]:
    groups: dict[tuple[int, BudgetPhase], list[models.BudgetLine]] = defaultdict(list)
    for line in lines:
        groups[(line.fiscal_year, line.phase)].append(line)
    order = {BudgetPhase.VOTED: 0, BudgetPhase.EXECUTED: 1}
    keys = sorted(groups, key=lambda key: (key[0], order[key[1]]))
    return tuple(_totals(year, phase, groups[(year, phase)]) for year, phase in keys)


def _totals(year: int, phase: BudgetPhase, lines: list[models.BudgetLine]) -> BudgetTotals:
    sums: dict[tuple[BudgetDirection, BudgetSection], int] = defaultdict(int)
    sectors: dict[BudgetDirection, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        sums[(line.direction, line.section)] += line.amount_xof
        sectors[line.direction][line.sector] += line.amount_xof

    def ranked(direction: BudgetDirection) -> tuple[SectorAmount, ...]:
        items = sorted(sectors[direction].items(), key=lambda item: (-item[1], item[0]))
        return tuple(SectorAmount(sector, amount) for sector, amount in items)

    recette, depense = BudgetDirection.RECETTE, BudgetDirection.DEPENSE
    fonctionnement, investissement = BudgetSection.FONCTIONNEMENT, BudgetSection.INVESTISSEMENT
    return BudgetTotals(
        fiscal_year=year,
        phase=phase,
        recettes=sums[(recette, fonctionnement)] + sums[(recette, investissement)],
        depenses=sums[(depense, fonctionnement)] + sums[(depense, investissement)],
        recettes_fonctionnement=sums[(recette, fonctionnement)],
        recettes_investissement=sums[(recette, investissement)],
        depenses_fonctionnement=sums[(depense, fonctionnement)],
        depenses_investissement=sums[(depense, investissement)],
        recette_sectors=ranked(recette),
        depense_sectors=ranked(depense),
        is_sample=any(line.is_sample for line in lines),
    )


def _per_type(events: list[models.Event], latest: bool) -> tuple[EventInfo, ...]:
    """The first event of each type, by start (the latest first when `latest`)."""
    chosen: dict[EventType, models.Event] = {}
    for event in sorted(events, key=lambda e: (e.starts_at, e.id), reverse=latest):
        chosen.setdefault(event.type, event)
    return tuple(_event(e) for e in sorted(chosen.values(), key=_start))


def _event(e: models.Event) -> EventInfo:
    agenda = tuple(line.strip() for line in (e.agenda or "").splitlines() if line.strip())
    decisions = tuple(_copy(DecisionInfo, d) for d in e.decisions)
    return _copy(EventInfo, e, agenda=agenda, decisions=decisions)
