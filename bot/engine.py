"""The conversation engine: one citizen turn in, the channel's answer out.

Order on every turn: global commands (AIDE, MENU, LANGUE, SUITE; STOP is
obeyed by the webhook before any of this) → the current step's options →
a keyword or free-text question (topic, commune, year) → the main menu.
State lives in Redis (bot/conversation.py), never in this process.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from sqlalchemy.orm import Session

from bot import conversation
from bot.channels import render
from bot.channels.registry import outbound_provider
from bot.contacts import Profile, profile, profile_for
from bot.content.cache import communes
from bot.conversation import State
from bot.flows.base import Answer, Context, Go, Option, Reply
from bot.flows.main import STEPS, TOPICS, set_commune, switch_language
from bot.i18n import DEFAULT_LANGUAGE, t
from bot.matching import Place, global_command, match_option, parse_intent
from bot.models import Contact
from bot.models.enums import Channel
from bot.outbox import new_message
from bot.redis import get_queue


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
    turn.ctx.data = turn.state.data
    reply = STEPS[turn.state.step].prompt(turn.ctx)
    if turn.notice:
        reply = Reply(
            text=f"{turn.notice}\n{reply.text}".strip(),
            options=reply.options,
            title=reply.title,
            content=reply.content,
            end=reply.end,
        )
    return reply


def go(turn: Turn, step: str) -> None:
    state = turn.state
    if step != state.step:
        state.stack.append(state.step)
        state.data = {}
    state.step, state.page = step, 0


def back(turn: Turn) -> None:
    state = turn.state
    state.step = state.stack.pop() if state.stack else "main"
    state.page, state.data = 0, {}


def home(turn: Turn) -> None:
    turn.state.step, turn.state.stack, turn.state.page, turn.state.data = "main", [], 0, {}


def answer_step(turn: Turn, text: str, options: tuple[Option, ...]) -> bool:
    """Apply `text` as an answer to the current step; False when it is not one."""
    option = None
    if text.isdigit() and 1 <= int(text) <= len(options):
        option = options[int(text) - 1].key
    elif not text.isdigit():
        index = match_option(text, [o.label for o in options])
        option = options[index].key if index is not None else None
    if option is None:
        return False
    transition = STEPS[turn.state.step].handle(turn.ctx, Answer(text=text, option=option))
    turn.state.data = turn.ctx.data
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
    if turn.ctx.commune_slug is None:
        turn.state.pending_topic = intent.topic
        go(turn, "communes")
        return True
    go(turn, intent.topic)
    if intent.year:
        turn.state.data["year"] = intent.year
    return True


def apply_global(turn: Turn, command: str) -> Reply | None:
    """Global commands; a Reply when the command answers by itself."""
    if command == "help":
        return Reply(text=t("menu.help", turn.ctx.lang))
    if command == "language":
        switch_language(turn.ctx)
    home(turn)
    return None


def after_commune_choice(turn: Turn) -> None:
    """A topic asked before the commune was known is shown once it is."""
    pending = turn.state.pending_topic
    if pending in TOPICS and turn.state.step == "main" and turn.ctx.commune_slug:
        turn.state.pending_topic = None
        go(turn, pending)


def message_turn(
    session: Session, redis: Redis, contact_id: int, channel: Channel, text: str
) -> list[str]:
    """An SMS or WhatsApp message in, the texts to send back out."""
    key = str(contact_id)
    state = conversation.load(redis, channel, key) or State()
    turn = Turn(context(session, profile(session, contact_id), channel), state)
    text = text.strip()
    command = global_command(text) or ("menu" if text == render.BACK else None)
    if command == "next" and state.rest:
        message, state.rest = render.split_sms(state.rest, turn.ctx.lang)
        conversation.save(redis, channel, key, state)
        return [message]
    answered = None
    if command and command != "next":
        answered = apply_global(turn, command)
    elif text:
        reply = current_reply(turn)
        if not answer_step(turn, text, reply.options) and not follow_intent(turn, text):
            answered = Reply(text=t("menu.help", turn.ctx.lang))
    after_commune_choice(turn)
    replies = [answered] if answered else []
    if answered is None or not text:
        replies.append(current_reply(turn))
    out = [text_ for reply in replies for text_ in render_message(turn, reply)]
    conversation.save(redis, channel, key, state)
    return out


def render_message(turn: Turn, reply: Reply) -> list[str]:
    """SMS or WhatsApp text(s) for a reply; the rest of a long SMS waits for SUITE."""
    if turn.ctx.channel is Channel.WHATSAPP:
        return [render.whatsapp(reply, turn.ctx.lang)]
    text, rest = render.sms(reply, turn.ctx.lang)
    turn.state.rest = rest
    return [text]


def new_ussd_inputs(previous: str, text: str) -> list[str]:
    """What was typed since the last hop; AT sends the whole `*`-joined history.

    Diffing against the previous history, not splitting on `*`, keeps a `*`
    typed inside free text. A session that starts with inputs (a chained dial
    such as *XYZ*1*2#) replays them one by one.
    """
    if text == previous:
        return []
    if previous and text.startswith(previous + "*"):
        return [text[len(previous) + 1 :]]
    return text.split("*") if text else []


def ussd_options(turn: Turn, reply: Reply) -> tuple[Option, ...]:
    if reply.content:
        return (Option("sms", t("menu.sms_copy", turn.ctx.lang)), *reply.options)
    return reply.options


def queue_sms_copy(turn: Turn, reply: Reply) -> Reply:
    session = turn.ctx.session
    contact = session.get(Contact, turn.ctx.contact_id)
    full = "\n".join(part for part in (reply.title, reply.text) if part)
    row = new_message(session, contact, Channel.SMS, outbound_provider(Channel.SMS), full)
    session.commit()
    get_queue("high").enqueue("workers.send.send_outbound", row.id)
    return Reply(text=t("menu.sms_queued", turn.ctx.lang), end=True)


def ussd_input(turn: Turn, item: str) -> Reply | None:
    """Apply one USSD input; a Reply when the input ends the session by itself."""
    state = turn.state
    if state.resume_offer:
        previous = state.data.pop("resume", None)
        state.resume_offer = False
        if item == "1" and previous:
            state.step, state.stack, state.data = previous["step"], previous["stack"], {}
            return None
        home(turn)
        return None
    if item == render.NEXT_PAGE:
        state.page += 1
    elif item == render.HOME:
        home(turn)
    elif item == render.BACK and state.page > 0:
        state.page -= 1
    elif item == render.BACK:
        back(turn)
    else:
        reply = current_reply(turn)
        options = ussd_options(turn, reply)
        if reply.content and item == "1":
            return queue_sms_copy(turn, reply)
        if not answer_step(turn, item, options):
            turn.notice = t("menu.invalid", turn.ctx.lang)
        after_commune_choice(turn)
    return None


def ussd_hop(session: Session, redis: Redis, session_id: str, phone: str, text: str) -> str:
    """One USSD hop: AT's `text` in, the `CON ...` / `END ...` screen out."""
    state = conversation.load(redis, Channel.USSD, session_id)
    if state is None:
        state = State()
        previous = conversation.resumable_ussd(redis, phone) if not text else None
        if previous and previous.step != "main":
            state.resume_offer = True
            state.data = {"resume": {"step": previous.step, "stack": previous.stack}}
    turn = Turn(context(session, profile_for(session, phone, Channel.USSD), Channel.USSD), state)
    ended = None
    for item in new_ussd_inputs(state.ussd_text, text):
        ended = ussd_input(turn, item)
        if ended:
            break
    state.ussd_text = text
    if ended is None and state.resume_offer:
        lang = turn.ctx.lang
        options = (
            Option("yes", t("menu.resume_yes", lang)),
            Option("no", t("menu.resume_no", lang)),
        )
        reply = Reply(text="", title=t("menu.resume", lang), options=options)
        screen = render.ussd(reply, options, 0, lang, root=True)
    else:
        reply = ended or current_reply(turn)
        root = state.step == "main" and not state.stack
        options = ussd_options(turn, reply)
        pinned = 1 if reply.content else 0
        screen = render.ussd(reply, options, state.page, turn.ctx.lang, root, pinned)
        state.page = min(state.page, screen.pages - 1)
    session.commit()
    if reply.end:
        conversation.forget(redis, Channel.USSD, session_id)
        conversation.forget_ussd(redis, phone)
    else:
        conversation.save_ussd(redis, session_id, phone, state)
    return screen.text
