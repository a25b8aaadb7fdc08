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

from bot.contacts import contact_id_for
from bot.i18n import t
from bot.models.enums import Channel


@dataclass(frozen=True)
class Option:
    key: str  # stable, never shown: what `Answer.option` carries back
    label: str  # shown to the citizen, already in their language


@dataclass(frozen=True)
class Attachment:
    """A file a WhatsApp reply carries after its text: a chart, a document.

    SMS and USSD ignore it (their text stands alone); the WhatsApp renderer
    sends it as an image or document message, or as a link when
    `content_type` is None (no file a provider could fetch and show).
    """

    url: str  # absolute, or an app path (/media/charts/...) made absolute when sent
    caption: str  # already in the reply's language, sample label included
    content_type: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    options: tuple[Option, ...] = ()
    title: str | None = None
    # A content screen that ends a path: USSD offers "Recevoir par SMS" there.
    content: bool = False
    # Nothing more to ask: the USSD session ends (END), the conversation resets.
    end: bool = False
    # Voice: a recording of this content in the caller's language (an app path
    # such as /media/audio/...), played instead of reading the text aloud.
    audio: str | None = None
    # WhatsApp: charts and documents sent with the text (bot/channels/render.py).
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Answer:
    text: str
    option: str | None = None  # the key of the option picked, when one was
    # WhatsApp: photos and a shared position, as the channel adapters parsed them.
    media: tuple[dict[str, Any], ...] = ()
    location: dict[str, Any] | None = None


# Neither repr nor eq: both would read `contact_id`, and so create the contact.
@dataclass(repr=False, eq=False)
class Context:
    """What a step may know and change; `data` and `draft` are saved between turns.

    `data` belongs to the current step (a budget's year) and is cleared on leaving
    it; `draft` belongs to the current flow (a ticket being filed, step after
    step) and is cleared when the citizen goes back to the main menu.
    """

    session: Session
    # None for a caller not yet in the database (USSD): reading `contact_id`
    # creates the contact of `phone` then, so browsing menus writes nothing.
    contact_id: int | None
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
    phone: str | None = None

    @property
    def known_contact_id(self) -> int | None:
        """The contact's id if the contact exists, without creating it."""
        return self._contact_id

    def _get_contact_id(self) -> int:
        if self._contact_id is None:
            if self.phone is None:
                raise LookupError("a context without a contact needs the phone to create one")
            self._contact_id = contact_id_for(self.session, self.phone, self.channel)
        return self._contact_id

    def _set_contact_id(self, value: int | None) -> None:
        self._contact_id = value


# The dataclass's __init__ assigns `contact_id`, through this property.
Context.contact_id = property(Context._get_contact_id, Context._set_contact_id)  # type: ignore[assignment,method-assign]


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
