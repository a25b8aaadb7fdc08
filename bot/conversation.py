"""Conversation state in Redis: where a citizen is, so any web process can answer.

Nothing lives in process memory between turns. SMS and WhatsApp state is keyed
by channel and contact; USSD state by number, with AT's sessionId inside: a
citizen cut off mid-menu who dials again within 10 minutes finds their last
session there and is offered to continue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from redis import Redis

from bot.models.enums import Channel

TTL_SECONDS = {Channel.USSD: 600, Channel.SMS: 3600, Channel.WHATSAPP: 3600}
"""USSD sessions live ~180 s at AT, but the state stays 10 minutes for the offer to
resume; an SMS or WhatsApp menu is still answerable an hour later."""


@dataclass
class State:
    step: str = "main"
    stack: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    # What the current flow has gathered so far (bot/flows/base.py, Context.draft).
    draft: dict[str, Any] = field(default_factory=dict)
    page: int = 0
    # USSD: AT's `text` as of the last hop, to find what was typed since.
    ussd_text: str = ""
    # SMS: the rest of a long answer, sent on SUITE.
    rest: str | None = None
    # USSD: this session opened with the offer to resume an earlier one.
    resume_offer: bool = False
    # A step asked for before the commune was known, shown once it is.
    pending_step: str | None = None
    # USSD: [contact id, language, commune slug] as of the last hop, so the next
    # hops of the session need no database read (bot/engine.py ussd_hop).
    profile: list[Any] | None = None


_FIELDS = frozenset(f.name for f in fields(State))


def _encode(state: State) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies every list and dict on the way,
    # and json.dumps reads them as they are. This runs on every USSD hop.
    return {name: getattr(state, name) for name in _FIELDS}


def _decode(raw: bytes | str) -> State:
    """A stored state; fields an older release stored and this one dropped are ignored."""
    return State(**{k: v for k, v in json.loads(raw).items() if k in _FIELDS})


def _key(channel: Channel, conversation: str) -> str:
    return f"conv:{channel.value}:{conversation}"


def _resume_key(phone: str) -> str:
    return f"conv:ussd-last:{phone}"


def load(redis: Redis, channel: Channel, conversation: str) -> State | None:
    raw = redis.get(_key(channel, conversation))
    return _decode(raw) if raw else None


def save(
    redis: Redis, channel: Channel, conversation: str, state: State, ttl: int | None = None
) -> None:
    """Store the state for `ttl` seconds (the channel's TTL_SECONDS by default)."""
    ex = ttl or TTL_SECONDS[channel]
    redis.set(_key(channel, conversation), json.dumps(_encode(state)), ex=ex)


def forget(redis: Redis, channel: Channel, conversation: str) -> None:
    redis.delete(_key(channel, conversation))


def _ussd_key(phone: str) -> str:
    return f"conv:ussd:{phone}"


def load_ussd(redis: Redis, phone: str, session_id: str) -> tuple[State | None, State | None]:
    """(this session's state, the number's previous session's state), in one GET.

    A phone runs one USSD session at a time, so one key per number holds the
    session and its id: a new session id finds the previous one's state there,
    for the offer to resume.
    """
    raw = redis.get(_ussd_key(phone))
    if not raw:
        return None, None
    stored = json.loads(raw)
    state = State(**{k: v for k, v in stored["state"].items() if k in _FIELDS})
    return (state, None) if stored["session"] == session_id else (None, state)


def save_ussd(redis: Redis, session_id: str, phone: str, state: State) -> None:
    encoded = json.dumps({"session": session_id, "state": _encode(state)})
    redis.set(_ussd_key(phone), encoded, ex=TTL_SECONDS[Channel.USSD])


def forget_ussd(redis: Redis, phone: str) -> None:
    """The number's USSD state: its session is over, or the citizen asked to be erased."""
    redis.delete(_ussd_key(phone))
