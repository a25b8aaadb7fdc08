"""Feedback tickets, after Open311 and FixMyStreet: filed once, followed by reference.

A ticket gets a public reference (`AV-7K2P`) from an alphabet without
look-alike characters, so it can be read aloud and typed on a keypad. Its life
is `received → acknowledged → in_progress → resolved | rejected | duplicate`,
each change recorded with an optional public note and sent to the citizen on
the channel they used (SMS for USSD users). A resolved ticket asks whether the
problem is really solved, and the answer is kept.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import conversation
from bot.content.cache import commune_id
from bot.conversation import State
from bot.db import write_lock
from bot.i18n import t
from bot.models import Contact, Feedback, FeedbackUpdate
from bot.models.enums import Channel, FeedbackCategory, FeedbackStatus, Satisfaction
from bot.models.types import utcnow
from bot.outbox import notify, reply_channel
from bot.redis import get_redis

log = logging.getLogger(__name__)

REF_PREFIX = "AV-"
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""No 0/O, 1/I/L: a reference read over the phone or from a screen is typed right."""
REF_LENGTH = 4  # 31**4 = 923,521 references; a collision is retried
MAX_TEXT = 1000
MAX_QUARTIER = 120
SATISFACTION_STEP = "feedback.satisfaction"
SATISFACTION_TTL_SECONDS = 7 * 24 * 3600
"""How long the "Réglé ?" question waits for its answer after a ticket is resolved."""

FINAL = frozenset({FeedbackStatus.RESOLVED, FeedbackStatus.REJECTED, FeedbackStatus.DUPLICATE})
ALLOWED: dict[FeedbackStatus, frozenset[FeedbackStatus]] = {
    FeedbackStatus.RECEIVED: frozenset(FeedbackStatus) - {FeedbackStatus.RECEIVED},
    FeedbackStatus.ACKNOWLEDGED: FINAL | {FeedbackStatus.IN_PROGRESS},
    FeedbackStatus.IN_PROGRESS: FINAL,
    # Reopened when the citizen says it is not solved, or the mairie finds it is not.
    FeedbackStatus.RESOLVED: frozenset({FeedbackStatus.IN_PROGRESS}),
    FeedbackStatus.REJECTED: frozenset({FeedbackStatus.IN_PROGRESS}),
    FeedbackStatus.DUPLICATE: frozenset({FeedbackStatus.IN_PROGRESS}),
}
"""Status changes a mairie can make; anything else is refused with a reason."""

_REF_IN_TEXT = re.compile(r"\bAV[\s-]*([0-9A-Z]{4})\b|\b([0-9A-Z]{4})\b", re.IGNORECASE)

_CATEGORY_TEXT: dict[FeedbackCategory, str] = {
    FeedbackCategory.VOIRIE: "route routes rue rues pave paves chaussee pont ponts goudron voie"
    " voies trou trous nid nids",
    FeedbackCategory.ASSAINISSEMENT: "ordure ordures dechet dechets poubelle poubelles caniveau"
    " caniveaux inondation inondations inonde egout egouts latrine latrines insalubrite salubrite",
    FeedbackCategory.EAU: "eau robinet robinets soneb forage forages fontaine",
    FeedbackCategory.ELECTRICITE: "lampadaire lampadaires eclairage electricite courant sbee"
    " lumiere poteau",
    FeedbackCategory.SANTE: "sante hopital hopitaux dispensaire maternite medecin infirmier",
    FeedbackCategory.EDUCATION: "ecole ecoles college lycee enseignant classe",
    FeedbackCategory.MARCHES: "commercant commercants etal etals dantokpa",
    FeedbackCategory.ETAT_CIVIL: "naissance mariage deces",
    FeedbackCategory.SECURITE: "vol vols voleur voleurs agression agressions bandit bandits"
    " insecurite",
}
"""Words that name a category without doubt. "marche" is left out on purpose: in
"ça ne marche pas" it is a verb, not a market."""
_CATEGORY_WORDS = {category: frozenset(text.split()) for category, text in _CATEGORY_TEXT.items()}


class LimitReached(Exception):
    """The number filed FEEDBACK_DAILY_LIMIT tickets in the last 24 hours."""


class RefusedChange(ValueError):
    """A status change the lifecycle does not allow."""


def guess_category(folded_words: list[str]) -> FeedbackCategory | None:
    """The one category the description names plainly, or None when none or several."""
    found = {c for c, words in _CATEGORY_WORDS.items() if words.intersection(folded_words)}
    return found.pop() if len(found) == 1 else None


def new_ref() -> str:
    return REF_PREFIX + "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


def find_ref(text: str) -> str | None:
    """A reference as typed ("av 7k2p", "AV-7K2P", "7K2P"), normalised; None when absent."""
    for match in _REF_IN_TEXT.finditer(text):
        code = (match.group(1) or match.group(2)).upper()
        if all(c in REF_ALPHABET for c in code):
            return REF_PREFIX + code
    return None


def filed_since(session: Session, contact_id: int, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Feedback)
            .where(Feedback.contact_id == contact_id, Feedback.created_at >= since)
        )
        or 0
    )


def can_file(session: Session, contact_id: int) -> bool:
    limit = current_app.config["FEEDBACK_DAILY_LIMIT"]
    return filed_since(session, contact_id, utcnow() - timedelta(days=1)) < limit


@dataclass
class Draft:
    """What the citizen told us, as the feedback flow gathers it."""

    commune_slug: str
    contact_id: int
    channel: Channel
    category: FeedbackCategory
    text: str
    draft_id: str
    area_id: int | None = None
    quartier_text: str | None = None
    anonymous: bool = False
    media: list[dict[str, Any]] = field(default_factory=list)
    location: dict[str, Any] | None = None


