"""What the content screens share: the commune snapshot, sentences, the sample label.

A screen is a function `(Page) -> options` wrapped by `@screen(title_key)`: the
wrapper finds the commune's snapshot (bot/content/cache.py), answers politely
when there is none, and turns the page's lines into a `Reply`. Every line names
the records it was built from, so the reply says "Données d'exemple" exactly
when one of them is sample data, and the first document or session it names is
the screen's subject: the reply carries that item's recording, if it has one in
the citizen's language (bot/content/audio.py), for a voice call to play.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal

from bot.content.cache import CommuneSnapshot, DocumentInfo, EventInfo, snapshot
from bot.flows.base import Context, Option, Reply
from bot.i18n import DEFAULT_LANGUAGE, formatting_language, resolve_language, t, translated

ELLIPSIS = "..."  # GSM-7 as it is
# The kinds of record a screen can be about one of, by their dashboard names
# (bot/content/audio.py RECORDABLE): their recordings are uploaded per item.
SUBJECT_KINDS: dict[type, str] = {DocumentInfo: "documents", EventInfo: "events"}


class Page:
    """The lines of one content reply, and whether any came from sample records."""

    def __init__(self, ctx: Context, snap: CommuneSnapshot) -> None:
        self.ctx = ctx
        self.snap = snap
        self.lang = resolve_language(ctx.lang)
        self.lines: list[str] = []
        self.sample = False
        self.subject: tuple[str, int] | None = None  # (kind, id) of the item the screen is about

    def t(self, key: str, **params: object) -> str:
        return t(key, self.lang, **params)

    def add(self, text: str, *records: Any) -> None:
        """A line of the reply; `records` are what it says, for the sample label."""
        self.lines.append(text)
        self.sample = self.sample or any(record.is_sample for record in records)
        if self.subject is None:
            self.subject = next(
                ((SUBJECT_KINDS[type(r)], r.id) for r in records if type(r) in SUBJECT_KINDS), None
            )

    @property
    def of_commune(self) -> str:
        """ "de Cotonou", "d'Abomey-Calavi" (fr); "for Cotonou" (en)."""
        return of_name(self.snap.name, self.lang)

    def requested_year(self) -> int | None:
        """The year the citizen asked for (`ctx.data["year"]`), if any."""
        value = self.ctx.data.get("year")
        text = str(value).removeprefix("year:").strip() if value is not None else ""
        return int(text) if text.isdigit() else None

    def text(self) -> str:
        return "\n".join(self.lines)

    def recording(self, title_key: str) -> str | None:
        """The path of the subject's recording in the page's language; for a language
        that reads this screen in French (no text of its own), the French recording."""
        if self.subject is None:
            return None
        kind, item_id = self.subject
        found = self.snap.recordings.get((kind, item_id, self.lang))
        if found is None and not translated(title_key, self.lang):
            found = self.snap.recordings.get((kind, item_id, DEFAULT_LANGUAGE))
        return found

    def title(self, key: str) -> str:
        # In the title, not at the end: a long SMS is cut into parts, a USSD
        # answer into pages, and the first one read must say it is sample data.
        title = t(key, self.lang)
        return f"{title} ({t('sample.label', self.lang)})" if self.sample else title


ScreenBuild = Callable[[Page], Sequence[Option] | None]


def screen(title_key: str) -> Callable[[ScreenBuild], Callable[[Context], Reply]]:
    """Make a `(Context) -> Reply` content screen of a page builder."""

    def wrap(build: ScreenBuild) -> Callable[[Context], Reply]:
        @functools.wraps(build)
        def run(ctx: Context) -> Reply:
            snap = snapshot(ctx.session, ctx.commune_slug) if ctx.commune_slug else None
            if snap is None:
                return Reply(text=t("info.choose_commune", ctx.lang))
            # A screen depends only on the snapshot, the language and the year asked.
            key = (run, ctx.lang, str(ctx.data.get("year")))
            reply = snap.replies.get(key)
            if reply is None:
                page = Page(ctx, snap)
                options = tuple(build(page) or ())
                reply = Reply(
                    title=page.title(title_key),
                    text=page.text(),
                    options=options,
                    content=True,
                    audio=page.recording(title_key),
                )
                snap.replies[key] = reply
            return reply

        return run

    return wrap


def of_name(name: str, lang: str) -> str:
    first = unicodedata.normalize("NFKD", name[:1]).lower()[:1]
    key = "info.of_elided" if first in set("aeiouy") else "info.of"
    return t(key, lang, name=name)


def join(lang: str, items: Iterable[str]) -> str:
    return t("info.separator", lang).join(items)


def sentence(text: str) -> str:
    """Content text as a clause: trimmed, without its final full stop."""
    return text.strip().rstrip(".").rstrip()


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def lowered(text: str) -> str:
    """Lower the first letter unless the first word looks like an acronym ("FADeC")."""
    word = text.split(" ", 1)[0]
    if len(word) > 1 and word[1:].islower():
        return text[:1].lower() + text[1:]
    return text


def shortened(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    room = limit - len(ELLIPSIS)
    # One character more: a space right after the last word that fits keeps that word.
    head = text[: room + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else head[:room]
    return cut[:room].rstrip(" ,;:.") + ELLIPSIS


def number(value: int, lang: str) -> str:
    """An integer with the language's grouping, in plain spaces: "656 358", "656,358"."""
    try:
        locale = Locale.parse(formatting_language(lang))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse(DEFAULT_LANGUAGE)
    return " ".join(format_decimal(value, format="#,##0", locale=locale).split())
