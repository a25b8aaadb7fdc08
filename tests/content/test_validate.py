"""The shipped commune content parses cleanly; each kind of broken file is reported."""

import shutil
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.content.records import CommuneContent
from bot.content.validate import CONTENT_ROOT, ContentError, parse_commune, parse_tree
from bot.models.enums import BudgetDirection, BudgetPhase, EventStatus, EventType

SLUGS = ("abomey-calavi", "akpro-missere", "cotonou")
PROJECT_HEADER = "key,fiscal_year,title,sector,arrondissement,status,progress,budget_xof,sample"
SAMPLE_LISTS = (
    "budget_lines",
    "documents",
    "projects",
    "contracts",
    "agenda_items",
    "events",
    "good_practices",
)


@pytest.fixture(scope="module")
def shipped() -> dict[str, CommuneContent]:
    contents, errors = parse_tree()
    assert [str(error) for error in errors] == []
    return {content.commune.slug: content for content in contents}


def test_shipped_communes_are_the_three_with_their_arrondissements(shipped):
    assert sorted(shipped) == list(SLUGS)
    counts = {slug: len(content.arrondissements) for slug, content in shipped.items()}
    assert counts == {"cotonou": 13, "abomey-calavi": 9, "akpro-missere": 5}
    assert shipped["cotonou"].commune.population == 679012
    assert shipped["abomey-calavi"].commune.department == "Atlantique"
    assert "Zinvié" in {area.name for area in shipped["abomey-calavi"].arrondissements}
    assert shipped["akpro-missere"].commune.name == "Akpro-Missérété"


@pytest.mark.parametrize("slug", SLUGS)
def test_budget_has_two_years_voted_and_executed(shipped, slug):
    lines = shipped[slug].budget_lines
    assert {(line.fiscal_year, line.phase) for line in lines} == {
        (year, phase) for year in (2024, 2025) for phase in BudgetPhase
    }
    for year in (2024, 2025):
        for direction in BudgetDirection:
            total = {
                phase: sum(
                    line.amount_xof
                    for line in lines
                    if (line.fiscal_year, line.phase, line.direction) == (year, phase, direction)
                )
                for phase in BudgetPhase
            }
            assert 0.6 <= total[BudgetPhase.EXECUTED] / total[BudgetPhase.VOTED] <= 0.95


@pytest.mark.parametrize("slug", SLUGS)
def test_every_shipped_record_is_sample_except_commune_facts(shipped, slug):
    content = shipped[slug]
    assert "is_sample" not in {field.name for field in fields(content.commune)}
    for name in SAMPLE_LISTS:
        records = getattr(content, name)
        assert records, name
        assert all(record.is_sample for record in records), name


@pytest.mark.parametrize("slug", SLUGS)
def test_events_cover_past_and_upcoming_sessions(shipped, slug):
    kinds = {(event.type, event.status) for event in shipped[slug].events}
    for event_type in (EventType.SESSION_ORDINAIRE, EventType.REDDITION_DE_COMPTES):
        assert {(event_type, EventStatus.HELD), (event_type, EventStatus.SCHEDULED)} <= kinds
    held = [event for event in shipped[slug].events if event.status is EventStatus.HELD]
    assert all(event.summary for event in held)
    assert any(len(event.decisions) >= 2 for event in held)


def test_local_times_become_utc(shipped):
    event = next(
        e for e in shipped["cotonou"].events if e.content_key == "session-ordinaire-2026-12"
    )
    assert event.starts_at == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


def test_error_renders_as_file_line_field_message():
    error = ContentError("communes/cotonou/projects.csv", 4, "progress", "must be ... got 140")
    assert str(error) == "communes/cotonou/projects.csv:4: progress: must be ... got 140"
    assert str(ContentError("communes/x/agenda.csv", None, None, "file is missing")) == (
        "communes/x/agenda.csv: file is missing"
    )


@dataclass(frozen=True)
class Case:
    """One corruption of a copy of Cotonou's files and the single error it must give.

    `old` is replaced once by `new`; `old` None replaces the whole file and `new`
    None deletes it. `at` is the expected line: a number, None, or a text whose
    first line in the corrupted file is the expected one.
    """

    id: str
    file: str
    old: str | bytes | None
    new: str | bytes | None
    at: int | str | None
    field: str | None
    message: str


P, B, C, A = "projects.csv", "budget_lines.csv", "contracts.csv", "agenda.csv"
E, D, G, M = "events.yaml", "documents.yaml", "good_practices.yaml", "commune.yaml"
BAD_ROW = "x,2025,T,S,,planned,0,1,true,ok\n"

