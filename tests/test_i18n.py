from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from bot import i18n
from bot.gsm import is_gsm7, to_gsm7
from bot.i18n import (
    CATALOG_DIR,
    DEFAULT_LANGUAGE,
    SUPPORTED_LANGUAGES,
    format_amount,
    format_date,
    format_datetime,
    format_percent,
    format_time,
    resolve_language,
    t,
    to_local,
)


def _catalog_file(lang: str) -> dict[str, str]:
    catalog = i18n.load_catalog(CATALOG_DIR, lang)
    assert catalog is not None
    return catalog


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_languages() -> None:
    assert SUPPORTED_LANGUAGES == ("fr", "en")
    assert DEFAULT_LANGUAGE == "fr"
    for lang in SUPPORTED_LANGUAGES:
        assert (CATALOG_DIR / f"{lang}.yaml").is_file()


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_supported_catalogs_are_complete_and_agree_on_placeholders(lang: str) -> None:
    french = _catalog_file("fr")
    catalog = _catalog_file(lang)
    assert catalog.keys() == french.keys()
    for key, text in catalog.items():
        assert _placeholders(text) == _placeholders(french[key]), key


@pytest.mark.parametrize(
    ("key", "lang", "expected"),
    [
        ("app.name", "fr", "Communes+"),
        ("health.ok", "fr", "Service disponible"),
        ("health.ok", "en", "Service available"),
        ("sample.label", "fr", "Données d'exemple"),
        ("sample.label", "en", "Sample data"),
        ("amount.unit", "fr", "F CFA"),
        ("amount.unit", "en", "CFA francs"),
        ("error.try_again", "en", "Something went wrong. Please try again later."),
        # Language tags and casing from phones and browsers resolve to a catalog.
        ("sample.label", "EN", "Sample data"),
        ("sample.label", "en-GB", "Sample data"),
        ("sample.label", "fr_BJ", "Données d'exemple"),
        ("sample.label", " en ", "Sample data"),
        # Unknown or unsafe languages fall back to French.
        ("sample.label", "de", "Données d'exemple"),
        ("sample.label", "", "Données d'exemple"),
        ("sample.label", None, "Données d'exemple"),
        ("sample.label", "../fr", "Données d'exemple"),
        ("sample.label", "en/../../fr", "Données d'exemple"),
    ],
)
def test_t(key: str, lang: str | None, expected: str) -> None:
    assert t(key, lang) == expected


def test_t_defaults_to_french() -> None:
    assert t("health.ok") == "Service disponible"


@pytest.mark.parametrize("key", ["app.name", "sample.label", "amount.unit", "health.ok"])
@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_short_labels_are_gsm7_as_written(key: str, lang: str) -> None:
    # These go on every USSD screen, which has no room for transliteration surprises.
    assert is_gsm7(t(key, lang))


def test_t_fills_placeholders() -> None:
    assert t("percent", "fr", value=62) == "62 %"
    assert t("datetime.full", "en", date="today", time="noon") == "today at noon"


def test_t_missing_placeholder_raises() -> None:
    with pytest.raises(KeyError, match="value"):
        t("percent", "fr")


@pytest.mark.parametrize("lang", ["fr", "en", "de"])
def test_t_unknown_key_raises(lang: str) -> None:
    with pytest.raises(KeyError, match=r"no\.such\.key"):
        t("no.such.key", lang)


