"""The content screens, on the sample content, in French and English."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot import models
from bot.content import cache
from bot.content.loader import load_content
from bot.flows import info
from bot.flows.base import Context, Reply
from bot.flows.info_common import of_name, shortened
from bot.gsm import is_gsm7, to_gsm7
from bot.i18n import format_amount, format_date, format_datetime, format_percent, t
from bot.models.enums import BudgetDirection, BudgetPhase, BudgetSection, Channel, EventStatus

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
LANGS = ("fr", "en")
SLUGS = ("cotonou", "abomey-calavi", "akpro-missere")
SCREENS: dict[str, Callable[[Context], Reply]] = {
    name: getattr(info, name) for name in info.__all__
}
# Screens that quote amounts of money.
MONEY_SCREENS = ("budget", "compte_administratif", "contracts")
UNIT = {"fr": "F CFA", "en": "CFA francs"}
COMMUNE_TABLES = (
    models.BudgetLine,
    models.Document,
    models.Project,
    models.Contract,
    models.AgendaItem,
    models.Event,
    models.GoodPractice,
)


@pytest.fixture
def loaded(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    load_content(session)
    session.commit()
    monkeypatch.setattr(cache, "utcnow", lambda: NOW)
    cache.clear()
    yield session
    cache.clear()


def _ctx(session: Session, lang: str = "fr", slug: str | None = "cotonou", **data) -> Context:
    return Context(
        session=session,
        contact_id=1,
        channel=Channel.SMS,
        lang=lang,
        commune_slug=slug,
        data=dict(data),
    )


def _sum(session: Session, slug: str, year: int, phase: BudgetPhase, **where: object) -> int:
    query = (
        select(func.sum(models.BudgetLine.amount_xof))
        .join(models.Commune, models.Commune.id == models.BudgetLine.commune_id)
        .where(
            models.Commune.slug == slug,
            models.BudgetLine.fiscal_year == year,
            models.BudgetLine.phase == phase,
        )
    )
    for name, value in where.items():
        query = query.where(getattr(models.BudgetLine, name) == value)
    return int(session.scalar(query))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_every_screen_answers_in_plain_short_text(
    loaded: Session, screen: str, slug: str, lang: str
) -> None:
    reply = SCREENS[screen](_ctx(loaded, lang, slug))
    name = loaded.scalar(select(models.Commune.name).where(models.Commune.slug == slug))
    assert reply.content
    assert reply.title
    assert reply.text.strip()
    assert name in reply.text
    label = f"({t('sample.label', lang)})"
    if screen == "about":
        # The commune's facts are real data: no sample label on them.
        assert label not in reply.title + reply.text
    else:
        # First thing read, on every channel, before any page or SMS part.
        assert reply.title.endswith(" " + label)
    if screen in MONEY_SCREENS:
        assert UNIT[lang] in reply.text
    assert is_gsm7(to_gsm7(reply.text))
    assert is_gsm7(to_gsm7(reply.title))
    # Plain: no markdown, no numbering (the renderer numbers options), not too long.
    assert not re.search(r"[*_`#]|^\s*\d+[.)] ", reply.text.replace("https://", ""), re.M)
    assert len(reply.text) <= 620
    assert len(reply.options) <= 2


@pytest.mark.parametrize("lang", LANGS)
def test_screens_speak_the_language(loaded: Session, lang: str) -> None:
    other = "en" if lang == "fr" else "fr"
    for screen in SCREENS.values():
        reply = screen(_ctx(loaded, lang))
        if "(" + t("sample.label", other) + ")" in reply.title + reply.text:
            pytest.fail(f"{screen.__name__} in {lang} carries the {other} sample label")
    assert "Budget 2025 de Cotonou (voté)" in info.budget(_ctx(loaded, "fr")).text
    assert "2025 budget for Cotonou (voted)" in info.budget(_ctx(loaded, "en")).text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("slug", SLUGS)
def test_budget_totals_match_the_database(loaded: Session, slug: str, lang: str) -> None:
    text = info.budget(_ctx(loaded, lang, slug)).text
    voted, executed = BudgetPhase.VOTED, BudgetPhase.EXECUTED
    recette, depense = BudgetDirection.RECETTE, BudgetDirection.DEPENSE
    voted_depenses = _sum(loaded, slug, 2025, voted, direction=depense)
    executed_depenses = _sum(loaded, slug, 2025, executed, direction=depense)
    expected = [
        format_amount(_sum(loaded, slug, 2025, voted, direction=recette), lang),
        format_amount(voted_depenses, lang),
        format_amount(_sum(loaded, slug, 2025, executed, direction=recette), lang),
        format_amount(executed_depenses, lang),
        format_percent(executed_depenses, voted_depenses, lang),
    ]
    for section in BudgetSection:
        amount = _sum(loaded, slug, 2025, voted, direction=depense, section=section)
        expected.append(format_amount(amount, lang))
    for fragment in expected:
        assert fragment in text
    assert "2025" in text


def test_budget_names_the_three_largest_voted_spending_sectors(loaded: Session) -> None:
    text = info.budget(_ctx(loaded)).text
    largest = "Voirie (11,6 milliards F CFA) ; Personnel (10,9 milliards F CFA) ; "
    assert largest + "Assainissement et drainage (7 milliards F CFA)." in text
    assert "Fonctionnement des services" not in text


def test_budget_of_another_year_and_its_options(loaded: Session) -> None:
    latest = info.budget(_ctx(loaded))
    assert [(o.key, o.label) for o in latest.options] == [("year:2024", "Budget 2024")]
    assert [o.label for o in info.budget(_ctx(loaded, "en")).options] == ["2024 budget"]

    older = info.budget(_ctx(loaded, year=2024))
    total = _sum(loaded, "cotonou", 2024, BudgetPhase.VOTED, direction=BudgetDirection.RECETTE)
    assert "Budget 2024 de Cotonou" in older.text
    assert format_amount(total, "fr") in older.text
    assert [o.key for o in older.options] == ["year:2025"]
    # A year with no budget falls back to the latest one.
    assert "Budget 2025" in info.budget(_ctx(loaded, year=1999)).text


def test_budget_without_execution_or_vote(loaded: Session) -> None:
    loaded.execute(delete(models.BudgetLine).where(models.BudgetLine.phase == BudgetPhase.EXECUTED))
    loaded.commit()
    text = info.budget(_ctx(loaded)).text
    assert "Exécution : pas encore publiée." in text
    assert "%" not in text

    loaded.execute(delete(models.BudgetLine))
    loaded.commit()
    cache.clear()
    reply = info.budget(_ctx(loaded))
    assert reply.text == "Aucun budget n'est encore publié pour Cotonou."
    assert reply.options == ()


def test_compte_administratif_gives_summary_figures_and_link(loaded: Session) -> None:
    text = info.compte_administratif(_ctx(loaded, "fr", "abomey-calavi")).text
    assert text.startswith("Compte administratif 2025 d'Abomey-Calavi : Exemple : exécution")
    executed = _sum(
        loaded, "abomey-calavi", 2025, BudgetPhase.EXECUTED, direction=BudgetDirection.DEPENSE
    )
    assert format_amount(executed, "fr") in text
    url = "https://example.org/communes-plus/sample/abomey-calavi/compte-administratif-2025.pdf"
    assert f"À lire : {url}" in text
    assert "compte-administratif-2024" in info.compte_administratif(_ctx(loaded, year=2024)).text


def test_projects_of_the_latest_year_largest_first(loaded: Session) -> None:
    lines = info.projects(_ctx(loaded)).text.splitlines()
    assert lines[0] == "Plan de travail annuel 2025 de Cotonou :"
    assert (
        lines[1] == "Pavage d'une rue secondaire (exemple) : en cours (65 %), 12e arrondissement."
    )
    assert (
        lines[3] == "Curage et réhabilitation de caniveaux (exemple) : terminé, 5e arrondissement."
    )
    assert len(lines) == 1 + 5 + 1  # heading, five projects, the count of the rest
    assert lines[6] == "Et 1 autre projet."
    assert "bassin de rétention" not in "\n".join(lines)  # a 2024 project
    english = info.projects(_ctx(loaded, "en")).text
    assert (
        "Pavage d'une rue secondaire (exemple): in progress (65%), 12e arrondissement." in english
    )
    assert "bassin de rétention" in info.projects(_ctx(loaded, year=2024)).text


def test_contracts_latest_three(loaded: Session) -> None:
    lines = info.contracts(_ctx(loaded)).text.splitlines()
    assert lines[0] == "Derniers marchés de Cotonou :"
    assert lines[1] == (
        "Études techniques d'un centre de santé (exemple) : Cabinet Démo Ingénierie, "
        "18,5 millions F CFA, signé le lundi 22 septembre 2025, en attente."
    )
    assert lines[2].startswith("Fourniture et pose de lampadaires solaires")
    assert lines[3].startswith("Travaux de pavage d'une rue secondaire")
    assert len(lines) == 4  # heading and three contracts


def test_agenda_next_three_in_porto_novo_time(loaded: Session) -> None:
    lines = info.agenda(_ctx(loaded)).text.splitlines()
    assert lines[0] == "Agenda du maire de Cotonou :"
    assert lines[1] == (
        "Jeudi 5 novembre 2026 à 15h00, Hôtel de ville : "
        "Audience avec des associations de commerçants (exemple)."
    )
    assert lines[2].startswith("Jeudi 3 décembre 2026 à 09h00")
    assert lines[3].startswith("Jeudi 14 janvier 2027 à 10h00")
    assert len(lines) == 4  # heading and three items
    english = info.agenda(_ctx(loaded, "en")).text
    assert "Thursday 5 November 2026 at 15:00, Hôtel de ville: Audience" in english


def test_council_next_session_and_last_decisions(loaded: Session) -> None:
    text = info.council(_ctx(loaded)).text
    when = format_datetime(datetime(2026, 12, 10, 8, 0, tzinfo=UTC), "fr")
    assert f"Prochaine session ordinaire du conseil de Cotonou : {when}." in text
    assert "Lieu : Salle des délibérations de l'hôtel de ville." in text
    assert "Ordre du jour : Examen et vote du budget primitif 2027 (exemple) ;" in text
    assert "Pour suivre : en direct sur la radio communale" in text
    held_on = format_date(datetime(2026, 10, 15, tzinfo=UTC), "fr")
    assert f"Décisions de la dernière session ({held_on}) : Adoption du collectif" in text
    assert "Création d'une commission sur les marchés (exemple)." in text


def test_council_postponed_session_says_so(loaded: Session) -> None:
    loaded.execute(
        update(models.Event)
        .where(models.Event.content_key == "session-ordinaire-2026-12")
        .values(status=EventStatus.POSTPONED)
    )
    loaded.commit()
    assert "(séance reportée)" in info.council(_ctx(loaded)).text
    assert "(postponed)" in info.council(_ctx(loaded, "en")).text


def test_reddition_next_and_last(loaded: Session) -> None:
    text = info.reddition(_ctx(loaded)).text
    when = format_datetime(datetime(2027, 2, 20, 8, 0, tzinfo=UTC), "fr")
    assert f"Prochaine reddition de comptes de Cotonou : {when}." in text
    assert "Les questions des citoyens sont recueillies avant la séance." in text
    assert "Dernière reddition (samedi 27 juin 2026) : Exemple : le maire a présenté" in text
    report = "https://example.org/communes-plus/sample/cotonou/rapport-reddition-2025.pdf"
    assert f"Rapport : {report}" in text

    loaded.execute(update(models.Event).values(accepts_questions=False))
    loaded.commit()
    cache.clear()
    text = info.reddition(_ctx(loaded)).text
    assert "Pas de questions recueillies à l'avance pour cette séance." in text


def test_good_practices_at_most_three(loaded: Session) -> None:
    lines = info.good_practices(_ctx(loaded)).text.splitlines()
    assert lines[0] == "Bonnes pratiques de Cotonou :"
    assert len(lines) == 1 + 3  # heading and three practices
    assert lines[1].startswith("Affichage du budget dans chaque arrondissement (exemple) : Exemple")


def test_about_gives_the_commune_facts(loaded: Session) -> None:
    text = info.about(_ctx(loaded)).text
    assert text.splitlines() == [
        "Commune : Cotonou. Département : Littoral.",
        "Population : 679 012 habitants (recensement de 2013).",
        "13 arrondissements : 1er, 2e, 3e, 4e, 5e, 6e, 7e, 8e, 9e, 10e, 11e, 12e, 13e.",
    ]
    english = info.about(_ctx(loaded, "en", "abomey-calavi")).text
    assert "Population: 656,358 (census of 2013)." in english
    assert "9 arrondissements: Abomey-Calavi, Akassato, Godomey," in english


@pytest.mark.parametrize("slug", [None, "nowhere"])
@pytest.mark.parametrize("screen", sorted(SCREENS))
def test_no_or_unknown_commune_asks_to_choose_one(
    loaded: Session, screen: str, slug: str | None
) -> None:
    for lang in LANGS:
        reply = SCREENS[screen](_ctx(loaded, lang, slug))
        assert not reply.content
        assert reply.text == t("info.choose_commune", lang)


@pytest.mark.parametrize("lang", LANGS)
def test_commune_without_content_answers_politely(loaded: Session, lang: str) -> None:
    commune_id = loaded.scalar(
        select(models.Commune.id).where(models.Commune.slug == "akpro-missere")
    )
    for model in COMMUNE_TABLES:
        loaded.execute(delete(model).where(model.commune_id == commune_id))
    loaded.commit()
    cache.clear()
    label = t("sample.label", lang)
    for name, screen in SCREENS.items():
        reply = screen(_ctx(loaded, lang, "akpro-missere"))
        assert reply.content, name
        assert "Akpro-Missérété" in reply.text, name
        assert label not in reply.title + reply.text, name
        assert reply.options == (), name
        assert is_gsm7(to_gsm7(reply.text)), name
    expected = {
        "fr": "Aucune session du conseil d'Akpro-Missérété n'est annoncée pour le moment.",
        "en": "No council session has been announced for Akpro-Missérété yet.",
    }
    assert info.council(_ctx(loaded, lang, "akpro-missere")).text == expected[lang]
    contracts = info.contracts(_ctx(loaded, lang, "akpro-missere")).text
    assert contracts == t("info.contracts.none", lang, commune="Akpro-Missérété")


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        ("Cotonou", "fr", "de Cotonou"),
        ("Abomey-Calavi", "fr", "d'Abomey-Calavi"),
        ("Akpro-Missérété", "fr", "d'Akpro-Missérété"),
        ("Ouidah", "fr", "d'Ouidah"),
        ("Èkpè", "fr", "d'Èkpè"),
        ("Porto-Novo", "fr", "de Porto-Novo"),
        ("Abomey-Calavi", "en", "for Abomey-Calavi"),
    ],
)
def test_of_name_elides_before_a_vowel(name: str, lang: str, expected: str) -> None:
    assert of_name(name, lang) == expected


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("court", 10, "court"),
        ("un texte assez long pour couper", 16, "un texte..."),
        ("un texte, assez long", 12, "un texte..."),
        ("motsansespaceaucun", 10, "motsans..."),
    ],
)
def test_shortened_cuts_at_a_word(text: str, limit: int, expected: str) -> None:
    assert shortened(text, limit) == expected
    assert len(shortened(text, limit)) <= limit