# fmt: off
CASES = [
    Case("progress out of range", P, ",65,", ",140,",
         "140", "progress", "must be between 0 and 100, got 140"),
    Case("unknown arrondissement", P, ",12e arrondissement,", ",14e arrondissement,",
         "14e", "arrondissement", "unknown arrondissement '14e arrondissement'"),
    Case("planned but progressing", P, "planned,0,", "planned,20,",
         "planned,20", "progress", "must be 0 for a planned project"),
    Case("duplicate project key", P, "pta-2025-caniveaux-5e,", "pta-2025-pavage-rue-12e,",
         "Curage", "key", "duplicate key 'pta-2025-pavage-rue-12e', first given on line 2"),
    Case("key is not a slug", P, "pta-2025-caniveaux-5e,", "PTA 2025 caniveaux,",
         "Curage", "key", "must be a slug"),
    Case("missing column", P, "budget_xof,sample\n", "budget_xof\n",
         1, "sample", "required column is missing"),
    Case("unknown column", P, None, PROJECT_HEADER + ",note\n" + BAD_ROW,
         1, "note", "unknown column"),
    Case("row too long", P, "65,1850000000,true", "65,1850000000,true,oui",
         "1850000000", None, "expected 9 values, got 10"),
    Case("bad phase", B, "2025,voted,depense", "2025,vote,depense",
         "2025,vote,", "phase", "must be one of voted, executed, got 'vote'"),
    Case("negative amount", B, "Fiscalité locale,21500000000", "Fiscalité locale,-5",
         "-5", "amount_xof", "must be at least 0, got -5"),
    Case("amount with spaces", B, "locale,21500000000", "locale,21 500 000 000",
         "21 500", "amount_xof", "must be a whole number"),
    Case("year out of range", B, "2024,voted,recette", "1999,voted,recette",
         "1999", "fiscal_year", "must be between 2000 and 2100, got 1999"),
    Case("duplicate budget line", B, "Produits du domaine et des services,6800",
         "Fiscalité locale,6800",
         "locale,6800", None, "duplicate budget line"),
    Case("sample not boolean", B, "Personnel,9800000000,true", "Personnel,9800000000,oui",
         "oui", "sample", "must be true or false, got 'oui'"),
    Case("sample blank", B, "Personnel,9800000000,true", "Personnel,9800000000,",
         "Personnel,9800000000,", "sample", "is required"),
    Case("bad date", C, "2025-03-18", "18/03/2025",
         "18/03/2025", "date_signed", "must be a date like 2025-03-31"),
    Case("bad method", C, ",open,Entreprise", ",appel d'offres,Entreprise",
         "appel d'offres", "method", "must be one of open, selective, limited, direct"),
    Case("bad ocid", C, "ocds-sample-cotonou-2025-002", "marche 2",
         "marche 2", "ocid", "must be an OCDS ocid"),
    Case("malformed quoting", C, ",open,Entreprise", ',"open"x,Entreprise',
         '"open"x', None, "malformed CSV"),
    Case("ends before start", A, "09:00,2026-12-03 12:00", "09:00,2026-12-03 08:00",
         "12-03 08:00", "ends_at", "must be after starts_at"),
    Case("impossible datetime", A, "2026-12-03 09:00,", "2026-13-03 09:00,",
         "2026-13-03", "starts_at", "must be a local date and time like 2026-12-03 09:00"),
    Case("not UTF-8", A, b"Rencontre", "Réunion".encode("latin-1"),
         "union avec les chefs", None, "not UTF-8"),
    Case("bad event status", E, "  status: held", "  status: tenue",
         "status: tenue", "status", "must be one of draft, scheduled, postponed, held, cancelled"),
    Case("unknown event field", E, "  place:", "  lieu:",
         "lieu:", "lieu", "unknown field"),
    Case("field given twice", E, "  status: held\n", "  status: held\n  status: scheduled\n",
         "status: scheduled", "status", "field given twice"),
    Case("event without sample", E, "false\n  sample: true\n", "false\n",
         "session-ordinaire-2026-10", "sample", "is required"),
    Case("duplicate decision number", E, '"EX-2026-03-02"', '"EX-2026-03-01"',
         '01"\n      title: "Autorisation', "number", "duplicate decision number 'EX-2026-03-01'"),
    Case("malformed YAML", E, '  title: "Session ordinaire', '  title: Session: "ordinaire',
         "title: Session:", None, "malformed YAML"),
    Case("time in another format", E, '"2026-10-15 14:00"', "15/10/2026 14h",
         "15/10/2026", "ends_at", "must be a local date and time"),
    Case("documents not a list", D, None, "# Documents\nkey: bp-2024\n",
         2, None, "expected a list"),
    Case("bad url", D, "url: https://example.org/communes-plus/sample/cotonou/pta", "url: www.x",
         "www.x", "url", "must be a web address"),
    Case("impossible date", D, "published_on: 2025-02-14", "published_on: 2025-02-30",
         "2025-02-30", "published_on", "must be a date like 2025-03-31, got '2025-02-30'"),
    Case("duplicate document key", D, "key: ca-2025", "key: bp-2025",
         "bp-2025\n  type: compte_administratif", "key", "duplicate key 'bp-2025'"),
    Case("year not a number", G, "year: 2024", "year: deux mille",
         "deux mille", "year", "must be a whole number"),
    Case("slug not the directory", M, "slug: cotonou", "slug: cotonu",
         "slug:", "slug", "must match the directory name 'cotonou'"),
    Case("spelling for two arrondissements", M, '"3e", "3eme"', '"2e", "3eme"',
         '"2e", "3eme"', "variants", "spelling '2e' already names '2e arrondissement'"),
    Case("language not a code", M, "[fr, fon]", "[fr, fongbe]",
         "fongbe", "languages", "must be ISO 639 codes"),
    Case("missing file", C, "", None,
         None, None, "file is missing"),
]
# fmt: on
CASE = {case.id: case for case in CASES}


