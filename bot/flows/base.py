"""What flows are made of: replies, options, answers, steps and transitions.

Flows never see a channel. A step prompts with a `Reply` (text and options,
no numbering, no channel syntax) and handles an `Answer` (the option the
citizen picked, or free text) by returning a `Transition`. The renderer
(bot/channels/render.py) owns numbering, paging, length limits and syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.i18n import t
from bot.models.enums import Channel


@dataclass(frozen=True)
class Option:
    key: str  # stable, never shown: what `Answer.option` carries back
    label: str  # shown to the citizen, already in their language


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    title: str | None = None
    # A content screen that ends a path: USSD offers "Recevoir par SMS" there.
    content: bool = False
    # Nothing more to ask: the USSD session ends (END), the conversation resets.
    end: bool = False


@dataclass(frozen=True)
class Answer:
    text: str
    option: str | None = None  # the key of the option picked, when one was
    # WhatsApp: photos and a shared position, as the channel adapters parsed them.
    media: tuple[dict[str, Any], ...] = ()
    location: dict[str, Any] | None = None


@dataclass
class Context:
    """What a step may know and change; `data` and `draft` are saved between turns.

    `data` belongs to the current step (a budget's year) and is cleared on leaving
    it; `draft` belongs to the current flow (a ticket being filed, step after
    step) and is cleared when the citizen goes back to the main menu.
    """

    session: Session
    contact_id: int
    channel: Channel
    lang: str
    commune_slug: str | None
    data: dict[str, Any] = field(default_factory=dict)
    draft: dict[str, Any] = field(default_factory=dict)
    # Set by the step that confirmed SUPPRIMER: the contact is erased once the
    # confirmation has been sent (bot/participation/privacy.py).
    erase_requested: bool = False
    # Set by the step that recorded a political poll's answer: the message that
    # carried it is not kept word for word (bot/participation/polls.py).
    private_answer: bool = False


@dataclass(frozen=True)
class Go:
    """Move to a step (`flow:step`, or a step of the current flow)."""

    step: str


@dataclass(frozen=True)
class Stay:
    """Ask again, with a word on what went wrong."""

    notice: str | None = None


Transition = Go | Stay


class Step(Protocol):
    # True when any text answers the step (a description, a question), not only
    # one of its options; such a step also receives photos and locations.
    free_text: bool
    # True when the step is about one commune: the citizen chooses it first.
    needs_commune: bool

    def prompt(self, ctx: Context) -> Reply: ...

    def handle(self, ctx: Context, answer: Answer) -> Transition: ...


class LastWord:
    """A step that says one thing and ends the dialog: `t(key)`, filled from the draft."""

    free_text = False
    needs_commune = False

    def __init__(self, key: str) -> None:
        self.key = key

    def prompt(self, ctx: Context) -> Reply:
        return Reply(text=t(self.key, ctx.lang, **ctx.draft), end=True)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        # Never reached: the reply ends the dialog, and the next message starts anew.
        return Stay()
