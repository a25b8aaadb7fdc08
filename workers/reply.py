"""Answering an inbound SMS or WhatsApp message, off the webhook's critical path."""

from __future__ import annotations

from bot import conversation, models
from bot.channels.registry import reply_provider
from bot.db import get_session
from bot.engine import message_turn
from bot.i18n import t
from bot.optout import is_stop
from bot.outbox import new_message
from bot.participation.privacy import erase_contact
from bot.redis import get_redis
from workers.context import job_context
from workers.send import deliver

TURN_LOCK_SECONDS = 30
"""Longest a turn may hold its contact's lock, and longest the next one waits for it."""


def handle_inbound(inbound_id: int) -> str:
    """RQ job (queue `high`): build the reply, store it, send it."""
    with job_context():
        session = get_session()
        inbound = session.get(models.InboundMessage, inbound_id)
        if inbound is None or inbound.contact_id is None:
            return "nothing to answer"
        contact = session.get(models.Contact, inbound.contact_id)
        redis = get_redis()
        erase = False
        # Two messages of one citizen taken by two workers at once would both read the
        # same conversation state: one turn at a time per contact.
        with redis.lock(
            f"lock:contact:{contact.id}",
            timeout=TURN_LOCK_SECONDS,
            blocking_timeout=TURN_LOCK_SECONDS,
        ):
            if is_stop(inbound.text):
                # The webhook already opted out; the flow the citizen was in ends too.
                conversation.forget(redis, inbound.channel, str(contact.id))
                texts = [t("optout.confirmed", contact.language)]
            else:
                outcome = message_turn(
                    session,
                    redis,
                    contact.id,
                    inbound.channel,
                    inbound.text,
                    tuple(inbound.media or ()),
                    inbound.location,
                )
                texts, erase = outcome.texts, outcome.erase
                if outcome.private:
                    # The poll keeps the answer unlinkable; the message must not link it back.
                    inbound.text = ""
            provider = reply_provider(inbound.channel, inbound.provider)
            rows = [
                new_message(session, contact, inbound.channel, provider, text) for text in texts
            ]
            session.commit()
        results = "; ".join(deliver(row.id) for row in rows)
        if erase:
            # Only now: the confirmation had to reach the number before it is forgotten.
            erase_contact(session, redis, contact.id)
        return results
