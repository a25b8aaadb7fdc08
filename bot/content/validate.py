"""Parse and check the content files of the communes, without any database.

`parse_tree()` reads every commune directory under `CONTENT_ROOT` and returns the
typed records of `bot.content.records` together with every problem found, each
with its file, line and field. A loader must refuse to load while errors remain:
a broken record is left out of the result, never guessed.
"""

import unicodedata
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

import yaml

from bot.content import checks
from bot.content.checks import LOCAL_ZONE, YEARS
from bot.content.records import Arrondissement, Commune, CommuneContent, ContentError, Quartier
from bot.content.sources import (
    FieldReader,
    RawRecord,
    read_csv,
    read_yaml,
    yaml_items,
    yaml_record,
)

__all__ = ["CONTENT_ROOT", "LOCAL_ZONE", "ContentError", "parse_commune", "parse_tree"]

CONTENT_ROOT = Path(__file__).resolve().parent / "communes"

COMMUNE_FIELDS = (
    "slug",
    "name",
    "department",
    "population",
    "population_year",
    "languages",
    "name_variants",
    "arrondissements",
)
AREA_FIELDS = ("name", "variants", "quartiers")
BUDGET_COLUMNS = ("fiscal_year", "phase", "direction", "section", "sector", "amount_xof", "sample")
DOCUMENT_FIELDS = (
    "key",
    "type",
    "fiscal_year",
    "title",
    "url",
    "summary",
    "published_on",
    "sample",
)
PROJECT_COLUMNS = (
    "key",
    "fiscal_year",
    "title",
    "sector",
    "arrondissement",
    "status",
    "progress",
    "budget_xof",
    "sample",
)
CONTRACT_COLUMNS = (
    "ocid",
    "title",
    "method",
    "supplier",
    "amount_xof",
    "date_signed",
    "status",
    "sample",
)
AGENDA_COLUMNS = ("key", "title", "starts_at", "ends_at", "place", "description", "sample")
EVENT_FIELDS = (
    "key",
    "type",
    "title",
    "starts_at",
    "ends_at",
    "place",
    "follow_live",
    "agenda",
    "status",
    "summary",
    "accepts_questions",
    "sample",
    "decisions",
)
PRACTICE_FIELDS = ("key", "title", "sector", "year", "summary", "sample")

R = TypeVar("R")
Builder = Callable[[FieldReader, dict], R]


def parse_tree(root: Path = CONTENT_ROOT) -> tuple[list[CommuneContent], list[ContentError]]:
    """Every commune under `root` (one directory each) and every error found."""
    if not root.is_dir():
        return [], [ContentError(root.name, None, None, "content directory is missing")]
    contents: list[CommuneContent] = []
    errors: list[ContentError] = []
    for directory in sorted(root.iterdir()):
        if directory.is_dir() and not directory.name.startswith((".", "_")):
            content, commune_errors = parse_commune(directory)
            errors += commune_errors
            if content is not None:
                contents.append(content)
    return contents, errors + _shared_commune_names(root, contents)


def parse_commune(directory: Path) -> tuple[CommuneContent | None, list[ContentError]]:
    """One commune directory; the content is None when commune.yaml itself is unusable."""
    parser = _CommuneParser(directory.resolve())
    return parser.parse(), parser.errors


