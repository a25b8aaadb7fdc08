"""Reading provider form fields: every problem becomes a BadRequest naming the field."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.channels.base import BadRequest

DEFAULT_MAX_LENGTH = 256


def required(
    form: Mapping[str, str],
    name: str,
    *,
    allow_empty: bool = False,
    max_length: int = DEFAULT_MAX_LENGTH,
) -> str:
    value = form.get(name)
    if value is None:
        raise BadRequest(name, "missing")
    if not allow_empty and not value.strip():
        raise BadRequest(name, "empty")
    if len(value) > max_length:
        raise BadRequest(name, f"longer than {max_length} characters")
    if "\x00" in value:
        raise BadRequest(name, "contains a NUL character")
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def typed_text(form: Mapping[str, str], name: str, *, max_length: int) -> str:
    """What a citizen typed on a live session: control characters dropped, not refused,
    since a 400 would show the citizen an error screen instead of an answer."""
    value = form.get(name)
    if value is None:
        raise BadRequest(name, "missing")
    if len(value) > max_length:
        raise BadRequest(name, f"longer than {max_length} characters")
    return _CONTROL.sub("", value)


def optional(
    form: Mapping[str, str], name: str, *, max_length: int = DEFAULT_MAX_LENGTH
) -> str | None:
    if not (form.get(name) or "").strip():
        return None
    return required(form, name, max_length=max_length)
