"""Phone numbers: E.164 normalization and masking.

Benin moved to 10-digit numbers on 30 Nov 2024: every number is now `01` followed
by the old 8 digits. That rule lives here, in our code, rather than in
phonenumbers' metadata, so it holds whichever metadata version is installed.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

BENIN_COUNTRY_CODE = "229"
MASKED_PLACEHOLDER = "***"

_PREFIXES = ("tel:", "whatsapp:")
_SEPARATORS = re.compile(r"[\s.\-()]")
_DIALABLE = re.compile(r"\+?[0-9]+")
# `01` then a legacy number, which never started with 0 or 1. The check stays
# structural (no operator ranges): allocations change faster than we deploy.
_BENIN_NATIONAL = re.compile(r"01[2-9][0-9]{7}")

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    NumberParseException.NOT_A_NUMBER: "not a number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
    NumberParseException.TOO_SHORT_NSN: "too short",
    NumberParseException.TOO_LONG: "too long",
}
_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
}

_BJ_LOCAL = r"(?:01)?[2-9]\d{7}|(?:01 )?[2-9]\d(?: \d{2}){3}"
_PHONE_IN_TEXT = re.compile(
    # A %XX escape may sit right before a number in URL-encoded forms (%2A is "*").
    r"(?:(?<=%[0-9A-Fa-f]{2})|(?<!\w))"
    r"(?:"
    rf"(?:\+|%2[Bb]|00)?229 ?(?:{_BJ_LOCAL})"
    r"|(?:\+|%2[Bb])\d{8,15}"
    rf"|{_BJ_LOCAL}"
    r")"
    r"(?!\w)"
)


class InvalidPhoneNumber(ValueError):
    """A phone number we cannot use, with a short human-readable reason."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"invalid phone number {raw!r}: {reason}")
        self.raw = raw
        self.reason = reason


def normalize(raw: str, default_region: str = "BJ") -> str:
    """Return `raw` in E.164 (`+2290197123456`) or raise InvalidPhoneNumber."""
    dialable = _dialable(raw)
    if dialable.startswith("+") and dialable[1:].startswith(BENIN_COUNTRY_CODE):
        return _benin(raw, dialable[1 + len(BENIN_COUNTRY_CODE) :])
    if not dialable.startswith("+") and default_region == "BJ":
        # Meta's wa_id and some gateways send Benin numbers as 229... without the plus.
        if dialable.startswith(BENIN_COUNTRY_CODE) and len(dialable) in (11, 13):
            return _benin(raw, dialable[len(BENIN_COUNTRY_CODE) :])
        return _benin(raw, dialable)
    try:
        number = phonenumbers.parse(dialable, default_region)
    except NumberParseException as error:
        raise InvalidPhoneNumber(raw, _PARSE_REASONS[error.error_type]) from error
    national = phonenumbers.national_significant_number(number)
    if str(number.country_code) == BENIN_COUNTRY_CODE:
        return _benin(raw, national)
    possible = phonenumbers.is_possible_number_with_reason(number)
    if possible in _POSSIBLE_REASONS:
        raise InvalidPhoneNumber(raw, _POSSIBLE_REASONS[possible])
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw, "not a valid number")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def mask(e164: str) -> str:
    """Masked form for staff screens and logs; MASKED_PLACEHOLDER for anything unusable."""
    if not isinstance(e164, str):
        return MASKED_PLACEHOLDER
    try:
        number = normalize(e164)
    except InvalidPhoneNumber:
        return MASKED_PLACEHOLDER
    if number.startswith("+" + BENIN_COUNTRY_CODE):
        national = number[1 + len(BENIN_COUNTRY_CODE) :]
        return f"+{BENIN_COUNTRY_CODE} {national[:2]} {national[2:4]} ** ** {national[-2:]}"
    return _mask_international(number)


def mask_in_text(text: str) -> str:
    """Mask every phone-number-looking run in a log line, URL or form body."""
    return _PHONE_IN_TEXT.sub(_mask_match, text)


def _mask_match(match: re.Match[str]) -> str:
    found = match.group()
    if found[:3].upper() == "%2B":
        found = "+" + found[3:]
    return mask(found)


def _dialable(raw: str) -> str:
    text = raw.strip()
    for prefix in _PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
            break
    text = _SEPARATORS.sub("", text)
    if not text:
        raise InvalidPhoneNumber(raw, "empty")
    if not _DIALABLE.fullmatch(text):
        raise InvalidPhoneNumber(raw, "not a number")
    if text.startswith("00"):
        return "+" + text[2:]
    return text


def _benin(raw: str, national: str) -> str:
    if len(national) == 8:
        national = "01" + national
    if _BENIN_NATIONAL.fullmatch(national):
        return f"+{BENIN_COUNTRY_CODE}{national}"
    if len(national) < 8:
        raise InvalidPhoneNumber(raw, "too short")
    if len(national) > 10:
        raise InvalidPhoneNumber(raw, "too long")
    raise InvalidPhoneNumber(raw, "not a valid Benin number")


def _mask_international(e164: str) -> str:
    number = phonenumbers.parse(e164)
    national = phonenumbers.national_significant_number(number)
    # Short numbers would be almost fully revealed by 2 + 2 visible digits.
    visible = min(2, len(national) // 4)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    country, _, grouped = formatted.partition(" ")
    masked: list[str] = []
    index = 0
    for char in grouped:
        if char.isdigit():
            hidden = visible <= index < len(national) - visible
            masked.append("*" if hidden else char)
            index += 1
        else:
            masked.append(char)
    return f"{country} {''.join(masked)}"
