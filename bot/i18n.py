"""Message catalogs and the formatting of amounts, percentages, dates and times.

Texts and date patterns come from `bot/content/catalogs/<lang>.yaml`; French is
the reference and the fallback, so a new language needs only its catalog file:
the languages citizens may choose are the catalog files present
(`available_languages`), each named by its own `language.name`. Weekday and
month names come from babel. Outputs use plain spaces, never the non-breaking
spaces of CLDR, so that they stay GSM-7 where the words allow it.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.numbers import format_decimal

CATALOG_DIR = Path(__file__).parent / "content" / "catalogs"
SUPPORTED_LANGUAGES = ("fr", "en")
"""The languages whose catalogs hold every text: the staff pages, the simulator page and
broadcast texts speak these. Citizens may choose any of `available_languages()`."""
DEFAULT_LANGUAGE = "fr"
NAME_KEY = "language.name"
"""The key under which a catalog gives its language's own name ("Fongbe")."""
# What a catalog must write for its language to format numbers and dates its own way.
_FORMAT_KEY = "format.date"
LOCAL_TIMEZONE = ZoneInfo("Africa/Porto-Novo")

MILLION_XOF = 1_000_000
BILLION_XOF = 1_000_000_000

# Also keeps path separators out of the catalog file name.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")
_NUMBER_PATTERN = "#,##0.#"


def resolve_language(lang: str | None) -> str:
    """The catalog language for `lang` ("en", "EN-gb", "fr_BJ"), else DEFAULT_LANGUAGE."""
    code = re.split(r"[-_]", (lang or "").strip().lower(), maxsplit=1)[0]
    if _LANGUAGE_CODE.fullmatch(code) and _catalog(CATALOG_DIR, code) is not None:
        return code
    return DEFAULT_LANGUAGE


def available_languages() -> tuple[str, ...]:
    """The languages a citizen may choose: French, then every catalog that names its
    language (`language.name`), by that name. A catalog file is all a language needs."""
    return _available(CATALOG_DIR)


@functools.cache
def _available(directory: Path) -> tuple[str, ...]:
    named: dict[str, str] = {}
    for path in directory.glob("*.yaml"):
        catalog = _catalog(directory, path.stem) if _LANGUAGE_CODE.fullmatch(path.stem) else None
        if catalog and NAME_KEY in catalog:
            named[path.stem] = catalog[NAME_KEY].casefold()
    others = sorted((code for code in named if code != DEFAULT_LANGUAGE), key=named.__getitem__)
    return (DEFAULT_LANGUAGE, *others)


def language_name(code: str) -> str:
    """The language's own name, from its own catalog only ("English", "Fongbe"): a
    name never falls back to French. KeyError for a language that does not name itself."""
    catalog = _catalog(CATALOG_DIR, code) if _LANGUAGE_CODE.fullmatch(code) else None
    if not catalog or NAME_KEY not in catalog:
        raise KeyError(code)
    return catalog[NAME_KEY]


def translated(key: str, lang: str | None) -> bool:
    """Whether `lang`'s own catalog holds `key` (False: its text is the French one)."""
    return key in _messages(resolve_language(lang))


def formatting_language(lang: str | None) -> str:
    """The language whose conventions write numbers, amounts and dates for `lang`.

    A language whose catalog writes no date pattern reads French sentences (the
    fallback), so its figures follow French too: "45,2 milliards", never a mix of
    French words and another locale's separators or month names.
    """
    code = resolve_language(lang)
    return code if translated(_FORMAT_KEY, code) else DEFAULT_LANGUAGE


def t(key: str, lang: str | None = DEFAULT_LANGUAGE, **params: object) -> str:
    """The text of `key` in `lang`, else in French; KeyError when French lacks it too."""
    code = resolve_language(lang)
    text = _messages(code).get(key)
    if text is None:
        text = _messages(DEFAULT_LANGUAGE).get(key)
    if text is None:
        raise KeyError(key)
    return text.format(**params)


def format_amount(
    amount_xof: int, lang: str | None = DEFAULT_LANGUAGE, precise: bool = False
) -> str:
    """An amount for a citizen: "45,2 milliards F CFA", "1 250 000 F CFA".

    From one million up, amounts are written in millions or billions with one
    decimal, rounded half up, unless `precise`; below that, all digits are shown.
    """
    code = formatting_language(lang)
    sign = "-" if amount_xof < 0 else ""
    magnitude = abs(amount_xof)
    unit = t("amount.unit", code)
    scaled = None if precise else _scaled(magnitude)
    if scaled is None:
        return f"{sign}{_format_number(Decimal(magnitude), code)} {unit}"
    tenths, scale = scaled
    value = Decimal(tenths) / 10
    # French and English words agree on singular below 2 ("1,5 milliard").
    form = "one" if value < 2 else "other"
    return f"{sign}{_format_number(value, code)} {t(f'amount.{scale}.{form}', code)} {unit}"


