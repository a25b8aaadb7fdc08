"""What citizens type, and what the matcher must read in it (bot/matching.py)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from bot.matching import (
    GLOBAL_COMMANDS,
    TOPICS,
    Intent,
    Place,
    fold,
    global_command,
    match_commune,
    match_option,
    parse_intent,
    pick_option,
)
from bot.optout import STOP_WORDS, is_stop

COMMUNES = Path(__file__).resolve().parents[1] / "bot" / "content" / "communes"


def _places() -> list[Place]:
    """The communes as the engine sees them, from the real commune.yaml files."""
    places = []
    for path in sorted(COMMUNES.glob("*/commune.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        places.append(Place(data["slug"], data["name"], tuple(data.get("name_variants", ()))))
    return places


PLACES = _places()
SLUG = {place.name: place.slug for place in PLACES}
COTONOU, CALAVI, AKPRO = SLUG["Cotonou"], SLUG["Abomey-Calavi"], SLUG["Akpro-Missérété"]


def test_places_come_from_the_content() -> None:
    assert len(PLACES) >= 3
    assert all(place.variants for place in PLACES)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Abomey-Calavi", "abomey calavi"),
        ("  MISSÉRÉTÉ\t\n", "misserete"),
        ("l'agenda du maire ?!", "l agenda du maire"),
        ("Budget 💰 2025", "budget 2025"),
        ("Œuvre", "oeuvre"),
        ("l’agenda «maire»", "l agenda maire"),
        ("", ""),
    ],
    ids=["hyphen", "accents-case", "punctuation", "emoji", "ligature", "curly-quotes", "empty"],
)
def test_fold(text: str, expected: str) -> None:
    assert fold(text) == expected


# Every spelling in commune.yaml names its commune, as typed and in capitals.
SPELLINGS = [(v, p.slug) for p in PLACES for v in (p.name, *p.variants)]


@pytest.mark.parametrize(("text", "slug"), SPELLINGS, ids=[s for s, _ in SPELLINGS])
def test_every_spelling_in_the_content_matches(text: str, slug: str) -> None:
    assert match_commune(text, PLACES) == slug
    assert match_commune(text.upper(), PLACES) == slug


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("cotonou", COTONOU),
        ("cotonu", COTONOU),
        ("kutonu", COTONOU),
        ("COTONOU", COTONOU),
        ("cotonoo", COTONOU),
        ("cotnou", COTONOU),
        ("calavi", CALAVI),
        ("abomey calavi", CALAVI),
        ("abomey-calavi", CALAVI),
        ("ABOMEY CALAVI", CALAVI),
        ("abomeycalavi", CALAVI),
        ("calavu", CALAVI),
        ("abomey calvi", CALAVI),
        ("akpro", AKPRO),
        ("misserete", AKPRO),
        ("missérété", AKPRO),
        ("akpro misserete", AKPRO),
        ("Akpro-Missérété", AKPRO),
        ("misserette", AKPRO),
        ("je vis à Calavi, et vous ?", CALAVI),
        ("budget de cotonou 2025", COTONOU),
        ("🙏 kutonu 🙏", COTONOU),
        ("cotonou ou calavi", COTONOU),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_match_commune(text: str, slug: str) -> None:
    assert match_commune(text, PLACES) == slug


@pytest.mark.parametrize(
    "text",
    [
        "budget",
        "session",
        "mairie",
        "le",
        "de",
        "abomey",
        "ABOMEY",
        "la mairie d'Abomey",
        "abomey budget 2025",
        "coton",
        "prix du coton",
        "conseil municipal",
        "",
        "   ",
        "🙂🙂",
        "2025",
    ],
    ids=lambda text: repr(text),
)
def test_match_commune_never_reads_common_words(text: str) -> None:
    assert match_commune(text, PLACES) is None


def _one_letter_wrong(word: str) -> str:
    """`word` with its third letter replaced, the typo of a thumb on a phone keyboard."""
    return word[:2] + ("x" if word[2] != "x" else "z") + word[3:]


# Every one-word spelling of 6+ letters in commune.yaml, with one letter wrong.
TYPOS = sorted(
    {
        (_one_letter_wrong(fold(spelling)), place.slug)
        for place in PLACES
        for spelling in (place.name, *place.variants)
        if " " not in fold(spelling) and len(fold(spelling)) >= 6
    }
)


@pytest.mark.parametrize(("text", "slug"), TYPOS, ids=[t for t, _ in TYPOS])
def test_one_letter_wrong_in_a_commune_name(text: str, slug: str) -> None:
    assert match_commune(text, PLACES) == slug


@pytest.mark.parametrize(
    ("word", "topic"),
    [
        ("budget", "budget"),
        ("finances", "budget"),
        ("depenses", "budget"),
        ("projets", "projects"),
        ("travaux", "projects"),
        ("contrats", "contracts"),
        ("agenda", "agenda"),
        ("conseil", "council"),
        ("session", "council"),
        ("reddition", "reddition"),
        ("accountability", "reddition"),
        ("pratiques", "good_practices"),
        ("population", "about"),
    ],
    ids=lambda value: value,
)
def test_one_letter_wrong_in_a_topic_word(word: str, topic: str) -> None:
    assert parse_intent(_one_letter_wrong(word), PLACES).topic == topic
    assert parse_intent(word[:3] + word[4] + word[3] + word[5:], PLACES).topic == topic


def _intent(topic: str | None, commune: str | None = None, year: int | None = None) -> Intent:
    return Intent(topic=topic, commune=commune, year=year)


INTENTS = {
    # keyword SMS
    "BUDGET COTONOU": _intent("budget", COTONOU),
    "bujet cotonu 2025": _intent("budget", COTONOU, 2025),
    "BUDGET ABOMEY CALAVI": _intent("budget", CALAVI),
    "budjet calavi": _intent("budget", CALAVI),
    "bidget cotonou": _intent("budget", COTONOU),
    "PTA calavi": _intent("projects", CALAVI),
    "marches akpro": _intent("contracts", AKPRO),
    "marchés publics Akpro-Missérété": _intent("contracts", AKPRO),
    "CA cotonou 2023": _intent("compte_administratif", COTONOU, 2023),
    "AGENDA kutonu": _intent("agenda", COTONOU),
    "conseil calavi": _intent("council", CALAVI),
    "infos akpro": _intent("about", AKPRO),
    # free text, French
    "Quel est le budget de Calavi en 2025 ?": _intent("budget", CALAVI, 2025),
    "Quand est la prochaine session du conseil à Cotonou ?": _intent("council", COTONOU),
    "reddition de comptes akpro": _intent("reddition", AKPRO),
    "Où en sont les travaux à Cotonou ?": _intent("projects", COTONOU),
    "Les appels d'offres de Calavi": _intent("contracts", CALAVI),
    "quelles sont les bonnes pratiques ?": _intent("good_practices"),
    "À propos de Cotonou": _intent("about", COTONOU),
    "Quelle est la population de Calavi ?": _intent("about", CALAVI),
    "les dépenses de la mairie en 2024": _intent("budget", None, 2024),
    "rendez-vous avec le maire": _intent("agenda"),
    "redevabilité": _intent("reddition"),
    "les décisions du conseil municipal": _intent("council"),
    # free text, English
    "what is the budget of Cotonou for 2024": _intent("budget", COTONOU, 2024),
    "public tenders in Calavi": _intent("contracts", CALAVI),
    "the mayor's calendar": _intent("agenda"),
    "accountability hearing Cotonou": _intent("reddition", COTONOU),
    "good practices": _intent("good_practices"),
    "about Akpro": _intent("about", AKPRO),
    # precedence when several topics appear
    "session de reddition": _intent("reddition"),
    "compte administratif du budget 2024": _intent("compte_administratif", None, 2024),
    "budget de la commune": _intent("budget"),
    "compte rendu du conseil": _intent("council"),
    "projets du conseil": _intent("projects"),
    # no topic, no commune, no year
    "Cotonou": _intent(None, COTONOU),
    "BUDGET": _intent("budget"),
    "bonjour": _intent(None),
    "c'est urgent, un agent de la mairie": _intent(None),
    "": _intent(None),
    "🙏🙏🙏": _intent(None),
    "budget 1999 ou 20251": _intent("budget"),
    # "ca" is CA only when it is not the French "ça"
    "ça va ?": _intent(None),
    "Ça va, et le CA ?": _intent(None),
    "ca": _intent("compte_administratif"),
    "le CA ou le budget": _intent("budget"),  # "ca" is weak: any other topic wins
    "Abomey 2030": _intent(None, None, 2030),
}


@pytest.mark.parametrize(("text", "expected"), INTENTS.items(), ids=list(INTENTS))
def test_parse_intent(text: str, expected: Intent) -> None:
    assert parse_intent(text, PLACES) == expected
    assert expected.topic is None or expected.topic in TOPICS


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("STOP", "stop"),
        ("stop", "stop"),
        ("Stop !", "stop"),
        ("ARRET", "stop"),
        ("ARRÊT", "stop"),
        ("stopall", "stop"),
        ("UNSUBSCRIBE", "stop"),
        ("désabonner", "stop"),
        ("AIDE", "help"),
        ("help", "help"),
        ("?", "help"),
        (" ?? ", "help"),
        ("MENU", "menu"),
        ("Accueil", "menu"),
        ("acceuil", "menu"),
        ("home", "menu"),
        ("LANGUE", "language"),
        ("langeu", "language"),
        ("language", "language"),
        ("lang", "language"),
        ("SUITE", "next"),
        ("suite.", "next"),
        ("next", "next"),
        ("PLUS", "next"),
        ("more", "next"),
        ("le menu du conseil", None),
        ("stopper la pollution", None),
        ("stop la pollution", None),
        ("aide moi pour le budget", None),
        ("menus", None),
        ("stpo", None),
        ("budget", None),
        ("", None),
        ("...", None),
        ("🛑", None),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_global_command(text: str, command: str | None) -> None:
    assert global_command(text) == command


@pytest.mark.parametrize("word", sorted(STOP_WORDS))
def test_stop_agrees_with_optout(word: str) -> None:
    assert GLOBAL_COMMANDS[word] == "stop"
    for text in (word, word.upper(), f" {word}! "):
        assert (global_command(text) == "stop") == is_stop(text)


TOPIC_OPTIONS = [
    "Budget",
    "Compte administratif",
    "Projets (PTA)",
    "Marchés publics",
    "Agenda du maire",
    "Conseil municipal",
    "Reddition de comptes",
    "Bonnes pratiques",
    "À propos",
]
COMMUNE_OPTIONS = ["Cotonou", "Abomey-Calavi", "Akpro-Missérété"]


@pytest.mark.parametrize(
    ("text", "labels", "index"),
    [
        ("budget", TOPIC_OPTIONS, 0),
        ("BUDJET", TOPIC_OPTIONS, 0),
        ("le budget svp", TOPIC_OPTIONS, 0),
        ("compte administratif", TOPIC_OPTIONS, 1),
        ("comte administratif", TOPIC_OPTIONS, 1),
        ("pta", TOPIC_OPTIONS, 2),
        ("marches", TOPIC_OPTIONS, 3),
        ("conseil", TOPIC_OPTIONS, 5),
        ("a propos", TOPIC_OPTIONS, 8),
        ("budget des projets", TOPIC_OPTIONS, None),
        ("de", TOPIC_OPTIONS, None),
        ("bonjour", TOPIC_OPTIONS, None),
        ("", TOPIC_OPTIONS, None),
        ("Calavi", COMMUNE_OPTIONS, 1),
        ("abomey-calavi", COMMUNE_OPTIONS, 1),
        ("cotonu", COMMUNE_OPTIONS, 0),
        ("Missérété", COMMUNE_OPTIONS, 2),
        ("zzz", COMMUNE_OPTIONS, None),
        ("budget", [], None),
        ("budget", ["Budget", "Budget"], None),
    ],
    ids=lambda value: repr(value) if isinstance(value, str | int) else None,
)
def test_match_option(text: str, labels: list[str], index: int | None) -> None:
    assert match_option(text, labels) == index


GARBAGE = {
    "letters": ("azertyuiop qsdfghjklm " * 500)[:10_000],
    "one-word": "x" * 10_000,
    "near-keywords": ("bujet cotonu marchez sesion " * 400)[:10_000],
    "emoji": "🙏💰" * 5_000,
    "punctuation": "?!.,'-" * 1_700,
}


@pytest.mark.parametrize("text", GARBAGE.values(), ids=list(GARBAGE))
def test_long_garbage_is_fast(text: str) -> None:
    start = time.perf_counter()
    parse_intent(text, PLACES)
    global_command(text)
    match_option(text, TOPIC_OPTIONS)
    # ~10 ms on a laptop; generous for a loaded CI machine.
    assert time.perf_counter() - start < 0.05


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2", 1), (" 3 ", 2), ("4", None), ("0", None), ("²", None), ("routes", 1), ("", None)],
)
def test_pick_option_by_number_or_words(text: str, expected: int | None) -> None:
    assert pick_option(text, ["Eclairage public", "Routes pavees", "Caniveaux"]) == expected