def corrupt(directory: Path, case: Case) -> None:
    path = directory / case.file
    if case.new is None:
        path.unlink()
        return
    new = case.new.encode() if isinstance(case.new, str) else case.new
    if case.old is None:
        path.write_bytes(new)
        return
    data = path.read_bytes()
    old = case.old.encode() if isinstance(case.old, str) else case.old
    assert old in data, f"{case.id}: {case.old!r} not in {case.file}"
    path.write_bytes(data.replace(old, new, 1))


def line_of(path: Path, at: int | str | None) -> int | None:
    if not isinstance(at, str):
        return at
    text = path.read_bytes().decode("utf-8", errors="replace")
    return text[: text.index(at)].count("\n") + 1


@pytest.fixture
def cotonou_copy(tmp_path: Path) -> Path:
    directory = tmp_path / "communes" / "cotonou"
    shutil.copytree(CONTENT_ROOT / "cotonou", directory)
    return directory


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_broken_file_gives_one_precise_error(cotonou_copy: Path, case: Case):
    corrupt(cotonou_copy, case)
    content, errors = parse_commune(cotonou_copy)
    assert len(errors) == 1, [str(error) for error in errors]
    (error,) = errors
    expected_line = line_of(cotonou_copy / case.file, case.at)
    assert (error.file, error.line, error.field) == (
        f"communes/cotonou/{case.file}",
        expected_line,
        case.field,
    )
    assert case.message in error.message
    if case.file != "commune.yaml":
        assert content is not None


def test_all_errors_are_collected(cotonou_copy: Path):
    for case_id in ("progress out of range", "negative amount", "bad event status"):
        corrupt(cotonou_copy, CASE[case_id])
    (cotonou_copy / "projects.csv").write_text(
        (cotonou_copy / "projects.csv").read_text().replace(",40,", ",-3,"), encoding="utf-8"
    )
    _, errors = parse_commune(cotonou_copy)
    assert [(error.file.rsplit("/", 1)[1], error.field) for error in errors] == [
        ("budget_lines.csv", "amount_xof"),
        ("projects.csv", "progress"),
        ("projects.csv", "progress"),
        ("events.yaml", "status"),
    ]


def test_broken_record_is_left_out_but_the_rest_is_kept(cotonou_copy: Path):
    corrupt(cotonou_copy, CASE["progress out of range"])
    content, _ = parse_commune(cotonou_copy)
    assert content is not None
    assert len(content.projects) == 6
    assert "pta-2025-pavage-rue-12e" not in {project.content_key for project in content.projects}


def test_excel_bom_and_crlf_are_accepted(cotonou_copy: Path):
    path = cotonou_copy / "projects.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes().replace(b"\n", b"\r\n"))
    content, errors = parse_commune(cotonou_copy)
    assert errors == []
    assert content is not None and len(content.projects) == 7


def test_excel_upper_case_booleans_are_accepted(cotonou_copy: Path):
    path = cotonou_copy / "contracts.csv"
    path.write_text(path.read_text(encoding="utf-8").replace(",true\n", ",TRUE\n"), "utf-8")
    assert parse_commune(cotonou_copy)[1] == []


def test_unusable_commune_file_drops_the_commune_but_checks_the_rest(cotonou_copy: Path):
    (cotonou_copy / "commune.yaml").write_text("slug: [cotonou\n", encoding="utf-8")
    corrupt(cotonou_copy, CASE["progress out of range"])
    content, errors = parse_commune(cotonou_copy)
    assert content is None
    assert [(error.file, error.line) for error in errors] == [
        ("communes/cotonou/commune.yaml", 2),
        ("communes/cotonou/projects.csv", 2),
    ]


def test_tree_reports_a_spelling_shared_by_two_communes(tmp_path: Path):
    root = tmp_path / "communes"
    for slug in ("cotonou", "abomey-calavi"):
        shutil.copytree(CONTENT_ROOT / slug, root / slug)
    path = root / "cotonou" / "commune.yaml"
    path.write_text(path.read_text("utf-8").replace("[cotonu,", "[calavi, cotonu,"), "utf-8")
    contents, errors = parse_tree(root)
    assert len(contents) == 2
    assert [(error.file, error.field) for error in errors] == [
        ("communes/cotonou/commune.yaml", "name_variants")
    ]