def format_percent(
    part: int | float | Decimal, whole: int | float | Decimal, lang: str | None = DEFAULT_LANGUAGE
) -> str:
    """`part` as a whole percentage of `whole`, rounded half up: "62 %" (fr), "62%" (en)."""
    if whole == 0:
        raise ValueError("cannot express a percentage of zero")
    code = formatting_language(lang)
    ratio = Decimal(part) * 100 / Decimal(whole)
    # A small negative share rounds to -0, which would read as a sign error.
    value = ratio.quantize(Decimal(1), rounding=ROUND_HALF_UP) or Decimal(0)
    return t("percent", code, value=_format_number(value, code))


def to_local(dt: datetime) -> datetime:
    """`dt` in Porto-Novo time; a naive `dt` is taken as UTC, as stored."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(LOCAL_TIMEZONE)


def format_date(value: date | datetime, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """The date as "mardi 15 décembre 2026"; a datetime is first brought to Porto-Novo time.

    The words keep their accents (août has a û): transliteration is the SMS renderer's job.
    """
    if isinstance(value, datetime):
        value = to_local(value).date()
    code = formatting_language(lang)
    key = "format.date_first_of_month" if value.day == 1 else "format.date"
    return babel_format_date(value, t(key, code), locale=_babel_locale(code))


def format_time(value: time | datetime, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """The time as "10h00" (fr) or "10:00" (en); a datetime is brought to Porto-Novo time."""
    if isinstance(value, datetime):
        value = to_local(value).time()
    code = formatting_language(lang)
    return babel_format_time(value, t("format.time", code), locale=_babel_locale(code))


def format_datetime(dt: datetime, lang: str | None = DEFAULT_LANGUAGE) -> str:
    """Date and time as "mardi 15 décembre 2026 à 10h00", in Porto-Novo time."""
    local = to_local(dt)
    code = formatting_language(lang)
    return t("datetime.full", code, date=format_date(local, code), time=format_time(local, code))


def _scaled(magnitude: int) -> tuple[int, str] | None:
    """Tenths of millions or billions, rounded half up in integers (floats misround)."""
    if magnitude < MILLION_XOF:
        return None
    tenths_of_millions = (magnitude + MILLION_XOF // 20) // (MILLION_XOF // 10)
    # 999 950 000 rounds to 1 000,0 millions: that is 1 milliard.
    if tenths_of_millions < 10_000:
        return tenths_of_millions, "million"
    return (magnitude + BILLION_XOF // 20) // (BILLION_XOF // 10), "billion"


def _format_number(value: Decimal, code: str) -> str:
    formatted = format_decimal(value, format=_NUMBER_PATTERN, locale=_babel_locale(code))
    return re.sub(r"\s", " ", formatted)


def _messages(code: str) -> dict[str, str]:
    return _catalog(CATALOG_DIR, code) or {}


@functools.cache
def _catalog(directory: Path, code: str) -> dict[str, str] | None:
    return load_catalog(directory, code)


def load_catalog(directory: Path, code: str) -> dict[str, str] | None:
    """`<code>.yaml` merged with the parts in `<code>/*.yaml`; None when there is no main file.

    Parts keep one area's texts (the dashboard's pages) apart from the citizen
    messages; a key defined in two files is an error, not a silent override.
    """
    path = directory / f"{code}.yaml"
    if not path.is_file():
        return None
    merged: dict[str, str] = {}
    for source in [path, *sorted((directory / code).glob("*.yaml"))]:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or not all(
            isinstance(key, str) and isinstance(text, str) for key, text in data.items()
        ):
            raise ValueError(f"{source}: a catalog is a flat mapping of text keys to text")
        twice = merged.keys() & data.keys()
        if twice:
            raise ValueError(f"{source}: keys already defined in another file: {sorted(twice)}")
        merged.update(data)
    return merged


@functools.cache
def _babel_locale(code: str) -> Locale:
    # Languages babel does not know (Fon) borrow French names, as Benin writes them.
    try:
        return Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)