_FEEDBACK = Feedback.__table__
_INSERT = {
    name: dialect.insert(_FEEDBACK).on_conflict_do_nothing().returning(_FEEDBACK.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


def file(session: Session, draft: Draft) -> tuple[Feedback, bool]:
    """Store the ticket once per draft; (ticket, created).

    The same draft submitted twice at once (a repeated message, two workers)
    meets the unique draft id: the second insert does nothing and reads the
    first's ticket. A reference already taken is retried with a new one.
    """
    with write_lock(session):
        existing = session.scalar(select(Feedback).where(Feedback.draft_id == draft.draft_id))
        if existing is not None:
            return existing, False
        if not can_file(session, draft.contact_id):
            raise LimitReached
        connection = session.connection()
        now = utcnow()
        while True:
            values = {
                "ref": new_ref(),
                "commune_id": commune_id(session, draft.commune_slug),
                "contact_id": draft.contact_id,
                "channel": draft.channel,
                "category": draft.category,
                "area_id": draft.area_id,
                "quartier_text": draft.quartier_text,
                "text": draft.text[:MAX_TEXT],
                "media": draft.media,
                "location": draft.location,
                "anonymous": draft.anonymous,
                "status": FeedbackStatus.RECEIVED,
                "draft_id": draft.draft_id,
                "created_at": now,
                "updated_at": now,
            }
            inserted = connection.execute(_INSERT[connection.dialect.name], values).scalar()
            if inserted is not None:
                break
            existing = session.scalar(select(Feedback).where(Feedback.draft_id == draft.draft_id))
            if existing is not None:
                return existing, False
        session.add(
            FeedbackUpdate(
                feedback_id=inserted, old_status=None, new_status=FeedbackStatus.RECEIVED
            )
        )
        session.commit()
    ticket = session.get(Feedback, inserted)
    assert ticket is not None
    log.info("feedback filed", extra={"fields": {"ref": ticket.ref, "channel": draft.channel}})
    return ticket, True


def for_author(session: Session, contact_id: int, ref: str) -> Feedback | None:
    """The ticket `ref` only if this contact filed it: no one else learns its content."""
    return session.scalar(
        select(Feedback).where(Feedback.ref == ref, Feedback.contact_id == contact_id)
    )


def recent(session: Session, contact_id: int, limit: int = 3) -> list[Feedback]:
    return list(
        session.scalars(
            select(Feedback)
            .where(Feedback.contact_id == contact_id)
            .order_by(Feedback.id.desc())
            .limit(limit)
        )
    )


def awaits_satisfaction(ticket: Feedback) -> bool:
    return ticket.status is FeedbackStatus.RESOLVED and ticket.satisfaction is None


def change_status(
    session: Session,
    ticket: Feedback,
    new_status: FeedbackStatus,
    note: str | None = None,
    staff_user_id: int | None = None,
) -> FeedbackUpdate:
    """Move a ticket on, record the step, and tell the citizen (once committed)."""
    if new_status not in ALLOWED[ticket.status]:
        raise RefusedChange(f"{ticket.ref}: {ticket.status.value} cannot become {new_status.value}")
    note = " ".join(note.split()) if note else None
    update = FeedbackUpdate(
        feedback_id=ticket.id,
        old_status=ticket.status,
        new_status=new_status,
        public_note=note or None,
        staff_user_id=staff_user_id,
    )
    ticket.status = new_status
    if new_status is not FeedbackStatus.RESOLVED:
        ticket.satisfaction = None
    session.add(update)
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    if contact is not None:
        lang = contact.language
        text = status_text(ticket, note, lang)
        if new_status is FeedbackStatus.RESOLVED:
            text += "\n" + satisfaction_question(lang)
        if notify(session, contact.id, ticket.channel, text) and awaits_satisfaction(ticket):
            ask_satisfaction(contact.id, ticket)
    return update


def status_text(ticket: Feedback, note: str | None, lang: str | None) -> str:
    text = t(
        "feedback.update", lang, ref=ticket.ref, status=t(f"feedback.status.{ticket.status}", lang)
    )
    return f"{text} {note}" if note else text


SATISFACTION_CHOICES = (
    Satisfaction.YES,
    Satisfaction.NO,
    Satisfaction.PARTLY,
    Satisfaction.UNKNOWN,
)


def satisfaction_question(lang: str | None) -> str:
    """ "Réglé ? 1 Oui 2 Non 3 En partie 4 Je ne sais pas": numbered as the step's options."""
    choices = " ".join(
        f"{n} {t(f'feedback.satisfaction.{c}', lang)}"
        for n, c in enumerate(SATISFACTION_CHOICES, 1)
    )
    return f"{t('feedback.satisfaction.question', lang)} {choices}"


def ask_satisfaction(contact_id: int, ticket: Feedback) -> None:
    """Put the citizen's conversation on the question, so a bare "1" answers it."""
    state = State(step=SATISFACTION_STEP, draft={"feedback_id": ticket.id, "ref": ticket.ref})
    channel = reply_channel(ticket.channel)
    conversation.save(get_redis(), channel, str(contact_id), state, ttl=SATISFACTION_TTL_SECONDS)


def record_satisfaction(
    session: Session, contact_id: int, feedback_id: int, value: Satisfaction
) -> Feedback | None:
    """Keep the citizen's verdict on a resolved ticket of theirs; None when it is not one."""
    ticket = session.get(Feedback, feedback_id)
    if (
        ticket is None
        or ticket.contact_id != contact_id
        or ticket.status is not FeedbackStatus.RESOLVED
    ):
        return None
    ticket.satisfaction = value
    session.commit()
    return ticket
