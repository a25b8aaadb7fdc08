"""Dashboard texts, dates and times in the request's language (French unless the staff
chose otherwise)."""

from __future__ import annotations

from datetime import date, datetime

from flask import g

from bot.i18n import DEFAULT_LANGUAGE, format_date, format_datetime, t

UNSET = "–"


def translate(key: str, **params: object) -> str:
    """The text of `key` in the language chosen for this request (`g.lang`)."""
    return t(key, g.get("lang", DEFAULT_LANGUAGE), **params)


def local_datetime(moment: datetime | None) -> str:
    """A stored UTC time in Porto-Novo time and the request's language; a dash when unset."""
    return format_datetime(moment, g.get("lang", DEFAULT_LANGUAGE)) if moment else UNSET


def local_date(day: date | datetime | None) -> str:
    return format_date(day, g.get("lang", DEFAULT_LANGUAGE)) if day else UNSET
