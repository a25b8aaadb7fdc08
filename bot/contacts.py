"""Finding or creating the contact behind a phone number, safely under concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Insert, bindparam, select
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
    """The id of the contact of `phone`, created on first contact (language unknown)."""
    connection = session.connection()
    contact_id = connection.execute(_FIND, {"phone": phone}).scalar()
    return contact_id if contact_id is not None else _create(connection, phone, channel)


def _create(connection: Connection, phone: str, channel: Channel) -> int:
    """Insert the contact of `phone`; its id, whoever inserted it.

    Two first messages from one number can arrive at once on two web processes:
    INSERT ... ON CONFLICT DO NOTHING lets both through, and the loser reads
    the winner's row.
    """
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

    id: int | None  # None: a number not in the database yet (bot/ussd.py)
    language: str | None
    commune_slug: str | None


_PROFILE = select(Contact.id, Contact.language, Commune.slug).outerjoin(
    Commune, Commune.id == Contact.commune_id
)
_BY_ID = _PROFILE.where(Contact.id == bindparam("key"))
_BY_PHONE = _PROFILE.where(Contact.phone_e164 == bindparam("key"))


def profile(session: Session, contact_id: int) -> Profile:
    return Profile(*session.execute(_BY_ID, {"key": contact_id}).one())


def find_profile(session: Session, phone: str) -> Profile | None:
    """The profile of `phone`, or None for a number never seen: nothing is written."""
    return _profile_on(session.connection(), phone)


def read_profile(autocommit: Engine, phone: str) -> Profile | None:
    """`find_profile` on a connection of its own, outside any transaction.

    The first hop of every USSD session reads it, and nothing else of the hop
    needs the database: a session and its transaction would cost more than
    the query.
    """
    with autocommit.connect() as connection:
        return _profile_on(connection, phone)


def _profile_on(connection: Connection, phone: str) -> Profile | None:
    # On the connection, not through the ORM: the ORM's result machinery costs
    # more than the query.
    row = connection.execute(_BY_PHONE, {"key": phone}).first()
    return Profile(*row) if row is not None else None


def profile_for(session: Session, phone: str, channel: Channel) -> Profile:
    """The profile of `phone`, its contact created on first contact."""
    found = find_profile(session, phone)
    if found is not None:
        return found
    return Profile(_create(session.connection(), phone, channel), None, None)


def _upsert_commune(dialect: Any) -> Insert:
    insert = dialect.insert(_CONTACTS)
    return insert.on_conflict_do_update(
        index_elements=["phone_e164"], set_={"commune_id": insert.excluded.commune_id}
    )


_STORE_COMMUNE = {"postgresql": _upsert_commune(postgresql), "sqlite": _upsert_commune(sqlite)}
_WITH_COMMUNE = {name: upsert.returning(_CONTACTS.c.id) for name, upsert in _STORE_COMMUNE.items()}


def store_commune(autocommit: Engine, phone: str, channel: Channel, commune_id: int) -> None:
    """`create_with_commune` as one statement committed by itself, outside any session.

    Choosing the commune is the one write of the USSD walk every citizen
    makes. Alone in its transaction, the statement takes SQLite's write lock
    and commits within one call into SQLite, so no other writer ever waits on
    Python code; the contact's id is read when a later step needs it
    (Context.contact_id).
    """
    with autocommit.connect() as connection:
        values = {"phone_e164": phone, "preferred_channel": channel, "commune_id": commune_id}
        connection.execute(_STORE_COMMUNE[connection.dialect.name], values)


def create_with_commune(session: Session, phone: str, channel: Channel, commune_id: int) -> int:
    """The contact of `phone` with its commune, in one statement whether it exists or not.

    A USSD caller's first choice is often the commune: creating the contact
    then, with it, is one write where creating it at the dial was two.
    """
    connection = session.connection()
    values = {"phone_e164": phone, "preferred_channel": channel, "commune_id": commune_id}
    return connection.execute(_WITH_COMMUNE[connection.dialect.name], values).scalar_one()
