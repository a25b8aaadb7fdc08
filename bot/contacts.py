"""Finding or creating the contact behind a phone number, safely under concurrency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import Contact
from bot.models.enums import Channel


def contact_id_for(session: Session, phone: str, channel: Channel) -> int:
    """The id of the contact of `phone`, created on first contact (language unknown).

    Two first messages from one number can arrive at once on two web processes:
    INSERT ... ON CONFLICT DO NOTHING lets both through, and the loser reads
    the winner's row.
    """
    find = select(Contact.id).where(Contact.phone_e164 == phone)
    contact_id = session.scalar(find)
    if contact_id is not None:
        return contact_id
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    created = session.scalar(
        dialect.insert(Contact)
        .values(phone_e164=phone, preferred_channel=channel)
        .on_conflict_do_nothing(index_elements=["phone_e164"])
        .returning(Contact.id)
    )
    return created if created is not None else session.scalars(find).one()


def contact_for(session: Session, phone: str, channel: Channel) -> Contact:
    contact = session.get(Contact, contact_id_for(session, phone, channel))
    assert contact is not None
    return contact