def fold(text: str) -> str:
    """Lowercase, without accents, hyphens or extra spaces: when two spellings collide."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.replace("-", " ").split())


def _shared_commune_names(root: Path, contents: list[CommuneContent]) -> list[ContentError]:
    errors: list[ContentError] = []
    owners: dict[str, str] = {}
    for content in contents:
        commune = content.commune
        for spelling in (commune.name, *commune.name_variants):
            owner = owners.setdefault(fold(spelling), commune.slug)
            if owner != commune.slug:
                label = f"{root.name}/{commune.slug}/commune.yaml"
                message = f"spelling {spelling!r} is also used by commune {owner!r}"
                errors.append(ContentError(label, None, "name_variants", message))
    return errors


class _CommuneParser:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.errors: list[ContentError] = []

    def label(self, name: str) -> str:
        return (self.directory / name).relative_to(self.directory.parent.parent).as_posix()

    def parse(self) -> CommuneContent | None:
        commune, arrondissements, names = self.commune_file()
        budget_lines = self.csv_records("budget_lines.csv", BUDGET_COLUMNS, checks.budget_line)
        documents = self.yaml_records("documents.yaml", DOCUMENT_FIELDS, checks.document)
        projects = self.csv_records(
            "projects.csv", PROJECT_COLUMNS, lambda f, seen: checks.project(f, seen, names)
        )
        contracts = self.csv_records("contracts.csv", CONTRACT_COLUMNS, checks.contract)
        agenda_items = self.csv_records("agenda.csv", AGENDA_COLUMNS, checks.agenda_item)
        events = self.yaml_records("events.yaml", EVENT_FIELDS, checks.event)
        practices = self.yaml_records("good_practices.yaml", PRACTICE_FIELDS, checks.good_practice)
        if commune is None:
            return None
        return CommuneContent(
            commune=commune,
            arrondissements=arrondissements,
            budget_lines=budget_lines,
            documents=documents,
            projects=projects,
            contracts=contracts,
            agenda_items=agenda_items,
            events=events,
            good_practices=practices,
        )

    def csv_records(self, name: str, columns: tuple[str, ...], build: Builder[R]) -> list[R]:
        label = self.label(name)
        rows = read_csv(self.directory / name, label, columns, self.errors) or []
        return self._build(label, rows, build)

    def yaml_records(self, name: str, fields: tuple[str, ...], build: Builder[R]) -> list[R]:
        label = self.label(name)
        root = read_yaml(self.directory / name, label, self.errors)
        items = yaml_items(root, label, self.errors)
        raws = [yaml_record(node, label, fields, self.errors) for node in items]
        return self._build(label, [raw for raw in raws if raw is not None], build)

    def _build(self, label: str, raws: list[RawRecord], build: Builder[R]) -> list[R]:
        seen: dict[Hashable, int] = {}
        records: list[R] = []
        for raw in raws:
            fields = FieldReader(label, raw, self.errors)
            record = build(fields, seen)
            if fields.ok:
                records.append(record)
        return records

    def commune_file(self) -> tuple[Commune | None, list[Arrondissement], list[str] | None]:
        """The commune, its valid arrondissements, and every arrondissement name given.

        The names (None when the commune is unusable) check the projects' references,
        so one bad variant does not also flag every project of its arrondissement.
        """
        label = self.label("commune.yaml")
        known_errors = len(self.errors)
        root = read_yaml(self.directory / "commune.yaml", label, self.errors)
        raw = yaml_record(root, label, COMMUNE_FIELDS, self.errors) if root is not None else None
        if raw is None:
            if len(self.errors) == known_errors:
                self.errors.append(ContentError(label, None, None, "file is empty"))
            return None, [], None
        fields = FieldReader(label, raw, self.errors)
        slug = fields.text("slug")
        if slug is not None and slug != self.directory.name:
            message = f"must match the directory name {self.directory.name!r}, got {slug!r}"
            fields.error("slug", message, fields.line("slug"))
        commune = Commune(
            slug=slug,
            name=fields.text("name"),
            department=fields.text("department"),
            population=fields.integer("population", 1),
            population_year=fields.integer("population_year", *YEARS),
            languages=_languages(fields),
            name_variants=fields.texts("name_variants"),
        )
        areas = yaml_items(raw.nodes.get("arrondissements"), label, self.errors)
        if not areas:
            fields.error("arrondissements", "is required: a list of {name, variants}")
        arrondissements, names = _arrondissements(label, areas, self.errors)
        if not fields.ok:
            return None, arrondissements, None
        return commune, arrondissements, names


def _languages(fields: FieldReader) -> tuple[str, ...]:
    languages = fields.texts("languages")
    if not languages:
        fields.error("languages", "is required: a list of ISO 639 codes such as fr, fon")
    for code in languages:
        if not (code.isascii() and code.islower() and code.isalpha() and len(code) in (2, 3)):
            message = f"must be ISO 639 codes such as fr, fon; got {code!r}"
            fields.error("languages", message, fields.line("languages"))
    return languages


def _arrondissements(
    label: str, nodes: list[yaml.Node], errors: list[ContentError]
) -> tuple[list[Arrondissement], list[str]]:
    """The valid arrondissements and all names; no spelling may point to two of them."""
    owners: dict[str, tuple[int, str, int]] = {}
    arrondissements: list[Arrondissement] = []
    names: list[str] = []
    for index, node in enumerate(nodes):
        raw = yaml_record(node, label, AREA_FIELDS, errors)
        if raw is None:
            continue
        fields = FieldReader(label, raw, errors)
        name, variants = fields.text("name"), fields.texts("variants")
        if name:
            names.append(name)
        spellings = [("name", name)] + [("variants", variant) for variant in variants]
        for field, spelling in spellings:
            if spelling is None:
                continue
            owner, owner_name, owner_line = owners.setdefault(
                fold(spelling), (index, name or "", raw.line)
            )
            if owner != index:
                message = f"spelling {spelling!r} already names {owner_name!r} (line {owner_line})"
                fields.error(field, message, fields.line(field))
        quartiers = _quartiers(label, raw.nodes.get("quartiers"), errors)
        if fields.ok:
            arrondissements.append(Arrondissement(name, variants, quartiers))
    return arrondissements, names


def _quartiers(
    label: str, node: yaml.Node | None, errors: list[ContentError]
) -> tuple[Quartier, ...]:
    """Quartiers are written as plain names or as {name, variants}."""
    quartiers: list[Quartier] = []
    for item in yaml_items(node, label, errors):
        line = item.start_mark.line + 1
        if isinstance(item, yaml.ScalarNode):
            raw: RawRecord | None = RawRecord(line, {"name": (item.value, line)})
        else:
            raw = yaml_record(item, label, ("name", "variants"), errors)
        if raw is None:
            continue
        fields = FieldReader(label, raw, errors)
        quartier = Quartier(fields.text("name"), fields.texts("variants"))
        if fields.ok:
            quartiers.append(quartier)
    return tuple(quartiers)
