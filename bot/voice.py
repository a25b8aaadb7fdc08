"""The voice side of the engine: one Africa's Talking voice callback in, the call's next XML out.

A call walks the same steps as USSD (bot/engine.py), answered with keys:
bot/channels/voice_xml.py reads each screen aloud and collects one key. The
state is one Redis key per call, by AT's sessionId, forgotten when AT says
the call is over (isActive=0). Nothing is written half-way: a feedback
ticket is filed only when the recording arrives, so a caller who hangs up
before leaves nothing behind.
"""

from __future__ import annotations

import logging

from redis import Redis
from sqlalchemy.orm import Session

from bot import conversation
from bot.channels import voice_xml
from bot.channels.africastalking_voice import OUTBOUND, VoiceCallback
from bot.contacts import profile_for
from bot.conversation import State
from bot.engine import (
    Turn,
    after_commune_choice,
    answer_step,
    back,
    context,
    current_reply,
    go,
    home,
)
from bot.flows import feedback
from bot.flows.base import Answer, Context, Option, Reply
from bot.flows.main import STEPS
from bot.i18n import t
from bot.models.enums import Channel
from bot.ussd import queue_sms_copy, ussd_options

log = logging.getLogger(__name__)

VOICE_TTL_SECONDS = 3600
"""Longer than any call; AT's last request (isActive=0) forgets a call's state sooner."""
EMPTY_RECORDINGS_ALLOWED = 2
"""Recordings that came back empty before the call says goodbye instead of asking again."""
SMS_COPY = "sms"  # the option bot/ussd.py adds to content screens


def _turn(session: Session, state: State, phone: str) -> Turn:
    if state.profile:
        contact_id, lang, commune_slug = state.profile
        ctx = Context(session, contact_id, Channel.VOICE, lang, commune_slug)
    else:
        ctx = context(session, profile_for(session, phone, Channel.VOICE), Channel.VOICE)
    ctx.data, ctx.draft = state.data, state.draft
    return Turn(ctx, state)


def _key(digits: str | None) -> str:
    """The key pressed; a # some phones send after it is not part of the answer."""
    return (digits or "").strip().rstrip("#")


def _press(turn: Turn, key: str) -> Reply | None:
    """Apply one key; a Reply when the key ends the call by itself."""
    state, lang = turn.state, turn.ctx.lang
    if not key:
        turn.notice = t("voice.no_key", lang)
        return None
    if key == voice_xml.REPEAT:
        return None
    if key == voice_xml.HOME:
        home(turn)
        return None
    reply = current_reply(turn)
    options = ussd_options(turn, reply)
    if key == voice_xml.BACK and state.page > 0:
        state.page -= 1
    elif key == voice_xml.BACK:
        back(turn)
    elif key == voice_xml.MORE and voice_xml.pages(options) > 1:
        state.page = (state.page + 1) % voice_xml.pages(options)
    else:
        index = voice_xml.picked(key, options, state.page)
        if index is None:
            turn.notice = t("menu.invalid", lang)
        elif reply.content and options[index].key == SMS_COPY:
            return queue_sms_copy(turn, reply)
        else:
            answer_step(turn, Answer(str(index + 1)), options)
            after_commune_choice(turn)
    return None


def _recorded(turn: Turn, url: str | None) -> Reply | None:
    """The recording callback: file the ticket with the audio, or ask again once."""
    draft, lang = turn.state.draft, turn.ctx.lang
    if url is None:
        draft["empty_recordings"] = draft.get("empty_recordings", 0) + 1
        if draft["empty_recordings"] >= EMPTY_RECORDINGS_ALLOWED:
            return Reply(text=t("voice.nothing_recorded_goodbye", lang), end=True)
        turn.notice = t("voice.nothing_recorded", lang)
        return None
    # The same shape as a WhatsApp voice note (bot/channels/base.py Media).
    audio = {"url": url, "content_type": voice_xml.RECORDING_CONTENT_TYPE, "caption": None}
    draft.update(text=t("voice.feedback_text", lang), media=[audio], anonymous=False)
    go(turn, feedback.submit(turn.ctx))
    return None


def _screen(turn: Turn) -> tuple[Reply, tuple[Option, ...]]:
    """The current step's reply as a call says it, and the choices it offers."""
    reply = current_reply(turn)
    options = ussd_options(turn, reply)
    if STEPS[turn.state.step].free_text and not options and not reply.end:
        # A step only typing answers (a question for a session): not by phone.
        reply = Reply(text=t("voice.needs_typing", turn.ctx.lang))
    return reply, options


def voice_hop(session: Session, redis: Redis, call: VoiceCallback, urls: voice_xml.Urls) -> str:
    """One voice callback: AT's form in, the XML of what the call does next out."""
    if not call.active:
        conversation.forget(redis, Channel.VOICE, call.session_id)
        log.info(
            "call over",
            extra={"fields": {"direction": call.direction, "seconds": call.duration_seconds}},
        )
        return voice_xml.hang_up()
    state = conversation.load(redis, Channel.VOICE, call.session_id)
    turn = _turn(session, state or State(), call.phone)
    ended = None
    if state is None:
        if call.direction == OUTBOUND:
            turn.notice = t("voice.callme.hello", turn.ctx.lang)
    elif turn.state.step == feedback.RECORD_STEP:
        ended = _recorded(turn, call.recording_url)
    else:
        ended = _press(turn, _key(call.digits))
    notice, turn.notice = turn.notice, None
    if ended is not None:
        reply, options = ended, ()
    else:
        reply, options = _screen(turn)
    state = turn.state
    state.profile = [turn.ctx.contact_id, turn.ctx.lang, turn.ctx.commune_slug]
    session.commit()
    lang = turn.ctx.lang
    if reply.end:
        conversation.forget(redis, Channel.VOICE, call.session_id)
        return voice_xml.farewell(reply, lang, urls, notice)
    state.page = min(state.page, voice_xml.pages(options) - 1)
    conversation.save(redis, Channel.VOICE, call.session_id, state, ttl=VOICE_TTL_SECONDS)
    if state.step == feedback.RECORD_STEP:
        return voice_xml.record(reply, urls, notice)
    root = state.step == "main" and not state.stack and state.page == 0
    return voice_xml.menu(reply, options, state.page, lang, urls, root=root, notice=notice)
