"""Polls, after U-Report: one question, numbered choices, one answer per citizen.

A mairie opens a single-choice poll for its commune with an opening and a
closing time. Citizens answer on any channel and may change their answer until
the poll closes; when it closes, everyone who answered gets the results.

Each answer is stored under a `voter_key`, a keyed hash of poll and contact,
unique per poll: a second answer from the same contact replaces the first
(INSERT .. ON CONFLICT DO UPDATE), so two answers arriving at once can never
leave two rows. For a poll touching political opinion the response keeps no
contact id at all, and exports carry no number, no contact id, no key and only
the day of the answer: nothing in an export links a choice to a number.
Who took part (not what they chose) is kept in `poll_participants`, to send
the results back.

Closing is scheduled on RQ at the closing time (`schedule_close`, run by the
worker's scheduler); `flask poll close` closes earlier, or closes a poll whose
scheduled job was lost. Answers stop at the closing time either way
(`answerable` reads the clock).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from types import ModuleType

from flask import current_app
from sqlalchemy import Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from bot.content.cache import commune_id
from bot.db import write_lock
from bot.matching import fold
from bot.models import Commune, Contact, Poll, PollOption, PollParticipant, PollResponse
from bot.models.enums import Channel, PollStatus
from bot.models.types import utcnow
from bot.redis import get_queue

MIN_OPTIONS = 2
MAX_OPTIONS = 9
"""One digit per choice: "SONDAGE 2" is never ambiguous, and a USSD screen stays short."""
MAX_LABEL_CHARS = 200  # the poll_options.label column
CLOSE_JOB = "workers.polls.close_poll"
UNKNOWN_AREA = "non précisé"
"""The results bucket of citizens whose arrondissement is not known."""


class UnknownPoll(ValueError):
    """No poll has this id (a job may outlive a deleted poll)."""


def create_poll(
    session: Session,
    commune_slug: str,
    question: str,
    options: list[str],
    closes_at: datetime,
    opens_at: datetime | None = None,
    political: bool = False,
) -> Poll:
    """An open poll, flushed but not committed; ValueError says what is wrong.

    The caller commits, then calls `schedule_close(poll)`: a job queued before
    the commit could run against a poll that a rollback took back.
    """
    commune = commune_id(session, commune_slug)
    if commune is None:
        raise ValueError(f"unknown commune {commune_slug!r}")
    question = " ".join(question.split())
    if not question:
        raise ValueError("the question is empty")
    labels = _checked_labels(options)
    for name, moment in (("closes_at", closes_at), ("opens_at", opens_at)):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"{name} has no time zone; give an aware datetime")
    now = utcnow()
    opens_at = opens_at or now
    if closes_at <= max(opens_at, now):
        raise ValueError("the poll must close after it opens, and in the future")
    poll = Poll(
        commune_id=commune,
        question=question,
        status=PollStatus.OPEN,
        opens_at=opens_at,
        closes_at=closes_at,
        political=political,
        options=[PollOption(position=n, label=label) for n, label in enumerate(labels, 1)],
    )
    session.add(poll)
    session.flush()
    return poll


def _checked_labels(options: list[str]) -> list[str]:
    labels = [" ".join(option.split()) for option in options]
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        raise ValueError(f"a poll has {MIN_OPTIONS} to {MAX_OPTIONS} options, not {len(labels)}")
    if not all(labels):
        raise ValueError("an option label is empty")
    too_long = [label for label in labels if len(label) > MAX_LABEL_CHARS]
    if too_long:
        raise ValueError(f"option longer than {MAX_LABEL_CHARS} characters: {too_long[0][:40]}")
    # A text answer is matched against the labels: two alike could never be told apart.
    if len({fold(label) for label in labels}) < len(labels):
        raise ValueError("two options have the same label")
    return labels


def schedule_close(poll: Poll) -> None:
    """Queue the closing job at the poll's closing time (the worker's scheduler runs it)."""
    assert poll.closes_at is not None
    get_queue("default").enqueue_at(poll.closes_at, CLOSE_JOB, poll.id)


def answerable(poll: Poll, now: datetime) -> bool:
    opened = poll.opens_at is None or poll.opens_at <= now
    return (
        poll.status == PollStatus.OPEN
        and opened
        and (poll.closes_at is None or now < poll.closes_at)
    )


def open_polls(session: Session, commune_slug: str, now: datetime | None = None) -> list[Poll]:
    """The polls of a commune that take answers now, closing soonest first."""
    now = now or utcnow()
    return list(
        session.scalars(
            select(Poll)
            .join(Commune, Commune.id == Poll.commune_id)
            .where(
                Commune.slug == commune_slug,
                Poll.status == PollStatus.OPEN,
                Poll.opens_at <= now,
                Poll.closes_at > now,
            )
            .options(selectinload(Poll.options))
            .order_by(Poll.closes_at, Poll.id)
        )
    )


def get_poll(session: Session, poll_id: int) -> Poll:
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise UnknownPoll(f"no poll {poll_id}")
    return poll


def voter_key(poll_id: int, contact_id: int) -> str:
    """HMAC-SHA256 of poll and contact under the app's SECRET_KEY, in hex.

    Without the key, a response cannot be traced to a contact from the data
    alone (the key is per poll, so keys do not link one citizen across polls).
    Changing SECRET_KEY while a political poll is open gives every citizen a
    new key: each could then answer that poll once more.
    """
    secret = current_app.config["SECRET_KEY"]
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{poll_id}:{contact_id}".encode(), hashlib.sha256).hexdigest()


_RESPONSES = PollResponse.__table__
_PARTICIPANTS = PollParticipant.__table__
_DIALECTS = (("postgresql", postgresql), ("sqlite", sqlite))


def _upsert_response(dialect: ModuleType) -> Insert:
    """The answer, or the new choice replacing the voter's previous answer."""
    insert = dialect.insert(_RESPONSES)
    changed = ("option_id", "channel", "responded_at")
    return insert.on_conflict_do_update(
        index_elements=["poll_id", "voter_key"],
        set_={column: insert.excluded[column] for column in changed},
    )


