"""What a dashboard form or an API call hands to the functions that write.

Write functions take plain values (never the Flask request), check them, and
raise FormInvalid with a message per field; the HTML page shows them beside
the fields, the JSON API returns them with 422. Messages are already in the
staff's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from bot.i18n import LOCAL_TIMEZONE


class FormInvalid(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{name}: {why}" for name, why in errors.items()))
        self.errors = errors


_TRUE = frozenset({"1", "on", "true", "yes", "oui"})


def text(values: Mapping[str, object], name: str) -> str:
    """A field as stripped text; a number as its digits; anything else (absent, a list) empty."""
    value = values.get(name)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def flag(values: Mapping[str, object], name: str) -> bool:
    """A checkbox ("on"), or "1", "true", "yes", "oui", or JSON's true."""
    value = values.get(name)
    return value is True or (isinstance(value, str) and value.strip().lower() in _TRUE)


def local_moment(typed: str) -> datetime | None:
    """A `datetime-local` value ("2030-03-12T10:00", Porto-Novo time) as UTC; None if not one."""
    try:
        moment = datetime.fromisoformat(typed)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=LOCAL_TIMEZONE)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
