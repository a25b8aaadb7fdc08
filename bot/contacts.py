"""Finding or creating the contact behind a phone number, safely under concurrency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import Contact
from bot.models.enums import Channel


def contact_for(session: Session, phone: str, channel: Channel) -> Contact:
    """The contact of `phone`, created on first contact with its language unknown.

    Two first messages from one number can arrive at once on two web processes:
    the insert runs in a savepoint, and the loser reads the winner's row.
    """
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == phone))
    if contact is not None:
        return contact
    try:
        with session.begin_nested():
            contact = Contact(phone_e164=phone, preferred_channel=channel)
            session.add(contact)
    except IntegrityError:
        contact = session.scalar(select(Contact).where(Contact.phone_e164 == phone))
        if contact is None:
            raise
    return contact