@pytest.fixture
def catalog_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "fr.yaml").write_text(
        (CATALOG_DIR / "fr.yaml").read_text(encoding="utf-8") + 'only.fr: "Seulement {x}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(i18n, "CATALOG_DIR", tmp_path)
    return tmp_path


def test_new_language_needs_only_a_catalog_file(catalog_dir: Path) -> None:
    (catalog_dir / "fon.yaml").write_text('health.ok: "Ɛ ɖò azɔ̌ wà"\n', encoding="utf-8")
    assert resolve_language("fon") == "fon"
    assert t("health.ok", "fon") == "Ɛ ɖò azɔ̌ wà"
    # Keys it lacks come from French, and so do names and patterns babel does not know.
    assert t("only.fr", "fon", x="ici") == "Seulement ici"
    assert format_amount(45_200_000_000, "fon") == "45,2 milliards F CFA"
    assert format_date(date(2026, 12, 15), "fon") == "mardi 15 décembre 2026"
    # English has no file in this directory any more.
    assert resolve_language("en") == "fr"


@pytest.mark.parametrize(
    "content",
    [
        "- a\n- b\n",
        "key: [1, 2]\n",
        "key: 3\n",
        "1: text\n",
        "yes: Oui\n",
        "nested:\n  key: text\n",
    ],
)
def test_malformed_catalog_is_refused(catalog_dir: Path, content: str) -> None:
    (catalog_dir / "xx.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="flat mapping"):
        t("health.ok", "xx")


def test_language_cannot_name_a_file_outside_the_catalogs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalogs = tmp_path / "catalogs"
    catalogs.mkdir()
    (catalogs / "fr.yaml").write_text('health.ok: "Service disponible"\n', encoding="utf-8")
    (tmp_path / "evil.yaml").write_text('health.ok: "pwned"\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "CATALOG_DIR", catalogs)
    assert (catalogs / "../evil.yaml").is_file()
    for lang in ("../evil", "catalogs/../../evil", str(tmp_path / "evil")):
        assert resolve_language(lang) == "fr"
        assert t("health.ok", lang) == "Service disponible"


def test_empty_catalog_falls_back_to_french(catalog_dir: Path) -> None:
    (catalog_dir / "yy.yaml").write_text("# nothing translated yet\n", encoding="utf-8")
    assert resolve_language("yy") == "yy"
    assert t("health.ok", "yy") == "Service disponible"


@pytest.mark.parametrize(
    ("amount", "fr", "en"),
    [
        (0, "0 F CFA", "0 CFA francs"),
        (1, "1 F CFA", "1 CFA francs"),
        (950, "950 F CFA", "950 CFA francs"),
        (12_500, "12 500 F CFA", "12,500 CFA francs"),
        (999_999, "999 999 F CFA", "999,999 CFA francs"),
        (1_000_000, "1 million F CFA", "1 million CFA francs"),
        (1_049_999, "1 million F CFA", "1 million CFA francs"),
        (1_050_000, "1,1 million F CFA", "1.1 million CFA francs"),
        (1_250_000, "1,3 million F CFA", "1.3 million CFA francs"),
        (1_949_999, "1,9 million F CFA", "1.9 million CFA francs"),
        (1_950_000, "2 millions F CFA", "2 million CFA francs"),
        (12_340_000, "12,3 millions F CFA", "12.3 million CFA francs"),
        (999_949_999, "999,9 millions F CFA", "999.9 million CFA francs"),
        # Rounding up to 1 000,0 millions moves to the next unit.
        (999_950_000, "1 milliard F CFA", "1 billion CFA francs"),
        (1_000_000_000, "1 milliard F CFA", "1 billion CFA francs"),
        (1_500_000_000, "1,5 milliard F CFA", "1.5 billion CFA francs"),
        (2_000_000_000, "2 milliards F CFA", "2 billion CFA francs"),
        (45_200_000_000, "45,2 milliards F CFA", "45.2 billion CFA francs"),
        (45_249_999_999, "45,2 milliards F CFA", "45.2 billion CFA francs"),
        (45_250_000_000, "45,3 milliards F CFA", "45.3 billion CFA francs"),
        (1_234_000_000_000, "1 234 milliards F CFA", "1,234 billion CFA francs"),
        (-950, "-950 F CFA", "-950 CFA francs"),
        (-1_250_000, "-1,3 million F CFA", "-1.3 million CFA francs"),
        (-45_200_000_000, "-45,2 milliards F CFA", "-45.2 billion CFA francs"),
    ],
)
def test_format_amount(amount: int, fr: str, en: str) -> None:
    assert format_amount(amount) == fr
    assert format_amount(amount, "fr") == fr
    assert format_amount(amount, "en") == en
    assert is_gsm7(format_amount(amount, "fr"))


@pytest.mark.parametrize(
    ("amount", "fr", "en"),
    [
        (1_250_000, "1 250 000 F CFA", "1,250,000 CFA francs"),
        (45_200_000_000, "45 200 000 000 F CFA", "45,200,000,000 CFA francs"),
        (-1_000_000, "-1 000 000 F CFA", "-1,000,000 CFA francs"),
        (999, "999 F CFA", "999 CFA francs"),
    ],
)
def test_format_amount_precise(amount: int, fr: str, en: str) -> None:
    assert format_amount(amount, "fr", precise=True) == fr
    assert format_amount(amount, "en", precise=True) == en
    assert "\u00a0" not in fr and "\u202f" not in fr


@pytest.mark.parametrize(
    ("part", "whole", "fr", "en"),
    [
        (62, 100, "62 %", "62%"),
        (0, 100, "0 %", "0%"),
        (1, 3, "33 %", "33%"),
        (2, 3, "67 %", "67%"),
        (1, 8, "13 %", "13%"),
        (5, 1000, "1 %", "1%"),
        (4, 1000, "0 %", "0%"),
        (-1, 1000, "0 %", "0%"),
        (-1, 8, "-13 %", "-13%"),
        (3, 2, "150 %", "150%"),
        (125, 10, "1 250 %", "1,250%"),
        (31_250_000_000, 45_200_000_000, "69 %", "69%"),
        (Decimal("0.625"), 1, "63 %", "63%"),
        (0.5, 2, "25 %", "25%"),
    ],
)
def test_format_percent(part: int | float | Decimal, whole: int, fr: str, en: str) -> None:
    assert format_percent(part, whole, "fr") == fr
    assert format_percent(part, whole, "en") == en


def test_format_percent_of_zero_raises() -> None:
    with pytest.raises(ValueError, match="zero"):
        format_percent(1, 0)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), datetime(2026, 12, 15, 10, 0)),
        (datetime(2026, 12, 15, 9, 0), datetime(2026, 12, 15, 10, 0)),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), datetime(2027, 1, 1, 0, 30)),
        # No daylight saving time: still UTC+1 in July.
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), datetime(2026, 7, 1, 13, 0)),
        (
            datetime(2026, 12, 15, 10, 0, tzinfo=timezone(timedelta(hours=-5))),
            datetime(2026, 12, 15, 16, 0),
        ),
    ],
)
def test_to_local(given: datetime, expected: datetime) -> None:
    local = to_local(given)
    assert local.replace(tzinfo=None) == expected
    assert local.utcoffset() == timedelta(hours=1)
    assert str(local.tzinfo) == "Africa/Porto-Novo"


