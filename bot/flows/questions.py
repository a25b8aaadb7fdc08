"""Asking a question for an upcoming accountability or council session.

Menu or `QUESTION <text>`: the session (chosen only when several collect questions),
then the question, then a thank-you. A question typed with the keyword by a citizen
whose commune is known, when one session is open, is recorded at once.

The draft holds `draft_id` (one question per draft, however often it is submitted),
`event_id` once the session is known, and `text` once a question was typed.
"""

from __future__ import annotations

import uuid

from bot.content.cache import communes
from bot.flows.base import (
    Answer,
    Context,
    Go,
    LastWord,
    Option,
    Reply,
    Stay,
    Step,
    Transition,
)
from bot.i18n import t
from bot.matching import match_shortcut
from bot.models import Event
from bot.participation.questions import (
    QuestionsClosed,
    ask,
    event_label,
    is_open,
    open_events,
    quoted,
)

MIN_LETTERS = 5
"""Fewer letters than this is not a question ("1", "ok", "?"): it is asked again."""

_EVENT_PREFIX = "event:"


def _long_enough(text: str) -> bool:
    return sum(c.isalpha() for c in text) >= MIN_LETTERS


def _question_words(text: str) -> str:
    """The question typed at the prompt; "QUESTION pourquoi..." typed again there means
    the words after the keyword (on a free-text step the engine leaves keywords alone)."""
    found = match_shortcut(text)
    if found is not None and found[0] == "question":
        text = found[1]
    return " ".join(text.split())


def _chosen_event(ctx: Context) -> Event | None:
    """The session the question is for: the one chosen, else the only one open."""
    event_id = ctx.draft.get("event_id")
    event = ctx.session.get(Event, event_id) if event_id else None
    if event is not None and is_open(event):
        return event
    events = open_events(ctx.session, ctx.commune_slug) if ctx.commune_slug else []
    return events[0] if len(events) == 1 else None


def _submit(ctx: Context) -> str:
    """Record the draft's question; the step to show next."""
    draft = ctx.draft
    draft.setdefault("draft_id", uuid.uuid4().hex)
    try:
        ask(
            ctx.session,
            draft["event_id"],
            ctx.contact_id,
            ctx.channel,
            draft["text"],
            draft["draft_id"],
        )
    except QuestionsClosed:
        # The session started or was cancelled meanwhile: choose among those still open.
        draft.pop("event_id")
        return "question.event"
    return "question.done"


def start(ctx: Context, answer: Answer) -> str:
    """A new draft, with the question typed after the keyword if any."""
    ctx.draft.clear()
    ctx.draft["draft_id"] = uuid.uuid4().hex
    text = " ".join(answer.text.split())
    if _long_enough(text):
        ctx.draft["text"] = text
    if ctx.commune_slug is None:
        # The engine asks for the commune first. A question already typed is then shown
        # with the session it goes to, to confirm: it was written before the commune
        # was chosen. Without one, the question step chooses the session if needed.
        return "question.event" if "text" in ctx.draft else "question.text"
    events = open_events(ctx.session, ctx.commune_slug)
    if len(events) != 1:
        return "question.event"
    ctx.draft["event_id"] = events[0].id
    return _submit(ctx) if "text" in ctx.draft else "question.text"


class ChooseEvent:
    """Which session the question is for; with none open, a polite end."""

    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        events = open_events(ctx.session, ctx.commune_slug) if ctx.commune_slug else []
        if not events:
            name = next((c.name for c in communes(ctx.session) if c.slug == ctx.commune_slug), "")
            return Reply(text=t("question.none", ctx.lang, commune=name), end=True)
        options = tuple(
            Option(f"{_EVENT_PREFIX}{event.id}", event_label(event, ctx.lang)) for event in events
        )
        text = ctx.draft.get("text")
        body = (
            t("question.choose_with_text", ctx.lang, question=quoted(text))
            if text
            else t("question.choose", ctx.lang)
        )
        return Reply(title=t("question.title", ctx.lang), text=body, options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        key = answer.option or ""
        event_id = key.removeprefix(_EVENT_PREFIX)
        event = ctx.session.get(Event, int(event_id)) if event_id.isdigit() else None
        if event is None or not is_open(event):
            return Stay(t("menu.invalid", ctx.lang))
        ctx.draft["event_id"] = event.id
        return Go(_submit(ctx) if "text" in ctx.draft else "question.text")


class QuestionText:
    """The question itself, typed freely.

    Reached without a session known (several sessions open after the commune was
    asked), it shows the choice of session first, on this same step.
    """

    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        event = _chosen_event(ctx)
        if event is None:
            return CHOOSE_EVENT.prompt(ctx)
        # No title: a USSD screen has room for the session's name or for a title.
        return Reply(text=t("question.ask", ctx.lang, event=event_label(event, ctx.lang)))

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        event = _chosen_event(ctx)
        if event is None:
            return CHOOSE_EVENT.handle(ctx, answer)
        text = _question_words(answer.text)
        if not _long_enough(text):
            return Stay(t("question.too_short", ctx.lang))
        ctx.draft["event_id"], ctx.draft["text"] = event.id, text
        return Go(_submit(ctx))


CHOOSE_EVENT = ChooseEvent()

STEPS: dict[str, Step] = {
    "question.event": CHOOSE_EVENT,
    "question.text": QuestionText(),
    "question.done": LastWord("question.done"),
}
