"""Recording inbound messages exactly once, then queueing the reply work.

A provider retry of a message is dropped by its `(provider, external_id)`:
first in Redis (cheap, 48 h), then by the unique index, which holds even
when Redis forgot. STOP is obeyed here, before any reply work is queued.

The message is committed before the provider gets its 200: a crash after the
answer must not lose what the provider will not send again. This is the
hottest path of the service, so it uses Core statements, not the ORM.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict

from flask import current_app
from rq import Queue
from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from bot import models
from bot.channels.base import InboundMessage
from bot.contacts import contact_id_for
from bot.db import get_session, write_lock
from bot.models.enums import Channel
from bot.optout import is_stop, opt_out
from bot.redis import get_queue, get_redis

log = logging.getLogger(__name__)

DEDUPE_SECONDS = 48 * 3600
"""How long Redis remembers an inbound id; providers retry for less than that."""

REPLY_JOB = "workers.reply.handle_inbound"

_INBOUND = models.InboundMessage.__table__
# Built once: the compiled statement is cached, only the parameters change.
_INSERT_INBOUND = insert(_INBOUND).returning(_INBOUND.c.id)
_TOUCH_WHATSAPP = (
    update(models.Contact.__table__)
    .where(models.Contact.__table__.c.id == bindparam("contact_id"))
    .values(whatsapp_last_inbound_at=bindparam("at"))
)


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
            with write_lock(session):
                stored.append(_store(message))
                session.commit()
        except IntegrityError:
            session.rollback()
            log.info("duplicate inbound dropped by the index", extra={"fields": {"key": key}})
        except BaseException:
            session.rollback()
            redis.delete(key)
            raise
    if stored:
        # One round trip for all the jobs of this request.
        with redis.pipeline() as pipe:
            get_queue("high", current_app).enqueue_many(
                [Queue.prepare_data(REPLY_JOB, args=(inbound_id,)) for inbound_id in stored],
                pipeline=pipe,
            )
            pipe.execute()
    return stored


def _store(message: InboundMessage) -> int:
    session = get_session()
    contact_id = contact_id_for(session, message.sender_e164, message.channel)
    connection = session.connection()
    if message.channel is Channel.WHATSAPP:
        connection.execute(_TOUCH_WHATSAPP, {"contact_id": contact_id, "at": message.received_at})
    if is_stop(message.text):
        contact = session.get(models.Contact, contact_id)
        opt_out(session, contact, message.channel, reason=f"{message.channel.value} STOP")
    row = {
        "provider": message.provider,
        "external_id": message.external_id,
        "channel": message.channel,
        "contact_id": contact_id,
        "sender": message.sender_e164,
        "recipient": message.recipient,
        "text": message.text,
        "media": [asdict(item) for item in message.media],
        "location": asdict(message.location) if message.location else None,
        "session_id": message.session_id,
        "link_id": message.link_id,
        "received_at": message.received_at,
    }
    return connection.execute(_INSERT_INBOUND, row).scalar_one()