@pytest.mark.parametrize(
    ("value", "fr", "en"),
    [
        (date(2026, 12, 15), "mardi 15 décembre 2026", "Tuesday 15 December 2026"),
        (date(2026, 8, 1), "samedi 1er août 2026", "Saturday 1 August 2026"),
        (date(2027, 2, 2), "mardi 2 février 2027", "Tuesday 2 February 2027"),
        (
            datetime(2026, 12, 15, 9, 0, tzinfo=UTC),
            "mardi 15 décembre 2026",
            "Tuesday 15 December 2026",
        ),
        # 23:30 UTC on 31 July is already 1 August in Porto-Novo.
        (
            datetime(2026, 7, 31, 23, 30, tzinfo=UTC),
            "samedi 1er août 2026",
            "Saturday 1 August 2026",
        ),
        (datetime(2026, 7, 31, 23, 30), "samedi 1er août 2026", "Saturday 1 August 2026"),
    ],
)
def test_format_date(value: date, fr: str, en: str) -> None:
    assert format_date(value, "fr") == fr
    assert format_date(value, "en") == en


def test_format_date_keeps_french_accents_that_sms_transliterates() -> None:
    text = format_date(date(2026, 8, 1), "fr")
    assert "û" in text
    assert not is_gsm7(text)
    assert to_gsm7(text) == "samedi 1er aout 2026"
    assert is_gsm7(to_gsm7(text))


@pytest.mark.parametrize(
    ("value", "fr", "en"),
    [
        (time(10, 0), "10h00", "10:00"),
        (time(7, 5), "07h05", "07:05"),
        (time(23, 59), "23h59", "23:59"),
        (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), "10h00", "10:00"),
        (datetime(2026, 12, 15, 23, 15), "00h15", "00:15"),
    ],
)
def test_format_time(value: time | datetime, fr: str, en: str) -> None:
    assert format_time(value, "fr") == fr
    assert format_time(value, "en") == en


@pytest.mark.parametrize(
    ("value", "fr", "en"),
    [
        (
            datetime(2026, 12, 15, 9, 0, tzinfo=UTC),
            "mardi 15 décembre 2026 à 10h00",
            "Tuesday 15 December 2026 at 10:00",
        ),
        (
            datetime(2026, 7, 31, 23, 30),
            "samedi 1er août 2026 à 00h30",
            "Saturday 1 August 2026 at 00:30",
        ),
        (
            datetime(2026, 3, 2, 18, 45, tzinfo=timezone(timedelta(hours=2))),
            "lundi 2 mars 2026 à 17h45",
            "Monday 2 March 2026 at 17:45",
        ),
    ],
)
def test_format_datetime(value: datetime, fr: str, en: str) -> None:
    assert format_datetime(value, "fr") == fr
    assert format_datetime(value, "en") == en
    assert format_datetime(value) == fr
    assert is_gsm7(to_gsm7(format_datetime(value, "fr")))


def test_outputs_use_plain_spaces_only() -> None:
    outputs = [
        format_amount(1_250_000, precise=True),
        format_percent(62, 100),
        format_datetime(datetime(2026, 12, 15, 9, 0, tzinfo=UTC)),
    ]
    for text in outputs:
        assert not re.search(r"[^\S ]", text), text


def test_catalog_parts_are_merged_with_the_main_file(catalog_dir: Path) -> None:
    (catalog_dir / "fr").mkdir()
    (catalog_dir / "fr" / "area.yaml").write_text('area.title: "Une page"\n', encoding="utf-8")
    assert t("area.title", "fr") == "Une page"
    assert t("health.ok", "fr") == "Service disponible"


def test_a_key_defined_in_two_catalog_files_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / "fr").mkdir()
    (catalog_dir / "fr" / "area.yaml").write_text('health.ok: "Autre"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="already defined"):
        t("health.ok", "fr")
