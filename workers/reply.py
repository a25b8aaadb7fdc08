"""Answering an inbound SMS or WhatsApp message, off the webhook's critical path."""

from __future__ import annotations

from bot import conversation, models
from bot.channels.registry import reply_provider
from bot.db import get_session
from bot.engine import Message, message_turn
from bot.i18n import t
from bot.models.types import utcnow
from bot.optout import is_stop
from bot.outbox import new_message
from bot.participation.privacy import erase_contact
from bot.redis import get_redis
from workers.context import job_context
from workers.send import deliver

TURN_LOCK_SECONDS = 30
"""Longest a turn may hold its contact's lock, and longest the next one waits for it."""


def handle_inbound(inbound_id: int) -> str:
    """RQ job (queue `high`, retried: bot/channels/inbound.py): build the reply, store it, send it.

    Safe to run again after any failure: the reply rows and the message's
    `answered_at` are committed together, and the conversation state is saved
    only after that commit, so a retry plays the same turn from the same state.
    A retry after the commit finds the message answered; its rows, if the job
    died before sending them, are sent by the sweeper (workers/sweeper.py).
    """
    with job_context():
        session = get_session()
        inbound = session.get(models.InboundMessage, inbound_id)
        if inbound is None or inbound.contact_id is None:
            return "nothing to answer"
        contact = session.get(models.Contact, inbound.contact_id)
        redis = get_redis()
        erase = False
        state = None
        # Two messages of one citizen taken by two workers at once would both read the
        # same conversation state: one turn at a time per contact.
        with redis.lock(
            f"lock:contact:{contact.id}",
            timeout=TURN_LOCK_SECONDS,
            blocking_timeout=TURN_LOCK_SECONDS,
        ):
            session.refresh(inbound)
            if inbound.answered_at is not None:
                return "already answered"
            if is_stop(inbound.text):
                # The webhook already opted out; the flow the citizen was in ends too.
                conversation.forget(redis, inbound.channel, str(contact.id))
                messages = [Message(t("optout.confirmed", contact.language))]
            else:
                outcome = message_turn(
                    session,
                    redis,
                    contact.id,
                    inbound.channel,
                    inbound.text,
                    tuple(inbound.media or ()),
                    inbound.location,
                    save=False,
                )
                messages, erase, state = outcome.messages, outcome.erase, outcome.state
                if outcome.private:
                    # The poll keeps the answer unlinkable; the message must not link it back.
                    inbound.text = ""
            provider = reply_provider(inbound.channel, inbound.provider)
            rows = [
                new_message(session, contact, inbound.channel, provider, m.text, media=m.media)
                for m in messages
            ]
            inbound.answered_at = utcnow()
            session.commit()
            if state is not None:
                conversation.save(redis, inbound.channel, str(contact.id), state)
        results = "; ".join(deliver(row.id) for row in rows)
        if erase:
            # Only now: the confirmation had to reach the number before it is forgotten.
            erase_contact(session, redis, contact.id)
        return results
