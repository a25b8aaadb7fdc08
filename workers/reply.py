"""Answering an inbound SMS or WhatsApp message, off the webhook's critical path."""

from __future__ import annotations

from bot import models
from bot.channels.registry import reply_provider
from bot.db import get_session
from bot.i18n import t
from bot.optout import is_stop
from bot.outbox import new_message
from bot.welcome import reply_text
from workers.context import job_context
from workers.send import deliver


def handle_inbound(inbound_id: int) -> str:
    """RQ job (queue `high`): build the reply, store it, send it."""
    with job_context():
        session = get_session()
        inbound = session.get(models.InboundMessage, inbound_id)
        if inbound is None or inbound.contact_id is None:
            return "nothing to answer"
        contact = session.get(models.Contact, inbound.contact_id)
        lang = contact.language
        if is_stop(inbound.text):
            text = t("optout.confirmed", lang)
        else:
            text = reply_text(session, inbound.text, lang)
        provider = reply_provider(inbound.channel, inbound.provider)
        row = new_message(session, contact, inbound.channel, provider, text)
        session.commit()
        return deliver(row.id)
