"""The USSD side of the engine: one hop of Africa's Talking's session in, one screen out.

AT sends the whole input history on every hop (`1*2*98`); the engine reads what
was typed since the last hop, applies each input to the conversation (the same
steps as SMS and WhatsApp, bot/engine.py), and renders the screen
(bot/channels/render.py). The state is one Redis key per number
(bot/conversation.py); a hop needs the database only on the session's first
hop and when something is written.
"""

from __future__ import annotations

from redis import Redis
from sqlalchemy.orm import Session

from bot import conversation
from bot.channels import render
from bot.channels.registry import outbound_provider
from bot.contacts import Profile, read_profile
from bot.conversation import State
from bot.db import get_autocommit_engine
from bot.engine import (
    Turn,
    after_commune_choice,
    answer_step,
    back,
    context,
    current_reply,
    home,
)
from bot.flows.base import Answer, Context, Option, Reply
from bot.i18n import t
from bot.models import Contact
from bot.models.enums import Channel
from bot.optout import is_stop, opt_out
from bot.outbox import new_message, send_after_commit
from bot.participation.privacy import erase_contact


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
    send_after_commit(session, row, queue="high")
    session.commit()
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
        # A number never seen gets its contact only when a step needs one
        # (Context.contact_id): most callers just read, and a write costs.
        found = read_profile(get_autocommit_engine(), phone) or Profile(None, None, None)
        ctx = context(session, found, Channel.USSD)
    ctx.phone = phone
    turn = Turn(ctx, state)
    turn.ctx.data, turn.ctx.draft = state.data, state.draft
    ended = None
    for item in new_ussd_inputs(state.ussd_text, text):
        ended = ussd_input(turn, item)
        if ended:
            break
    state.ussd_text = text
    state.profile = [turn.ctx.known_contact_id, turn.ctx.lang, turn.ctx.commune_slug]
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
    if session.in_transaction():
        # Most hops touch no table: a bare commit() would begin a transaction
        # only to end it.
        session.commit()
    if turn.ctx.erase_requested:
        erase_contact(session, redis, turn.ctx.contact_id)
    if reply.end:
        conversation.forget_ussd(redis, phone)
    else:
        conversation.save_ussd(redis, session_id, phone, state)
    return screen.text
