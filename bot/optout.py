"""Opting out: STOP is obeyed at once, on every channel, and recorded in the ledger."""

from __future__ import annotations

import logging
import re
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import Consent, Contact, Subscription
from bot.models.enums import Channel
from bot.models.types import utcnow

# The whole message, case- and accent-folded; Twilio's standard words are
# included because Twilio obeys them itself on its numbers anyway.
STOP_WORDS = frozenset({"stop", "stopall", "arret", "arreter", "unsubscribe", "desabonner"})

_PUNCTUATION = re.compile(r"[^\w]+")
log = logging.getLogger(__name__)


def is_stop(text: str) -> bool:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _PUNCTUATION.sub("", folded) in STOP_WORDS


def opt_out(session: Session, contact: Contact, channel: Channel | None, reason: str) -> bool:
    """Mark the contact opted out; True when this changed anything.

    Consents are withdrawn in place (the ledger keeps the grant and its
    withdrawal); subscriptions are kept but deactivated, so the citizen can see
    and restore them later.
    """
    if contact.opted_out_at is not None:
        return False
    now = utcnow()
    contact.opted_out_at = now
    session.execute(
        update(Consent)
        .where(Consent.contact_id == contact.id, Consent.withdrawn_at.is_(None))
        .values(withdrawn_at=now)
    )
    session.execute(
        update(Subscription).where(Subscription.contact_id == contact.id).values(active=False)
    )
    log.info(
        "contact opted out",
        extra={"fields": {"phone": contact.phone_e164, "channel": channel, "reason": reason}},
    )
    return True


def opt_out_phone(session: Session, phone: str, channel: Channel | None, reason: str) -> bool:
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == phone))
    return opt_out(session, contact, channel, reason) if contact else False
