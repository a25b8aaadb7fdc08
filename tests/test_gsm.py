from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.gsm import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentInfo,
    estimate_cost_xof,
    is_gsm7,
    non_gsm7_chars,
    segment_info,
    to_gsm7,
)

KEPT = "éèùìòàÉÇÄÖÜäöüñÑæÆøØåÅß"


def test_alphabet_tables() -> None:
    # 128 positions minus the escape; no character is in both tables.
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert not GSM7_BASIC & GSM7_EXTENSION
    assert set("\f^{}\\[~]|€") == GSM7_EXTENSION
    assert set(KEPT) <= GSM7_BASIC
    assert not set("êâôîûëïçœŒ«»’ÈÀÙÊ`\t") & (GSM7_BASIC | GSM7_EXTENSION)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fête", "fete"),
        ("château", "chateau"),
        ("hôpital", "hopital"),
        ("île", "ile"),
        ("sûr", "sur"),
        ("Noël", "Noel"),
        ("maïs", "mais"),
        ("façade", "facade"),
        ("FAÇADE", "FAÇADE"),
        ("cœur", "coeur"),
        ("ŒUVRE", "OEUVRE"),
        ("l’été", "l'été"),
        ("‘ok’", "'ok'"),
        ("“oui”", '"oui"'),
        ("« Bienvenue »", '"Bienvenue"'),
        ("«\u00a0Bienvenue\u00a0»", '"Bienvenue"'),
        ("Abomey–Calavi — 2026", "Abomey-Calavi - 2026"),
        ("Abomey‑Calavi", "Abomey-Calavi"),
        ("attendez…", "attendez..."),
        ("10\u00a0000", "10 000"),
        ("Prix\u202f:", "Prix :"),
        ("ÊTRE ÂGE ÔTER ÎLE ÛR ËL ÏL", "ETRE AGE OTER ILE UR EL IL"),
        ("À LA MAIRIE, ÈRE, OÙ", "A LA MAIRIE, ERE, OU"),
        ("Ÿ ÿ", "Y y"),
        ("N° 12", "No 12"),
        ("• budget", "- budget"),
        ("a\tb", "a b"),
        ("ﬁnances", "finances"),
        ("m²", "m2"),
        ("Yorùbá ẹ ọ ṣ", "Yorùba e o s"),
        ("ɖɔ ɛ Ɛ Ɔ Ɖ", "do e E O D"),
        ("ɛ\u0301", "e"),
        # Decomposed input (NFD) keeps GSM-7 letters whole.
        ("e\u0301te\u0301", "été"),
        ("soft\u00adhyphen\u200b!", "softhyphen!"),
        ("€5 [x] {y} ^ ~ | \\", "€5 [x] {y} ^ ~ | \\"),
        ("½", "?"),
        ("中文", "??"),
        ("مرحبا", "?????"),
        ("Δ Ω Σ", "Δ Ω Σ"),
        ("α", "?"),
    ],
)
def test_to_gsm7(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Séance 🏛️ demain", "Séance demain"),
        ("🏛️ Séance", "Séance"),
        ("Merci 🙏", "Merci"),
        ("Merci🙏!", "Merci!"),
        ("Oui ✅ Non ❌", "Oui Non"),
        ("Famille 👨‍👩‍👧 ici", "Famille ici"),
        ("Bénin 🇧🇯", "Bénin"),
        ("Bravo 👍🏽👍🏽 !", "Bravo !"),
        ("Réveil ⏰ 8h", "Réveil 8h"),
        ("Étoile ⭐", "Étoile"),
        ("🎉", ""),
    ],
)
def test_to_gsm7_drops_emoji(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        KEPT,
        "Budget 2026 de Cotonou: 45,2 milliards F CFA. Répondez 1.",
        "@£$¥\n\r_!\"#¤%&'()*+,-./:;<=>?¡§¿",
        "€ [] {} ^ ~ | \\ \f",
        "double  space",
    ],
)
def test_to_gsm7_keeps_gsm7_text_unchanged(text: str) -> None:
    assert is_gsm7(text)
    assert to_gsm7(text) == text


