"""Dashboard texts in the request's language (French unless the staff chose otherwise)."""

from __future__ import annotations

from flask import g

from bot.i18n import DEFAULT_LANGUAGE, t


def translate(key: str, **params: object) -> str:
    """The text of `key` in the language chosen for this request (`g.lang`)."""
    return t(key, g.get("lang", DEFAULT_LANGUAGE), **params)
