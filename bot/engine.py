"""The conversation engine: one citizen turn in, the channel's answer out.

Order on every turn: global commands (AIDE, MENU, LANGUE, SUITE; STOP is
obeyed before any of this, by the webhook for SMS and WhatsApp and by
bot/ussd.py for USSD) → a participation keyword (AVIS, SUIVI, QUESTION, ABONNE, SONDAGE,
MES DONNEES, SUPPRIMER) → the current step's options, or any text on a step
that takes free text → a keyword or free-text question (topic, commune,
year) → a short help.
State lives in Redis (bot/conversation.py), never in this process.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from redis import Redis
from sqlalchemy.orm import Session

from bot import conversation
from bot.channels import render
from bot.channels.base import Media
from bot.contacts import Profile, profile
from bot.content.cache import communes
from bot.conversation import State
from bot.flows.base import Answer, Context, Go, Option, Reply
from bot.flows.main import STEPS
from bot.flows.participate import SHORTCUTS
from bot.flows.preferences import set_commune
from bot.i18n import DEFAULT_LANGUAGE, t
from bot.matching import Place, global_command, match_shortcut, parse_intent, pick_option
from bot.models.enums import Channel


@dataclass
class Turn:
    """One exchange: what the engine needs to know, and what it decided."""

    ctx: Context
    state: State
    notice: str | None = None


def context(session: Session, who: Profile, channel: Channel) -> Context:
    return Context(session, who.id, channel, who.language or DEFAULT_LANGUAGE, who.commune_slug)


def places(session: Session) -> list[Place]:
    return [Place(c.slug, c.name, c.variants) for c in communes(session)]


def current_reply(turn: Turn) -> Reply:
    turn.ctx.data, turn.ctx.draft = turn.state.data, turn.state.draft
    reply = STEPS[turn.state.step].prompt(turn.ctx)
    if turn.notice:
        reply = replace(reply, text=f"{turn.notice}\n{reply.text}".strip())
    return reply


def go(turn: Turn, step: str) -> None:
    state = turn.state
    if STEPS[step].needs_commune and turn.ctx.commune_slug is None:
        state.pending_step, step = step, "communes"
    if step != state.step:
        state.stack.append(state.step)
        state.data = {}
    state.step, state.page = step, 0


def back(turn: Turn) -> None:
    state = turn.state
    state.step = state.stack.pop() if state.stack else "main"
    state.page, state.data = 0, {}


def home(turn: Turn) -> None:
    state = turn.state
    state.step, state.stack, state.page, state.data, state.draft = "main", [], 0, {}, {}
    state.pending_step = None
    turn.ctx.data, turn.ctx.draft = state.data, state.draft


def picked_option(text: str, options: tuple[Option, ...]) -> str | None:
    index = pick_option(text, [o.label for o in options])
    return options[index].key if index is not None else None


def answer_step(turn: Turn, answer: Answer, options: tuple[Option, ...]) -> bool:
    """Apply an answer to the current step; False when it is not one."""
    step = STEPS[turn.state.step]
    option = picked_option(answer.text, options)
    if option is None and not step.free_text:
        return False
    answer = Answer(answer.text, option, answer.media, answer.location)
    transition = step.handle(turn.ctx, answer)
    turn.state.data, turn.state.draft = turn.ctx.data, turn.ctx.draft
    if isinstance(transition, Go):
        go(turn, transition.step)
    else:
        turn.notice = transition.notice
    return True


def follow_intent(turn: Turn, text: str) -> bool:
    """Route a keyword SMS or a free-text question; False when nothing matched."""
    intent = parse_intent(text, places(turn.ctx.session))
    if intent.topic is None and intent.commune is None:
        return False
    if intent.commune:
        set_commune(turn.ctx, intent.commune)
    home(turn)
    if intent.topic is None:
        return True
    go(turn, intent.topic)
    if intent.year:
        turn.state.data["year"] = intent.year
    return True


def follow_shortcut(turn: Turn, answer: Answer) -> bool:
    """Start the flow a participation keyword names ("AVIS la route..."), with its words."""
    found = match_shortcut(answer.text)
    if found is None:
        return False
    name, rest = found
    home(turn)
    go(turn, SHORTCUTS[name](turn.ctx, Answer(rest, None, answer.media, answer.location)))
    turn.state.draft = turn.ctx.draft
    return True


def apply_global(turn: Turn, command: str) -> Reply | None:
    """Global commands; a Reply when the command answers by itself."""
    if command == "help":
        return Reply(text=t("menu.help", turn.ctx.lang))
    home(turn)
    if command == "language":
        go(turn, "language")
    return None


def after_commune_choice(turn: Turn) -> None:
    """A step asked for before the commune was known is shown once it is."""
    pending = turn.state.pending_step
    if pending in STEPS and turn.state.step == "main" and turn.ctx.commune_slug:
        draft = turn.state.draft
        turn.state.pending_step = None
        go(turn, pending)
        turn.state.draft = turn.ctx.draft = draft


@dataclass(frozen=True)
class Message:
    """One message a turn sends back: a text, or on WhatsApp a file with `text` as caption."""

    text: str
    media: Media | None = None


@dataclass(frozen=True)
class Outcome:
    """What a message turn sends back, and what must happen to the contact's data."""

    messages: list[Message]
    erase: bool = False  # the contact confirmed SUPPRIMER
    private: bool = False  # the message answered a political poll
    # Where the conversation stands after the turn; message_turn(save=False)
    # leaves storing it to the caller, once the turn's writes are committed.
    state: State | None = None

    @property
    def texts(self) -> list[str]:
        """What the citizen reads of each message: its text, or a file's caption."""
        return [message.text for message in self.messages]