@given(st.text())
def test_to_gsm7_always_gives_gsm7_and_is_idempotent(text: str) -> None:
    converted = to_gsm7(text)
    assert is_gsm7(converted)
    assert to_gsm7(converted) == converted


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("Séance à Cotonou", []),
        ("fête", ["ê"]),
        ("Fête à l’école, être prêt", ["ê", "’"]),
        ("« ça »", ["«", "ç", "»"]),
        ("e\u0301", ["\u0301"]),
        ("ok 👍", ["👍"]),
        ("\t€", ["\t"]),
    ],
)
def test_non_gsm7_chars(text: str, expected: list[str]) -> None:
    assert non_gsm7_chars(text) == expected
    assert is_gsm7(text) is (not expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0)),
        ("a", SegmentInfo("GSM-7", 1, 1)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3)),
        ("a" * 459, SegmentInfo("GSM-7", 459, 3)),
        ("a" * 460, SegmentInfo("GSM-7", 460, 4)),
        ("€", SegmentInfo("GSM-7", 2, 1)),
        ("a" * 158 + "€", SegmentInfo("GSM-7", 160, 1)),
        ("a" * 159 + "€", SegmentInfo("GSM-7", 161, 2)),
        ("{}" * 80, SegmentInfo("GSM-7", 320, 3)),
        # 306 septets fit two segments, but the escape pair cannot straddle them.
        ("a" * 152 + "€" + "a" * 152, SegmentInfo("GSM-7", 306, 3)),
        ("a" * 151 + "€" + "a" * 153, SegmentInfo("GSM-7", 306, 2)),
        ("é" * 160, SegmentInfo("GSM-7", 160, 1)),
        ("ê", SegmentInfo("UCS-2", 1, 1)),
        ("ê" * 70, SegmentInfo("UCS-2", 70, 1)),
        ("ê" * 71, SegmentInfo("UCS-2", 71, 2)),
        ("ê" * 134, SegmentInfo("UCS-2", 134, 2)),
        ("ê" * 135, SegmentInfo("UCS-2", 135, 3)),
        ("a" * 159 + "ê", SegmentInfo("UCS-2", 160, 3)),
        # The extension table costs nothing extra in UCS-2.
        ("€" * 69 + "ê", SegmentInfo("UCS-2", 70, 1)),
        ("😀", SegmentInfo("UCS-2", 2, 1)),
        ("😀" * 35, SegmentInfo("UCS-2", 70, 1)),
        ("😀" * 36, SegmentInfo("UCS-2", 72, 2)),
        # 134 units fit two segments, but the surrogate pair cannot straddle them.
        ("ê" * 66 + "😀" + "ê" * 66, SegmentInfo("UCS-2", 134, 3)),
        ("ê" * 65 + "😀" + "ê" * 67, SegmentInfo("UCS-2", 134, 2)),
    ],
)
def test_segment_info(text: str, expected: SegmentInfo) -> None:
    assert segment_info(text) == expected


def test_transliteration_saves_segments() -> None:
    text = "Fête de la commune: être présent à la séance publique, c’est voter." * 2
    assert segment_info(text).encoding == "UCS-2"
    assert segment_info(text).segments == 2
    assert segment_info(to_gsm7(text)) == SegmentInfo("GSM-7", len(to_gsm7(text)), 1)


def test_segment_info_is_frozen() -> None:
    info = segment_info("a")
    with pytest.raises(AttributeError):
        info.segments = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "price", "expected"),
    [
        ("", 25, 0),
        ("Bonjour", 25, 25),
        ("a" * 161, 25, 50),
        ("ê" * 71, 25, 50),
        ("a" * 152 + "€" + "a" * 152, 10, 30),
        ("Bonjour", 0, 0),
    ],
)
def test_estimate_cost_xof(text: str, price: int, expected: int) -> None:
    assert estimate_cost_xof(text, price) == expected


def test_estimate_cost_rejects_negative_price() -> None:
    with pytest.raises(ValueError, match="negative"):
        estimate_cost_xof("Bonjour", -1)
