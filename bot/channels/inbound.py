"""Recording inbound messages exactly once, then queueing the reply work.

A provider retry of a message is dropped by its `(provider, external_id)`:
first in Redis (cheap, 48 h), then by the unique index, which holds even
when Redis forgot. STOP is obeyed here, before any reply work is queued.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict

from flask import current_app
from sqlalchemy.exc import IntegrityError

from bot import models
from bot.channels.base import InboundMessage
from bot.contacts import contact_for
from bot.db import get_session
from bot.models.enums import Channel
from bot.optout import is_stop, opt_out
from bot.redis import get_queue, get_redis

log = logging.getLogger(__name__)

DEDUPE_SECONDS = 48 * 3600
"""How long Redis remembers an inbound id; providers retry for less than that."""


def dedupe_key(message: InboundMessage) -> str:
    return f"inbound:{message.provider.value}:{message.external_id}"


def accept(messages: Sequence[InboundMessage]) -> list[int]:
    """Store the new messages and queue their replies; return the new rows' ids.

    Raises on an unreachable database or Redis, after forgetting the dedupe
    keys it set, so the provider's retry is processed rather than dropped.
    """
    redis = get_redis()
    session = get_session()
    stored: list[int] = []
    for message in messages:
        key = dedupe_key(message)
        if not redis.set(key, 1, nx=True, ex=DEDUPE_SECONDS):
            log.info("duplicate inbound dropped", extra={"fields": {"key": key}})
            continue
        try:
            row = _store(message)
            session.commit()
        except IntegrityError:
            session.rollback()
            log.info("duplicate inbound dropped by the index", extra={"fields": {"key": key}})
            continue
        except BaseException:
            session.rollback()
            redis.delete(key)
            raise
        stored.append(row.id)
    queue = get_queue("high", current_app)
    for inbound_id in stored:
        queue.enqueue("workers.reply.handle_inbound", inbound_id)
    return stored


def _store(message: InboundMessage) -> models.InboundMessage:
    session = get_session()
    contact = contact_for(session, message.sender_e164, message.channel)
    if message.channel is Channel.WHATSAPP:
        contact.whatsapp_last_inbound_at = message.received_at
    if is_stop(message.text):
        opt_out(session, contact, message.channel, reason=f"{message.channel.value} STOP")
    row = models.InboundMessage(
        provider=message.provider,
        external_id=message.external_id,
        channel=message.channel,
        contact_id=contact.id,
        sender=message.sender_e164,
        recipient=message.recipient,
        text=message.text,
        media=[asdict(item) for item in message.media],
        location=asdict(message.location) if message.location else None,
        session_id=message.session_id,
        link_id=message.link_id,
        received_at=message.received_at,
    )
    session.add(row)
    session.flush()
    return row
