"""The per-number inbound limit: a number that floods us is recorded, not answered in kind.

A number that sends more than INBOUND_RATE_PER_MINUTE SMS or WhatsApp messages
in one minute keeps every message stored, but past the limit its messages get
no reply: the first one past it gets one polite notice, the others nothing,
until the next minute. Without this a phone stuck in a loop, or a script, would
cost one provider message for each message it sends and hold the reply workers.
STOP is always answered (and obeyed in the webhook, whatever the rate).

Minutes are those of the provider's receipt, not of storage: a backlog stored
late (the database was down) is counted as it was sent, not as one burst.
USSD needs no such limit: a session is one synchronous request at a time,
answered in the HTTP response, and costs nothing to answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import current_app
from redis import Redis
from sqlalchemy.orm import Session

from bot.channels.registry import reply_provider
from bot.i18n import t
from bot.models import Contact
from bot.models.enums import Channel
from bot.optout import is_stop
from bot.outbox import new_message, send_after_commit

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
KEY_SECONDS = 5 * 60
"""How long a minute's count is kept: long enough for a batch stored a little late."""
LIMITED_CHANNELS = frozenset({Channel.SMS, Channel.WHATSAPP})


def _key(contact_id: int, received_at: datetime) -> str:
    # The contact's id, not the number: Redis dumps and MONITOR show no phone numbers.
    return f"inbound:flood:{contact_id}:{int(received_at.timestamp()) // WINDOW_SECONDS}"


def counts(redis: Redis, stored: Sequence[dict[str, Any]]) -> list[int]:
    """Count each message in its number's minute; its rank there, in one round trip."""
    with redis.pipeline(transaction=False) as pipe:
        for message in stored:
            key = _key(message["contact_id"], message["received_at"])
            pipe.incr(key)
            pipe.expire(key, KEY_SECONDS)
        return pipe.execute()[::2]


def answerable(session: Session, redis: Redis, stored: Sequence[dict[str, Any]]) -> list[int]:
    """The ids of the stored messages to answer; past the limit, one notice is queued instead.

    `stored` are inbound_messages rows as inserted, with their `id`.
    """
    limited = [m for m in stored if m["channel"] in LIMITED_CHANNELS and m["contact_id"]]
    if not limited:
        return [m["id"] for m in stored]
    limit = current_app.config["INBOUND_RATE_PER_MINUTE"]
    held: set[int] = set()
    for message, rank in zip(limited, counts(redis, limited), strict=True):
        if rank <= limit or is_stop(message["text"]):
            continue
        held.add(message["id"])
        if rank == limit + 1:
            _notify(session, message)
    if held:
        session.commit()
        log.info("inbound flood: replies held back", extra={"fields": {"messages": len(held)}})
    return [m["id"] for m in stored if m["id"] not in held]


def _notify(session: Session, message: dict[str, Any]) -> None:
    contact = session.get(Contact, message["contact_id"])
    if contact is None:
        return
    provider = reply_provider(message["channel"], message["provider"])
    text = t("inbound.flood", contact.language)
    row = new_message(session, contact, message["channel"], provider, text)
    send_after_commit(session, row, queue="high")