_UPSERT_RESPONSE = {name: _upsert_response(dialect) for name, dialect in _DIALECTS}
_ADD_PARTICIPANT = {
    name: dialect.insert(_PARTICIPANTS).on_conflict_do_nothing(
        index_elements=["poll_id", "contact_id"]
    )
    for name, dialect in _DIALECTS
}


def current_choice(session: Session, poll_id: int, contact_id: int) -> PollOption | None:
    """The option the contact chose in this poll so far, if any."""
    return session.scalar(
        select(PollOption)
        .join(PollResponse, PollResponse.option_id == PollOption.id)
        .where(
            PollResponse.poll_id == poll_id,
            PollResponse.voter_key == voter_key(poll_id, contact_id),
        )
    )


def respond(
    session: Session, poll_id: int, contact_id: int, option_id: int, channel: Channel
) -> bool:
    """Record the contact's choice and commit; True when it replaced a different one.

    ValueError when the poll takes no answers now or the option is not one of
    its options. The unique (poll_id, voter_key) key makes answers sent at the
    same time end as one row, holding the last one written.
    """
    poll = get_poll(session, poll_id)
    now = utcnow()
    if not answerable(poll, now):
        raise ValueError(f"poll {poll_id} takes no answers now")
    if option_id not in {option.id for option in poll.options}:
        raise ValueError(f"option {option_id} is not an option of poll {poll_id}")
    key = voter_key(poll_id, contact_id)
    area_id = session.scalar(select(Contact.area_id).where(Contact.id == contact_id))
    with write_lock(session):
        previous = session.scalar(
            select(PollResponse.option_id).where(
                PollResponse.poll_id == poll_id, PollResponse.voter_key == key
            )
        )
        connection = session.connection()
        dialect = connection.dialect.name
        response = {
            "poll_id": poll_id,
            "option_id": option_id,
            "voter_key": key,
            "contact_id": None if poll.political else contact_id,
            "area_id": area_id,
            "channel": channel,
            "responded_at": now,
        }
        connection.execute(_UPSERT_RESPONSE[dialect], response)
        participant = {"poll_id": poll_id, "contact_id": contact_id, "channel": channel}
        connection.execute(_ADD_PARTICIPANT[dialect], participant)
        session.commit()
    return previous is not None and previous != option_id
