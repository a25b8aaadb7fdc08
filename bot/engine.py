"""The conversation engine: one citizen turn in, the channel's answer out.

Order on every turn: global commands (AIDE, MENU, LANGUE, SUITE; STOP is
obeyed before any of this, by the webhook for SMS and WhatsApp and here for
USSD) → a participation keyword (AVIS, SUIVI, QUESTION, ABONNE, SONDAGE,
MES DONNEES, SUPPRIMER) → the current step's options, or any text on a step
that takes free text → a keyword or free-text question (topic, commune,
year) → a short help.
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
from bot.flows.main import STEPS
from bot.flows.participate import SHORTCUTS
from bot.flows.preferences import set_commune, switch_language
from bot.i18n import DEFAULT_LANGUAGE, t
from bot.matching import Place, global_command, match_option, match_shortcut, parse_intent
from bot.models import Contact
from bot.models.enums import Channel
from bot.optout import is_stop, opt_out
from bot.outbox import new_message
from bot.participation.privacy import erase_contact
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
    turn.ctx.data, turn.ctx.draft = turn.state.data, turn.state.draft
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
    # isascii: "²" and other Unicode digits are not option numbers (int() refuses them).
    if text.isascii() and text.isdigit():
        return options[int(text) - 1].key if 1 <= int(text) <= len(options) else None
    index = match_option(text, [o.label for o in options])
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
    if command == "language":
        switch_language(turn.ctx)
    home(turn)
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
class Outcome:
    """What a message turn sends back, and what must happen to the contact's data."""

    texts: list[str]
    erase: bool = False  # the contact confirmed SUPPRIMER
    private: bool = False  # the message answered a political poll


def message_turn(
    session: Session,
    redis: Redis,
    contact_id: int,
    channel: Channel,
    text: str,
    media: tuple[dict, ...] = (),
    location: dict | None = None,
) -> Outcome:
    """An SMS or WhatsApp message in, the texts to send back out."""
    key = str(contact_id)
    state = conversation.load(redis, channel, key) or State()
    turn = Turn(context(session, profile(session, contact_id), channel), state)
    turn.ctx.data, turn.ctx.draft = state.data, state.draft
    answer = Answer(text.strip(), None, tuple(media), location)
    text = answer.text
    command = global_command(text) or ("menu" if text == render.BACK else None)
    if command == "next" and state.rest:
        message, state.rest = render.split_sms(state.rest, turn.ctx.lang)
        conversation.save(redis, channel, key, state)
        return Outcome([message])
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
    out = [text_ for reply in replies for text_ in render_message(turn, reply)]
    if replies[-1].end:
        # The flow is over: the next message starts from the menu, not from this screen.
        home(turn)
    conversation.save(redis, channel, key, state)
    return Outcome(out, turn.ctx.erase_requested, turn.ctx.private_answer)


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


def ussd_stop(turn: Turn) -> Reply:
    session = turn.ctx.session
    contact = session.get(Contact, turn.ctx.contact_id)
    opt_out(session, contact, Channel.USSD, reason="ussd STOP")
    return Reply(text=t("optout.confirmed", turn.ctx.lang), end=True)


def ussd_input(turn: Turn, item: str) -> Reply | None:
    """Apply one USSD input; a Reply when the input ends the session by itself."""
    state = turn.state
    if is_stop(item):
        return ussd_stop(turn)
    if state.resume_offer:
        previous = state.data.pop("resume", None)
        state.resume_offer = False
        if item == "1" and previous:
            # The flow's draft comes back too: a half-filed ticket is not typed again.
            state.step, state.stack, state.data = previous["step"], previous["stack"], {}
            state.draft = turn.ctx.draft = previous.get("draft", {})
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
        if not answer_step(turn, Answer(item), options):
            turn.notice = t("menu.invalid", turn.ctx.lang)
        after_commune_choice(turn)
    return None


def ussd_hop(session: Session, redis: Redis, session_id: str, phone: str, text: str) -> str:
    """One USSD hop: AT's `text` in, the `CON ...` / `END ...` screen out."""
    state, previous = conversation.load_ussd(redis, phone, session_id)
    if state is None:
        state = State()
        if previous and not text and previous.step != "main":
            state.resume_offer = True
            state.data = {
                "resume": {"step": previous.step, "stack": previous.stack, "draft": previous.draft}
            }
    if state.profile:
        contact_id, lang, commune_slug = state.profile
        ctx = Context(session, contact_id, Channel.USSD, lang, commune_slug)
    else:
        ctx = context(session, profile_for(session, phone, Channel.USSD), Channel.USSD)
    turn = Turn(ctx, state)
    turn.ctx.data, turn.ctx.draft = state.data, state.draft
    ended = None
    for item in new_ussd_inputs(state.ussd_text, text):
        ended = ussd_input(turn, item)
        if ended:
            break
    state.ussd_text = text
    state.profile = [turn.ctx.contact_id, turn.ctx.lang, turn.ctx.commune_slug]
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
    if turn.ctx.erase_requested:
        erase_contact(session, redis, turn.ctx.contact_id)
    if reply.end:
        conversation.forget_ussd(redis, phone)
    else:
        conversation.save_ussd(redis, session_id, phone, state)
    return screen.text
