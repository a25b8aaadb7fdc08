"""Appelez-moi, from the USSD main menu: the call is queued and the session says so."""

from __future__ import annotations

from bot.flows.base import Context, LastWord, Step
from bot.voice_callback import CallRequest, request_call

_STEP = {
    CallRequest.QUEUED: "callme.queued",
    CallRequest.TOO_SOON: "callme.too_soon",
    CallRequest.OPTED_OUT: "callme.opted_out",
}


def start(ctx: Context) -> str:
    return _STEP[request_call(ctx.session, ctx.contact_id)]


STEPS: dict[str, Step] = {
    "callme.queued": LastWord("voice.callme.queued"),
    "callme.too_soon": LastWord("voice.callme.too_soon"),
    "callme.opted_out": LastWord("voice.callme.opted_out"),
}
