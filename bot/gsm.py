"""GSM-7 (3GPP TS 23.038): transliteration, segment counting, cost estimate.

An SMS that holds a single character outside GSM-7 is sent as UCS-2, which cuts
a segment from 160 to 70 characters and more than doubles the price of a long
reply. French text is therefore transliterated before it goes out by SMS.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# The default alphabet in table order, without 0x1B (the escape to the extension table).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Each of these costs two septets: the escape, then the character.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_SEGMENT_SEPTETS = 160
SPLIT_SEGMENT_SEPTETS = 153
SINGLE_SEGMENT_UCS2_UNITS = 70
SPLIT_SEGMENT_UCS2_UNITS = 67

# Only characters that NFKD cannot bring down to GSM-7; accented letters such as
# ê, ç or È decompose to their base letter on their own.
_TRANSLITERATIONS = {
    "œ": "oe",
    "Œ": "OE",
    "’": "'",
    "‘": "'",
    "‚": "'",
    "ʼ": "'",
    "´": "'",
    "`": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‐": "-",
    "‑": "-",
    "‒": "-",
    "–": "-",
    "—": "-",
    "−": "-",
    "•": "-",
    "→": "->",
    "°": "o",
    "\t": " ",
    # Letters of Fon and other national languages that have no decomposition.
    "ɛ": "e",
    "Ɛ": "E",
    "ɔ": "o",
    "Ɔ": "O",
    "ɖ": "d",
    "Ɖ": "D",
}

# Emoji are dropped rather than replaced with "?": in a civic message a stray "?"
# reads as a question or a broken phone, while the emoji only decorated the text.
# One adjacent space goes with them so "Séance 🏛️ demain" keeps a single space.
_EMOJI = (
    "[\U0001f000-\U0001faff\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff"
    "\ufe0e\ufe0f\u200d\u20e3\U000e0020-\U000e007f]+"
)
_EMOJI_RUN = re.compile(f"{_EMOJI} ?| ?{_EMOJI}")

# French puts a space inside guillemets; straight quotes hug the words instead.
_GUILLEMETS = re.compile(r"«\s*|\s*»")

UNKNOWN = "?"

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels: its encoding, its size in that encoding, its segment count."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    """True when every character of `text` can be sent as GSM-7."""
    return all(_in_gsm7(char) for char in text)


def non_gsm7_chars(text: str) -> list[str]:
    """The distinct characters that force UCS-2, in order of first appearance."""
    return list(dict.fromkeys(char for char in text if not _in_gsm7(char)))


def to_gsm7(text: str) -> str:
    """Transliterate `text` to GSM-7, keeping every character GSM-7 already has."""
    # NFC first: a decomposed "é" (e + combining accent) must stay "é", not become "e?".
    text = _EMOJI_RUN.sub("", unicodedata.normalize("NFC", text))
    text = _GUILLEMETS.sub('"', text)
    return "".join(_transliterate(char) for char in text)


def segment_info(text: str) -> SegmentInfo:
    """Encoding, size and segment count of `text` as it would be sent, untransliterated.

    Empty text is 0 segments: nothing is sent, so nothing is paid.
    """
    if is_gsm7(text):
        widths = [2 if char in GSM7_EXTENSION else 1 for char in text]
        return SegmentInfo(
            "GSM-7",
            sum(widths),
            _count_segments(widths, SINGLE_SEGMENT_SEPTETS, SPLIT_SEGMENT_SEPTETS),
        )
    # A character beyond the BMP is a UTF-16 surrogate pair: two units.
    widths = [2 if ord(char) > 0xFFFF else 1 for char in text]
    return SegmentInfo(
        "UCS-2",
        sum(widths),
        _count_segments(widths, SINGLE_SEGMENT_UCS2_UNITS, SPLIT_SEGMENT_UCS2_UNITS),
    )


def estimate_cost_xof(text: str, price_per_segment_xof: int) -> int:
    """Price of sending `text` once, in XOF."""
    if price_per_segment_xof < 0:
        raise ValueError("price_per_segment_xof must not be negative")
    return segment_info(text).segments * price_per_segment_xof


def _in_gsm7(char: str) -> bool:
    return char in GSM7_BASIC or char in GSM7_EXTENSION


def _count_segments(widths: list[int], single: int, split: int) -> int:
    total = sum(widths)
    if total <= single:
        return 1 if widths else 0
    # Phones cannot join an escape sequence or a surrogate pair cut between two
    # segments, so a character that does not fit whole starts the next one.
    segments, used = 1, 0
    for width in widths:
        if used + width > split:
            segments, used = segments + 1, 0
        used += width
    return segments


def _transliterate(char: str) -> str:
    if _in_gsm7(char):
        return char
    if char in _TRANSLITERATIONS:
        return _TRANSLITERATIONS[char]
    category = unicodedata.category(char)
    # Format characters (soft hyphen, zero-width space, BOM) and stray combining
    # marks carry no visible text of their own.
    if category == "Cf" or category.startswith("M"):
        return ""
    decomposed = "".join(
        part
        for part in unicodedata.normalize("NFKD", char)
        if not unicodedata.category(part).startswith("M")
    )
    if decomposed and is_gsm7(decomposed):
        return decomposed
    return UNKNOWN
