"""Loading the commune content: whole, idempotent, atomic, and marked as sample."""

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import models
from bot.content.loader import ContentInvalid, load_content
from bot.content.validate import CONTENT_ROOT
from bot.models.enums import AreaKind, BudgetPhase

CONTENT_TABLES = (
    models.BudgetLine,
    models.Document,
    models.Project,
    models.Contract,
    models.AgendaItem,
    models.Event,
    models.Decision,
    models.GoodPractice,
)


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _counts(session) -> dict[str, int]:
    tables = (models.Commune, models.Area, *CONTENT_TABLES)
    return {model.__tablename__: _count(session, model) for model in tables}


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    target = tmp_path / "communes"
    shutil.copytree(CONTENT_ROOT, target)
    return target


def test_loads_the_three_communes_with_their_arrondissements(session) -> None:
    load_content(session)
    session.commit()
    communes = {c.slug: c for c in session.scalars(select(models.Commune))}
    assert set(communes) == {"cotonou", "abomey-calavi", "akpro-missere"}
    assert communes["akpro-missere"].name == "Akpro-Missérété"
    assert communes["cotonou"].department == "Littoral"
    arrondissements = {
        slug: session.scalar(
            select(func.count(models.Area.id)).where(
                models.Area.commune_id == commune.id,
                models.Area.kind == AreaKind.ARRONDISSEMENT,
            )
        )
        for slug, commune in communes.items()
    }
    assert arrondissements == {"cotonou": 13, "abomey-calavi": 9, "akpro-missere": 5}


def test_every_content_row_is_marked_sample(session) -> None:
    load_content(session)
    session.commit()
    for model in CONTENT_TABLES:
        assert _count(session, model) > 0, model.__tablename__
        real = session.scalar(
            select(func.count()).select_from(model).where(model.is_sample.is_(False))
        )
        assert real == 0, f"{model.__tablename__} has rows not marked as sample"


def test_budget_has_two_years_voted_and_executed_for_each_commune(session) -> None:
    load_content(session)
    session.commit()
    for commune in session.scalars(select(models.Commune)):
        pairs = set(
            session.execute(
                select(models.BudgetLine.fiscal_year, models.BudgetLine.phase)
                .where(models.BudgetLine.commune_id == commune.id)
                .distinct()
            )
        )
        years = {year for year, _ in pairs}
        assert len(years) == 2, commune.slug
        assert pairs == {(y, p) for y in years for p in BudgetPhase}, commune.slug


def test_loading_twice_changes_nothing(session) -> None:
    first = load_content(session)
    session.commit()
    before = _counts(session)
    stamps = sorted(session.scalars(select(models.BudgetLine.updated_at)))

    second = load_content(session)
    session.commit()
    assert first.changed
    assert not second.changed
    assert sum(second.unchanged.values()) == sum(first.created.values())
    assert _counts(session) == before
    assert sorted(session.scalars(select(models.BudgetLine.updated_at))) == stamps


def test_an_edited_file_updates_rows_in_place(session, content_copy: Path) -> None:
    load_content(session, content_copy)
    session.commit()
    before = _counts(session)
    csv = content_copy / "cotonou" / "contracts.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    header, first = lines[0].split(","), lines[1].split(",")
    ocid = first[header.index("ocid")]
    first[header.index("supplier")] = "Entreprise Exemple Renommée SARL"
    csv.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n", encoding="utf-8")

    report = load_content(session, content_copy)
    session.commit()
    assert report.updated == {"contracts": 1}
    assert not report.created
    assert _counts(session) == before
    contract = session.scalar(select(models.Contract).where(models.Contract.ocid == ocid))
    assert contract.supplier == "Entreprise Exemple Renommée SARL"


def test_a_bad_file_loads_nothing_at_all(session, content_copy: Path) -> None:
    # The last commune is broken: the valid ones before it must not be loaded either.
    projects = content_copy / "cotonou" / "projects.csv"
    lines = projects.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[2].split(",")
    row[header.index("progress")] = "140"
    lines[2] = ",".join(row)
    projects.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ContentInvalid) as raised:
        load_content(session, content_copy)
    session.rollback()
    assert [str(e) for e in raised.value.errors] == [
        "communes/cotonou/projects.csv:3: progress: must be between 0 and 100, got 140"
    ]
    assert all(count == 0 for count in _counts(session).values())


def test_cli_load_is_idempotent_and_reports(runner) -> None:
    first = runner.invoke(args=["content", "load"])
    assert first.exit_code == 0, first.output
    assert "communes 3 new" in first.output
    second = runner.invoke(args=["content", "load"])
    assert second.exit_code == 0, second.output
    assert "communes 0 new, 0 updated, 3 unchanged" in second.output


def test_cli_validate_and_load_name_file_line_and_field(runner, session, content_copy) -> None:
    events = content_copy / "abomey-calavi" / "events.yaml"
    text = events.read_text(encoding="utf-8")
    events.write_text(text.replace("type: session_ordinaire", "type: session_secrete", 1))

    for command in ("validate", "load"):
        result = runner.invoke(args=["content", command, "--dir", str(content_copy)])
        assert result.exit_code == 1, result.output
        assert "communes/abomey-calavi/events.yaml:" in result.output
        assert "type:" in result.output
        assert "session_secrete" in result.output
    assert _count(session, models.Commune) == 0


def test_cli_validate_accepts_the_shipped_content(runner) -> None:
    result = runner.invoke(args=["content", "validate"])
    assert result.exit_code == 0, result.output
    assert "content valid: 3 communes" in result.output
