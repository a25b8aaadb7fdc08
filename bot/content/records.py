"""Typed records parsed from the content files of one commune.

The validator builds them from the files a mairie clerk edits; the database loader
maps them to rows. Field names follow DESIGN.md §7 and the CSV headers, except that
`sample` becomes `is_sample` and `key` becomes `content_key` (the stable key that
makes loading idempotent; contracts use their `ocid`, budget lines the tuple
fiscal_year/phase/direction/section/sector). Amounts and progress are `int`, dates
are `datetime.date`, datetimes are timezone-aware UTC. An optional value left blank
in a file is `None`. Project `arrondissement` stays a name for the loader to resolve.
`ContentError` is the other output of the validator: one problem in one file.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.models.enums import (
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


@dataclass(frozen=True)
class ContentError:
    """One problem in a content file; `file` is relative to the content root's parent."""

    file: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = self.message if self.field is None else f"{self.field}: {self.message}"
        return f"{where}: {what}"


@dataclass(frozen=True)
class Quartier:
    name: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Arrondissement:
    name: str
    variants: tuple[str, ...]
    quartiers: tuple[Quartier, ...]


@dataclass(frozen=True)
class Commune:
    """Real facts about the commune (never sample data)."""

    slug: str
    name: str
    department: str
    population: int
    population_year: int
    languages: tuple[str, ...]
    name_variants: tuple[str, ...]


@dataclass(frozen=True)
class BudgetLine:
    fiscal_year: int
    phase: BudgetPhase
    direction: BudgetDirection
    section: BudgetSection
    sector: str
    amount_xof: int
    is_sample: bool


@dataclass(frozen=True)
class Document:
    content_key: str
    type: DocumentType
    fiscal_year: int
    title: str
    url: str
    summary: str | None
    published_on: date
    is_sample: bool


@dataclass(frozen=True)
class Project:
    content_key: str
    fiscal_year: int
    title: str
    sector: str
    arrondissement: str | None
    status: ProjectStatus
    progress: int
    budget_xof: int
    is_sample: bool


@dataclass(frozen=True)
class Contract:
    ocid: str
    title: str
    method: ProcurementMethod
    supplier: str
    amount_xof: int
    date_signed: date
    status: ContractStatus
    is_sample: bool


@dataclass(frozen=True)
class AgendaItem:
    content_key: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    description: str | None
    is_sample: bool


@dataclass(frozen=True)
class Decision:
    number: str
    title: str
    summary: str | None


@dataclass(frozen=True)
class Event:
    content_key: str
    type: EventType
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    follow_live: str | None
    agenda: tuple[str, ...]
    status: EventStatus
    summary: str | None
    accepts_questions: bool
    is_sample: bool
    decisions: tuple[Decision, ...]


@dataclass(frozen=True)
class GoodPractice:
    content_key: str
    title: str
    sector: str
    year: int
    summary: str
    is_sample: bool


@dataclass
class CommuneContent:
    """Everything the files of one commune directory hold, in file order."""

    commune: Commune
    arrondissements: list[Arrondissement] = field(default_factory=list)
    budget_lines: list[BudgetLine] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    contracts: list[Contract] = field(default_factory=list)
    agenda_items: list[AgendaItem] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    good_practices: list[GoodPractice] = field(default_factory=list)
