"""Channel rendering: numbering, paging, length limits and syntax of each channel.

Flows give a `Reply` (title, text, options); this module alone decides what a
citizen's phone shows. Options are numbered from 1 on every channel, and the
same number means the same option on every page.
"""

from __future__ import annotations

import functools
import re
import textwrap
from dataclasses import dataclass

from flask import current_app, has_app_context, has_request_context, request

from bot.channels.base import Media
from bot.flows.base import Option, Reply
from bot.gsm import segment_info, to_gsm7
from bot.i18n import t

USSD_SCREEN_CHARS = 160
"""What a basic phone shows on one USSD screen (AT allows a little more)."""

SMS_MAX_SEGMENTS = 2
"""Per reply, unless the citizen asks for more with SUITE."""

WHATSAPP_MAX_CHARS = 4096

NEXT_PAGE, BACK, HOME = "98", "0", "00"

USSD_SCREENS_CACHED = 4096
"""Rendered USSD pages kept per process: every menu and content page of the three
communes in both languages, with room to spare (a few MiB at most)."""


@dataclass(frozen=True)
class UssdScreen:
    text: str  # with its CON / END prefix
    pages: int


USSD_MIN_SPLIT = 20
"""A text paragraph is split across two pages only to fill at least this many
characters of the first: a shorter stub would read as a cut-off line."""

_CLAUSE_END = re.compile(r"[,;:.](?= |$)")


def _ussd_lines(
    reply: Reply, options: tuple[Option, ...], first_number: int, width: int
) -> list[tuple[str, bool]]:
    """(line, may split across pages): at most `width` characters, long lines wrap,
    none is cut; an option stays whole on one page."""
    text = [p for block in (reply.title, reply.text) for p in (block or "").splitlines()]
    numbered = [f"{n} {o.label}" for n, o in enumerate(options, start=first_number)]
    return [
        (line, splits)
        for paragraphs, splits in ((text, True), (numbered, False))
        for p in paragraphs
        for line in textwrap.wrap(to_gsm7(p), width)
    ]


def _clause_cut(line: str, left: int) -> int:
    """Where to end `line` on a page with `left` characters free: after the last
    clause (",", ";", ":", ".") that fits, never inside "51,9 milliards"; 0: nowhere."""
    ends = [m.end() for m in _CLAUSE_END.finditer(line) if USSD_MIN_SPLIT <= m.end() <= left]
    return ends[-1] if ends else 0


def _paged(lines: list[tuple[str, bool]], room: int) -> list[list[str]]:
    """The lines in pages of at most `room` characters, each page filled as far as it goes."""
    pages: list[list[str]] = []
    current: list[str] = []
    for line, splits in lines:
        while True:
            left = room - len("\n".join(current)) - (1 if current else 0)
            if len(line) <= left:
                current.append(line)
                break
            cut = _clause_cut(line, left) if splits else 0
            if cut:
                current.append(line[:cut])
                line = line[cut:].lstrip()
            pages.append(current)
            current = []
    pages.append(current)
    return pages


@functools.lru_cache(maxsize=USSD_SCREENS_CACHED)
def ussd(
    reply: Reply,
    options: tuple[Option, ...],
    page: int,
    lang: str,
    root: bool,
    pinned: int = 0,
) -> UssdScreen:
    """Page `page` of the reply, each page at most USSD_SCREEN_CHARS characters.

    The first `pinned` options (such as "Recevoir par SMS") are on every page,
    so a citizen need not page to the end of a long answer to use them.
    Pure, and the same few screens are asked for all day: their pages are cached.
    """
    footer = [to_gsm7(f"{n} {o.label}") for n, o in enumerate(options[:pinned], start=1)]
    # Back and home everywhere but the first page of the main menu.
    at_start = root and page == 0
    nav_line = to_gsm7(f"{BACK} {t('nav.back', lang)} {HOME} {t('nav.home', lang)}")
    nav = [] if at_start or reply.end else [nav_line]
    more = to_gsm7(f"{NEXT_PAGE} {t('nav.more', lang)}")
    room = USSD_SCREEN_CHARS - len("\n".join([*footer, more, *nav])) - 1
    pages = _paged(_ussd_lines(reply, options[pinned:], pinned + 1, room), room)
    page = max(0, min(page, len(pages) - 1))
    last = page == len(pages) - 1
    body = pages[page] + footer + ([] if last else [more]) + nav
    prefix = "END " if reply.end and last else "CON "
    return UssdScreen(prefix + "\n".join(body), len(pages))


def _fits_sms(text: str) -> bool:
    return segment_info(text).segments <= SMS_MAX_SEGMENTS


def sms(reply: Reply, lang: str) -> tuple[str, str | None]:
    """The SMS text (GSM-7, at most 2 segments) and what is left for SUITE."""
    parts = [reply.title or "", reply.text]
    parts += [f"{n} {option.label}" for n, option in enumerate(reply.options, start=1)]
    if reply.options:
        parts.append(t("sms.reply_with_number", lang))
    whole = to_gsm7("\n".join(part for part in parts if part))
    return split_sms(whole, lang)


def split_sms(whole: str, lang: str) -> tuple[str, str | None]:
    if _fits_sms(whole):
        return whole, None
    suffix = "\n" + to_gsm7(t("sms.more", lang))
    low, high = 1, len(whole)
    while low < high:  # the longest head that fits with the SUITE hint
        middle = (low + high + 1) // 2
        if _fits_sms(whole[:middle] + suffix):
            low = middle
        else:
            high = middle - 1
    # Cut between lines (options stay whole), else between words, else anywhere.
    cut = next(
        (c for c in (whole.rfind("\n", 0, low), whole.rfind(" ", 0, low)) if c > low // 2), low
    )
    return whole[:cut].rstrip() + suffix, whole[cut:].lstrip()


def whatsapp(reply: Reply, lang: str) -> str:
    # A document no provider could fetch as a file still reaches the citizen as a link.
    links = [
        t("whatsapp_media.document.link", lang, caption=a.caption, url=a.url)
        for a in reply.attachments
        if a.content_type is None
    ]
    parts = [f"*{reply.title}*" if reply.title else "", reply.text, *links]
    if reply.options:
        parts.append("\n".join(f"{n}. {o.label}" for n, o in enumerate(reply.options, start=1)))
        parts.append(f"_{t('whatsapp.reply_with_number', lang)}_")
    text = "\n\n".join(part for part in parts if part)
    return text if len(text) <= WHATSAPP_MAX_CHARS else text[: WHATSAPP_MAX_CHARS - 1] + "…"


def whatsapp_files(reply: Reply, base_url: str | None) -> list[Media]:
    """The files a WhatsApp reply carries after its text, one message each, captioned.

    Stored in `outbound_messages.media`, never in the text: no text a flow or
    staff writes can turn into a file by the way it looks.
    """
    return [
        Media(absolute_url(a.url, base_url), a.content_type, a.caption)
        for a in reply.attachments
        if a.content_type is not None
    ]


def absolute_url(url: str, base_url: str | None) -> str:
    """An app path (/media/...) on `base_url`; anything else as it is."""
    if base_url and url.startswith("/"):
        return base_url.rstrip("/") + url
    return url


def public_base_url() -> str | None:
    """Where providers reach this app: PUBLIC_BASE_URL, else the host of the request served.

    None in a worker without PUBLIC_BASE_URL: no request says where the app is.
    """
    configured = current_app.config.get("PUBLIC_BASE_URL") if has_app_context() else None
    if configured:
        return configured.rstrip("/")
    return request.host_url.rstrip("/") if has_request_context() else None
