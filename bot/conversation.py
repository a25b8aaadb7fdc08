"""Conversation state in Redis: where a citizen is, so any web process can answer.

Nothing lives in process memory between turns. USSD state is keyed by AT's
sessionId; SMS and WhatsApp by channel and number. The last USSD state of a
number is also kept for RESUME_SECONDS, so a citizen cut off mid-menu who dials
again is offered to continue.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from redis import Redis

from bot.models.enums import Channel

TTL_SECONDS = {Channel.USSD: 600, Channel.SMS: 3600, Channel.WHATSAPP: 3600}
"""USSD sessions live ~180 s at AT, but the state stays for the resume offer;
an SMS or WhatsApp menu is still answerable an hour later."""

RESUME_SECONDS = 600


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
    redis.set(_key(channel, conversation), json.dumps(asdict(state)), ex=ex)


def forget(redis: Redis, channel: Channel, conversation: str) -> None:
    redis.delete(_key(channel, conversation))


def _session_key(phone: str) -> str:
    return f"conv:ussd-session:{phone}"


def save_ussd(redis: Redis, session_id: str, phone: str, state: State) -> None:
    """The session's state, the number's last state and its session id, in one round trip."""
    encoded = json.dumps(asdict(state))
    ttl = TTL_SECONDS[Channel.USSD]
    with redis.pipeline(transaction=False) as pipe:
        pipe.set(_key(Channel.USSD, session_id), encoded, ex=ttl)
        pipe.set(_resume_key(phone), encoded, ex=RESUME_SECONDS)
        pipe.set(_session_key(phone), session_id, ex=ttl)
        pipe.execute()


def resumable_ussd(redis: Redis, phone: str) -> State | None:
    raw = redis.get(_resume_key(phone))
    return _decode(raw) if raw else None


def forget_ussd(redis: Redis, phone: str) -> None:
    """Everything kept of the number's USSD sessions: its last one and the resume offer."""
    session_id = redis.get(_session_key(phone))
    keys = [_resume_key(phone), _session_key(phone)]
    if session_id:
        keys.append(_key(Channel.USSD, session_id.decode()))
    redis.delete(*keys)
