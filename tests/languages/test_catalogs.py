"""Languages come from the catalog files present: a file adds one, French fills the gaps."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.flows.info_common import number
from bot.gsm import is_gsm7
from bot.i18n import (
    CATALOG_DIR,
    available_languages,
    format_amount,
    format_date,
    format_percent,
    formatting_language,
    language_name,
    load_catalog,
    t,
    translated,
)

LOCAL_LANGUAGES = {"fon": "Fongbe", "guw": "Goun", "yo": "Yoruba"}


def test_shipped_languages_are_french_first_then_by_their_own_name() -> None:
    assert available_languages() == ("fr", "en", "fon", "guw", "yo")
    names = [language_name(code) for code in available_languages()]
    assert names == ["Francais", "English", "Fongbe", "Goun", "Yoruba"]
    # Spelled in GSM-7: the list goes to basic phones by USSD and SMS as written.
    assert all(is_gsm7(name) for name in names)


@pytest.mark.parametrize(("code", "name"), sorted(LOCAL_LANGUAGES.items()))
def test_local_catalogs_hold_only_their_name(code: str, name: str) -> None:
    # No translation of the menus was checked by a speaker: nothing else is shipped.
    assert load_catalog(CATALOG_DIR, code) == {"language.name": name}
    assert t("menu.title", code, commune="Cotonou") == t("menu.title", "fr", commune="Cotonou")
    assert not translated("menu.title", code)


def test_a_catalog_file_adds_a_language_with_french_for_the_rest(catalogs: Path) -> None:
    (catalogs / "xyz.yaml").write_text(
        'language.name: "Xyzbe"\nmenu.invalid: "Xyz invalid"\n', encoding="utf-8"
    )
    assert "xyz" in available_languages()
    assert available_languages()[0] == "fr"
    assert language_name("xyz") == "Xyzbe"
    assert t("menu.invalid", "xyz") == "Xyz invalid"
    assert translated("menu.invalid", "xyz")
    assert t("nav.back", "xyz") == "Retour"
    assert not translated("nav.back", "xyz")


def test_a_catalog_that_does_not_name_its_language_is_not_offered(catalogs: Path) -> None:
    (catalogs / "zz.yaml").write_text('menu.invalid: "Zz"\n', encoding="utf-8")
    assert "zz" not in available_languages()
    with pytest.raises(KeyError):
        language_name("zz")
    # A contact who holds it still reads its texts, and French for the rest.
    assert t("menu.invalid", "zz") == "Zz"
    assert t("nav.back", "zz") == "Retour"


@pytest.mark.parametrize("code", ["de", "../fr", "", "fr/../en"])
def test_a_language_without_a_catalog_has_no_name(code: str) -> None:
    with pytest.raises(KeyError):
        language_name(code)


@pytest.mark.parametrize("code", sorted(LOCAL_LANGUAGES))
def test_figures_follow_the_french_text_they_sit_in(code: str) -> None:
    # babel knows Yoruba: without a date pattern of its own, a Yoruba caller still
    # reads French sentences, so month names and separators must be French too.
    assert formatting_language(code) == "fr"
    assert format_date(date(2026, 12, 15), code) == "mardi 15 décembre 2026"
    assert format_amount(45_200_000_000, code) == "45,2 milliards F CFA"
    assert format_percent(62, 100, code) == "62 %"
    assert number(656_358, code) == "656 358"


def test_a_language_that_writes_its_formats_keeps_them() -> None:
    assert formatting_language("en") == "en"
    assert format_amount(45_200_000_000, "en") == "45.2 billion CFA francs"
    assert number(656_358, "en") == "656,358"