def message_turn(
    session: Session,
    redis: Redis,
    contact_id: int,
    channel: Channel,
    text: str,
    media: tuple[dict, ...] = (),
    location: dict | None = None,
    *,
    save: bool = True,
) -> Outcome:
    """An SMS or WhatsApp message in, the messages to send back out.

    `save=False` leaves the conversation state in Redis as it was: the reply job
    stores `Outcome.state` after its commit, so a turn whose commit failed is
    played again from the same state when the job is retried.
    """
    key = str(contact_id)
    state = conversation.load(redis, channel, key) or State()
    turn = Turn(context(session, profile(session, contact_id), channel), state)
    turn.ctx.data, turn.ctx.draft = state.data, state.draft
    answer = Answer(text.strip(), None, tuple(media), location)
    text = answer.text
    command = global_command(text) or ("menu" if text == render.BACK else None)
    if command == "next" and state.rest:
        message, state.rest = render.split_sms(state.rest, turn.ctx.lang)
        if save:
            conversation.save(redis, channel, key, state)
        return Outcome([Message(message)], state=state)
    answered = None
    if command == "next":
        pass  # nothing left to send: the current screen again, never an answer to it
    elif command:
        answered = apply_global(turn, command)
    elif not STEPS[state.step].free_text and follow_shortcut(turn, answer):
        # On a step that takes free text, "Suivi des travaux..." is the answer, not SUIVI.
        pass
    elif text or answer.media or answer.location:
        reply = current_reply(turn)
        if not answer_step(turn, answer, reply.options) and not follow_intent(turn, text):
            if state.step == "main":
                answered = Reply(text=t("menu.help", turn.ctx.lang))
            else:
                # Inside a dialog, say what went wrong and ask the same question again.
                turn.notice = t("menu.invalid", turn.ctx.lang)
    after_commune_choice(turn)
    replies = [answered] if answered else []
    if answered is None or not text:
        replies.append(current_reply(turn))
    out = [message for reply in replies for message in render_message(turn, reply)]
    if replies[-1].end:
        # The flow is over: the next message starts from the menu, not from this screen.
        home(turn)
    if save:
        conversation.save(redis, channel, key, state)
    return Outcome(out, turn.ctx.erase_requested, turn.ctx.private_answer, state)


def render_message(turn: Turn, reply: Reply) -> list[Message]:
    """The SMS or WhatsApp message(s) for a reply; the rest of a long SMS waits for SUITE.

    On WhatsApp each file the reply carries (a chart, a document) follows its text
    as a message of its own, the file's caption as its text.
    """
    if turn.ctx.channel is Channel.WHATSAPP:
        files = render.whatsapp_files(reply, render.public_base_url())
        return [
            Message(render.whatsapp(reply, turn.ctx.lang)),
            *(Message(file.caption or "", file) for file in files),
        ]
    text, rest = render.sms(reply, turn.ctx.lang)
    turn.state.rest = rest
    return [Message(text)]
