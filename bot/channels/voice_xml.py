"""Voice rendering: a Reply read aloud in Africa's Talking's XML, one key for an answer.

The same menus as USSD, spoken. Content is read whole (a call has no screen
limit), then the choices of the page, each with its key: `1`-`7` pick a
choice, `8` the next choices, `0` goes back, `9` home, `*` repeats. One key
is an answer, so nobody has to press # after it. A caller who presses nothing
hears the choices once more, then a goodbye, and AT hangs up. Text is read
with <Say>; a recording of the content in the caller's language
(`Reply.audio`) is played with <Play>. ElementTree escapes every text and
attribute: nothing is formatted into XML by hand.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from xml.etree.ElementTree import Element, SubElement, tostring

from bot.flows.base import Option, Reply
from bot.i18n import t
from bot.participation.feedback import REF_ALPHABET, REF_LENGTH, REF_PREFIX

OPTIONS_PER_PAGE = 7
MORE, HOME, BACK, REPEAT = "8", "9", "0", "*"
DIGITS_TIMEOUT_SECONDS = 15
"""How long AT waits for a key once the prompt is read, before asking once more."""
RECORD_MAX_SECONDS = 120
RECORD_FINISH_KEY = "#"
SAY_VOICE = "woman"  # one of the two voices AT documents for <Say>
RECORDING_CONTENT_TYPE = "audio/mpeg"  # AT records calls as mp3 files

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'
_URL = re.compile(r"https?://\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE_END = (".", "!", "?", ":", ";")
_REF = re.compile(rf"\b{re.escape(REF_PREFIX)}([{REF_ALPHABET}]{{{REF_LENGTH}}})\b")


@dataclass(frozen=True)
class Urls:
    # Where AT posts the keys pressed or the recording: our webhook, token included.
    callback: str
    # The public origin of the app, for the absolute URL of a recording to play.
    base: str

    def absolute(self, path: str) -> str:
        if path.startswith(("https://", "http://")):
            return path
        return f"{self.base.rstrip('/')}/{path.lstrip('/')}"


def pages(options: tuple[Option, ...]) -> int:
    return max(1, math.ceil(len(options) / OPTIONS_PER_PAGE))


def on_page(options: tuple[Option, ...], page: int) -> tuple[Option, ...]:
    start = page * OPTIONS_PER_PAGE
    return options[start : start + OPTIONS_PER_PAGE]


def picked(key: str, options: tuple[Option, ...], page: int) -> int | None:
    """The index in `options` of the choice `key` names on `page`, None when none."""
    if len(key) != 1 or not "1" <= key <= str(OPTIONS_PER_PAGE):
        return None
    index = page * OPTIONS_PER_PAGE + int(key) - 1
    return index if index < len(options) else None


def spell_refs(text: str) -> str:
    """ "AV-7K2P" read as "A, V, 7, K, 2, P": a reference heard once must be typed right."""
    return _REF.sub(lambda m: ", ".join((REF_PREFIX + m.group(1)).replace("-", "")), text)


def spoken(*parts: str | None) -> str:
    """The text to read: lines as sentences, links left to the SMS copy, references spelled."""
    sentences = []
    for part in parts:
        for line in _CONTROL.sub("", part or "").splitlines():
            line = line.strip()
            without_links = _URL.sub("", line).strip()
            if without_links != line and without_links.endswith(":"):
                continue  # "À lire : <link>" says nothing once the link is gone
            if without_links:
                end = "" if without_links.endswith(_SENTENCE_END) else "."
                sentences.append(without_links + end)
    return spell_refs(" ".join(sentences))


def _say(parent: Element, text: str) -> None:
    if text:
        SubElement(parent, "Say", {"voice": SAY_VOICE, "playBeep": "false"}).text = text


def _content(parent: Element, reply: Reply, urls: Urls) -> None:
    if reply.audio:
        _say(parent, spoken(reply.title))
        SubElement(parent, "Play", {"url": urls.absolute(reply.audio)})
    else:
        _say(parent, spoken(reply.title, reply.text))


def _get_digits(parent: Element, urls: Urls) -> Element:
    attributes = {
        "numDigits": "1",
        "timeout": str(DIGITS_TIMEOUT_SECONDS),
        "callbackUrl": urls.callback,
    }
    return SubElement(parent, "GetDigits", attributes)


def _document(root: Element) -> str:
    return XML_DECLARATION + tostring(root, encoding="unicode")


def choices(options: tuple[Option, ...], page: int, lang: str, root: bool) -> str:
    """ "Pour Budget, tapez 1. ..." for the page's choices, then the keys that move."""
    parts = [
        t("voice.choice", lang, label=option.label, number=number)
        for number, option in enumerate(on_page(options, page), start=1)
    ]
    if pages(options) > 1:
        parts.append(t("voice.more", lang, number=MORE))
    if not root:
        parts.append(t("voice.back_home", lang, back=BACK, home=HOME))
    parts.append(t("voice.repeat", lang))
    return spoken(" ".join(parts))


def menu(
    reply: Reply,
    options: tuple[Option, ...],
    page: int,
    lang: str,
    urls: Urls,
    *,
    root: bool,
    notice: str | None = None,
) -> str:
    """A screen and its choices; silence hears the choices again, then a goodbye.

    The content is read on the first page only: paging through the choices
    does not read a long answer again (`*` does).
    """
    prompt = choices(options, page, lang, root)
    response = Element("Response")
    first = _get_digits(response, urls)
    _say(first, spoken(notice))
    if page == 0:
        _content(first, reply, urls)
    _say(first, prompt)
    _say(_get_digits(response, urls), spoken(t("voice.no_key_again", lang), prompt))
    _say(response, spoken(t("voice.no_key_goodbye", lang)))
    return _document(response)


def farewell(reply: Reply, lang: str, urls: Urls, notice: str | None = None) -> str:
    """The last words of a call: the reply read whole, then a polite goodbye."""
    response = Element("Response")
    _say(response, spoken(notice))
    _content(response, reply, urls)
    _say(response, spoken(t("voice.goodbye", lang)))
    return _document(response)


def record(reply: Reply, urls: Urls, notice: str | None = None) -> str:
    """Ask for a spoken message and record it; AT posts its URL to the callback."""
    response = Element("Response")
    attributes = {
        "finishOnKey": RECORD_FINISH_KEY,
        "maxLength": str(RECORD_MAX_SECONDS),
        "trimSilence": "true",
        "playBeep": "true",
        "callbackUrl": urls.callback,
    }
    _say(SubElement(response, "Record", attributes), spoken(notice, reply.title, reply.text))
    return _document(response)


def hang_up() -> str:
    """The answer to the request that says a call is over: nothing more to do."""
    return _document(Element("Response"))


def unavailable(lang: str | None = None) -> str:
    response = Element("Response")
    _say(response, spoken(t("voice.unavailable", lang)))
    return _document(response)
