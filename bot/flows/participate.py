"""The participation menu, and the keywords that start each participation flow.

Each flow module offers `start(ctx, answer) -> step name`: it opens the flow's
draft with what the citizen already said (the words after AVIS, QUESTION,
ABONNE...) and names the first step that still has something to ask. The menu
calls the same functions with an empty answer, so a keyword and the menu lead
to the same dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.flows import feedback, polls, privacy, questions, subscribe
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Step, Transition
from bot.i18n import t

Start = Callable[[Context, Answer], str]

SHORTCUTS: dict[str, Start] = {
    "feedback": feedback.start,
    "track": feedback.track,
    "question": questions.start,
    "poll": polls.start,
    "subscribe": subscribe.start,
    "mydata": privacy.show_data,
    "erase": privacy.start_erase,
}
"""Keyword (bot/matching.py SHORTCUT_WORDS) -> the flow it starts."""

_MENU = ("feedback", "track", "question", "poll", "subscribe", "mydata")


class ParticipateMenu:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        options = tuple(Option(key, t(f"participate.{key}", ctx.lang)) for key in _MENU)
        return Reply(title=t("participate.title", ctx.lang), text="", options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option in _MENU:
            return Go(SHORTCUTS[answer.option](ctx, Answer("")))
        return Stay(t("menu.invalid", ctx.lang))


STEPS: dict[str, Step] = {
    "participate": ParticipateMenu(),
    **feedback.STEPS,
    **questions.STEPS,
    **polls.STEPS,
    **subscribe.STEPS,
    **privacy.STEPS,
}
