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


@dataclass
class Context:
    """What a step may know and change; `data` is saved between turns."""

    session: Session
    contact_id: int
    channel: Channel
    lang: str
    commune_slug: str | None
    data: dict[str, Any] = field(default_factory=dict)


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
    def prompt(self, ctx: Context) -> Reply: ...

    def handle(self, ctx: Context, answer: Answer) -> Transition: ...
