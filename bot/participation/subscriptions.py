"""Alert subscriptions, each granted with a consent recorded in the ledger.

A citizen subscribes to one topic of one commune ("all" is a topic of its own)
after an explicit OUI to a consent text whose wording is versioned: the ledger
row says what was agreed to, in which words, through which channel and when.
STOP (bot/optout.py) withdraws the consents and deactivates the subscriptions;
subscribing after that takes a new OUI, hence a new ledger row.
"""

from __future__ import annotations

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.db import write_lock
from bot.models import Consent, Contact, Subscription
from bot.models.enums import Channel, Topic
from bot.models.types import utcnow
from bot.outbox import reply_channel

PURPOSE = "alerts"
"""The consent purpose of alert subscriptions."""

WORDING_VERSION = "alerts-2026-11"
"""Bump when the consent text (subscribe.consent in the catalogs) changes meaning."""

_SUBSCRIPTIONS = Subscription.__table__
_DIALECT_INSERT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def wording_version(lang: str) -> str:
    """What the ledger records: the wording's version and the language it was shown in."""
    return f"{WORDING_VERSION}:{lang}"


def alerts_channel(topic: Topic, channel: Channel) -> Channel:
    """Where a subscription's messages go: the weekly digest is an SMS wherever one subscribed."""
    return Channel.SMS if topic is Topic.DIGEST else reply_channel(channel)


def is_subscribed(session: Session, contact_id: int, commune_id: int, topic: Topic) -> bool:
    """True when the contact already receives these alerts (active, and not opted out)."""
    found = session.scalar(
        select(Subscription.id)
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(
            Subscription.contact_id == contact_id,
            Subscription.commune_id == commune_id,
            Subscription.topic == topic,
            Subscription.active.is_(True),
            Contact.opted_out_at.is_(None),
        )
    )
    return found is not None


def _activate(dialect: str) -> Insert:
    """Insert the subscription, or reactivate it; RETURNING says whether anything changed.

    The WHERE on the conflict branch leaves an active row alone, so of two OUI
    processed at once only one reactivates it (PostgreSQL re-checks the WHERE on
    the row the other transaction committed) and only that one records a consent.
    """
    insert = _DIALECT_INSERT[dialect](_SUBSCRIPTIONS)
    return insert.on_conflict_do_update(
        index_elements=["contact_id", "commune_id", "topic"],
        set_={
            "active": True,
            "channel": insert.excluded.channel,
            "updated_at": insert.excluded.updated_at,
        },
        where=_SUBSCRIPTIONS.c.active.is_(False),
    ).returning(_SUBSCRIPTIONS.c.id)


def subscribe(
    session: Session, contact_id: int, commune_id: int, topic: Topic, channel: Channel, lang: str
) -> bool:
    """Record an OUI: the subscription and its consent; False when it was already active.

    The consent's channel is the one the citizen answered on; the subscription's
    is where alerts can reach them. A new consent clears an earlier STOP.
    Commits, inside the write lock, so the upsert and the ledger row go together.
    """
    now = utcnow()
    with write_lock(session):
        connection = session.connection()
        changed = connection.execute(
            _activate(connection.dialect.name),
            {
                "contact_id": contact_id,
                "commune_id": commune_id,
                "topic": topic,
                "channel": alerts_channel(topic, channel),
                "active": True,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar()
        if changed is not None:
            session.add(
                Consent(
                    contact_id=contact_id,
                    purpose=PURPOSE,
                    channel=channel,
                    wording_version=wording_version(lang),
                    granted_at=now,
                )
            )
            session.execute(
                update(Contact).where(Contact.id == contact_id).values(opted_out_at=None)
            )
        session.commit()
    return changed is not None
