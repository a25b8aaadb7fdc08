"""Finding or creating the contact behind a phone number, safely under concurrency."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.models import Commune, Contact
from bot.models.enums import Channel

_CONTACTS = Contact.__table__
# Built once: the compiled statements are cached, only the phone changes.
_FIND = select(_CONTACTS.c.id).where(_CONTACTS.c.phone_e164 == bindparam("phone"))
_CREATE = {
    name: dialect.insert(_CONTACTS)
    .on_conflict_do_nothing(index_elements=["phone_e164"])
    .returning(_CONTACTS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def contact_id_for(session: Session, phone: str, channel: Channel) -> int:
    """The id of the contact of `phone`, created on first contact (language unknown).

    Two first messages from one number can arrive at once on two web processes:
    INSERT ... ON CONFLICT DO NOTHING lets both through, and the loser reads
    the winner's row.
    """
    connection = session.connection()
    contact_id = connection.execute(_FIND, {"phone": phone}).scalar()
    if contact_id is not None:
        return contact_id
    created = connection.execute(
        _CREATE[connection.dialect.name], {"phone_e164": phone, "preferred_channel": channel}
    ).scalar()
    return (
        created if created is not None else connection.execute(_FIND, {"phone": phone}).scalar_one()
    )


def contact_for(session: Session, phone: str, channel: Channel) -> Contact:
    contact = session.get(Contact, contact_id_for(session, phone, channel))
    assert contact is not None
    return contact


@dataclass(frozen=True)
class Profile:
    """What a conversation needs of a contact, read in one query."""

    id: int
    language: str | None
    commune_slug: str | None


_PROFILE = select(Contact.id, Contact.language, Commune.slug).outerjoin(
    Commune, Commune.id == Contact.commune_id
)
_BY_ID = _PROFILE.where(Contact.id == bindparam("key"))
_BY_PHONE = _PROFILE.where(Contact.phone_e164 == bindparam("key"))


def profile(session: Session, contact_id: int) -> Profile:
    return Profile(*session.execute(_BY_ID, {"key": contact_id}).one())


def profile_for(session: Session, phone: str, channel: Channel) -> Profile:
    """The profile of `phone`, its contact created on first contact."""
    row = session.execute(_BY_PHONE, {"key": phone}).first()
    if row is not None:
        return Profile(*row)
    return Profile(contact_id_for(session, phone, channel), None, None)
