"""Inbound messages: buffered durably in Redis by the webhook, stored once by a job.

The webhook's one round trip to Redis (a Lua script) drops provider retries by
`(provider, external_id)` (remembered 48 h) and appends new messages to a
Redis stream; the provider gets its 200 as soon as Redis holds the message.
An `ingest` job on the `high` queue drains the stream into `inbound_messages`,
whose unique index stops any message stored twice, and queues the replies.
Redis runs with an append-only file (fsync every second) so that a message
acknowledged to a provider survives a restart.

STOP is the exception: it is obeyed in the webhook itself, before the 200.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from bot import models
from bot.channels import flood
from bot.channels.base import InboundMessage
from bot.contacts import contact_for, contact_id_for
from bot.db import get_session, write_lock
from bot.models.enums import Channel, Provider
from bot.optout import is_stop, opt_out
from bot.redis import get_queue, get_redis

log = logging.getLogger(__name__)

DEDUPE_SECONDS = 48 * 3600
"""How long Redis remembers an inbound id; providers retry for less than that."""

STREAM = "inbound:stream"
INGEST_PENDING = "inbound:ingest-pending"
INGEST_JOB = "workers.ingest.ingest_inbound"
REPLY_JOB = "workers.reply.handle_inbound"
REPLY_RETRY = Retry(max=5, interval=[5, 15, 30, 60, 120])
"""A reply job that failed (the database or Redis was down) runs again: the
message is stored, so it must be answered; the job is safe to run twice."""
RETRY_SECONDS = [5, 15, 30, 60, 120]
"""Waits between ingest attempts when the database is unreachable."""
BATCH_SIZE = 500
"""Messages stored per database transaction by the ingest job."""

# KEYS: dedupe keys; ARGV: ttl, pending flag, then one JSON message per key.
# Returns how many were new and whether an ingest job must be queued.
_BUFFER = """
local added = 0
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, '1', 'NX', 'EX', ARGV[1]) then
    redis.call('XADD', ARGV[2], '*', 'm', ARGV[i + 3])
    added = added + 1
  end
end
local schedule = 0
if added > 0 and redis.call('SET', ARGV[3], '1', 'NX', 'EX', 300) then
  schedule = 1
end
return {added, schedule}
"""


def dedupe_key(message: InboundMessage) -> str:
    return f"inbound:{message.provider.value}:{message.external_id}"


def _encode(message: InboundMessage) -> str:
    fields = asdict(message)
    fields.pop("raw")
    fields["received_at"] = message.received_at.isoformat()
    return json.dumps(fields, default=str)


def accept(messages: Sequence[InboundMessage]) -> int:
    """Buffer the new messages; return how many were new (retries are not).

    Raises when Redis (or, for STOP, the database) is unreachable: the
    provider then gets a 503 and retries.
    """
    if not messages:
        return 0
    _obey_stops(messages)
    redis = get_redis()
    script = current_app.extensions.get("inbound_script")
    if script is None:
        script = current_app.extensions["inbound_script"] = redis.register_script(_BUFFER)
    added, schedule = script(
        keys=[dedupe_key(m) for m in messages],
        args=[DEDUPE_SECONDS, STREAM, INGEST_PENDING, *(_encode(m) for m in messages)],
        client=redis,
    )
    if schedule:
        # Retried on its own while the database is down, new messages or not.
        get_queue("high", current_app).enqueue(
            INGEST_JOB, retry=Retry(max=10, interval=RETRY_SECONDS)
        )
    if added < len(messages):
        log.info("duplicate inbound dropped", extra={"fields": {"dropped": len(messages) - added}})
    return added


def _obey_stops(messages: Sequence[InboundMessage]) -> None:
    stops = [m for m in messages if is_stop(m.text)]
    if not stops:
        return
    session = get_session()
    with write_lock(session):
        for message in stops:
            contact = contact_for(session, message.sender_e164, message.channel)
            opt_out(session, contact, message.channel, reason=f"{message.channel.value} STOP")
        session.commit()


def _decode(raw: bytes) -> dict[str, Any]:
    fields = json.loads(raw)
    fields["provider"] = Provider(fields["provider"])
    fields["channel"] = Channel(fields["channel"])
    fields["received_at"] = datetime.fromisoformat(fields["received_at"])
    return fields


_INBOUND = models.InboundMessage.__table__
# Built once: the compiled statements are cached, only the parameters change.
_INSERT = {
    name: dialect.insert(_INBOUND)
    .on_conflict_do_nothing(index_elements=["provider", "external_id"])
    .returning(_INBOUND.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_TOUCH_WHATSAPP = (
    update(models.Contact.__table__)
    .where(models.Contact.__table__.c.id == bindparam("contact_id"))
    .values(whatsapp_last_inbound_at=bindparam("at"))
)


def ingest() -> int:
    """Drain the stream into the database; return how many messages were new.

    Entries leave the stream only after their rows are committed, so a crash
    replays them, and the unique index turns the replay into a no-op.
    """
    redis = get_redis()
    try:
        return _drain(redis)
    except BaseException:
        # Let the next webhook schedule a fresh job rather than wait for the flag to expire.
        redis.delete(INGEST_PENDING)
        raise


def _drain(redis: Redis) -> int:
    stored = 0
    while True:
        entries = redis.xrange(STREAM, count=BATCH_SIZE)
        if not entries:
            redis.delete(INGEST_PENDING)
            # A message buffered between the last read and the delete must not
            # wait for the next one: take the flag back and go on.
            if redis.xlen(STREAM) and redis.set(INGEST_PENDING, 1, nx=True, ex=300):
                continue
            return stored
        new_rows = _store([_decode(fields[b"m"]) for _entry_id, fields in entries])
        # A number flooding us is recorded, not answered message for message.
        answered = flood.answerable(get_session(), redis, new_rows) if new_rows else []
        if answered:
            with redis.pipeline() as pipe:
                get_queue("high", current_app).enqueue_many(
                    [Queue.prepare_data(REPLY_JOB, args=(i,), retry=REPLY_RETRY) for i in answered],
                    pipeline=pipe,
                )
                pipe.execute()
        redis.xdel(STREAM, *[entry_id for entry_id, _fields in entries])
        stored += len(new_rows)


def _store(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the batch; the rows that were new, each with its `id`."""
    session = get_session()
    new_rows: list[dict[str, Any]] = []
    with write_lock(session):
        connection = session.connection()
        insert = _INSERT[connection.dialect.name]
        for message in batch:
            contact_id = contact_id_for(session, message["sender_e164"], message["channel"])
            if message["channel"] is Channel.WHATSAPP:
                connection.execute(
                    _TOUCH_WHATSAPP, {"contact_id": contact_id, "at": message["received_at"]}
                )
            row = {
                "provider": message["provider"],
                "external_id": message["external_id"],
                "channel": message["channel"],
                "contact_id": contact_id,
                "sender": message["sender_e164"],
                "recipient": message["recipient"],
                "text": message["text"],
                "media": message["media"],
                "location": message["location"],
                "session_id": message["session_id"],
                "link_id": message["link_id"],
                "received_at": message["received_at"],
            }
            inserted = connection.execute(insert, row).scalar()
            if inserted is not None:
                new_rows.append(row | {"id": inserted})
        session.commit()
    return new_rows
