"""Citizens' questions for an accountability session or a council session open to them.

Similar questions are grouped so the mayor sees the most-asked first, with counts. A new
question is compared with the FIRST question of each group of its session (never with
every member: comparing with members would let a group drift, one chained rephrasing
at a time, to questions unlike its first). It joins the closest group when the score
reaches CLUSTER_THRESHOLD, else it starts its own. The group is decided once, when the
question is stored, and never changes: counts shown to staff do not reshuffle, and
`similarity` keeps the score that explains each assignment.

After the session, staff answer a group; every citizen who asked receives the answer
once, on the channel they used (SMS for USSD users).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot import audit
from bot.content.cache import UPCOMING_STATUSES
from bot.db import write_lock
from bot.i18n import format_date, t
from bot.matching import fold
from bot.models import Commune, Contact, Event, Question
from bot.models.enums import Channel
from bot.models.types import utcnow
from bot.outbox import notify

CLUSTER_THRESHOLD = 75
"""Score (rapidfuzz token_set_ratio, 0-100) from which a question joins a group.

Chosen on some thirty questions as Cotonou citizens write them (roads of one quartier,
blocked drains, water cuts, Dantokpa market, the budget, street lights, schools), each
rephrased a few ways, and inserted in 50 random orders:
- rephrasings of one question score 75-100 ("caniveaux bouchés Zogbo" is contained in
  "Pourquoi les caniveaux de Zogbo sont bouchés ?": 100), except synonyms that no
  string measure sees ("lampadaires" / "éclairage public": about 60);
- different questions score under 60, except those sharing both place and subject:
  "taxes du marché Dantokpa" against "reconstruction du marché Dantokpa" scores 68-74.
At 70 those two are merged in about one order in three; at 75 they stay apart. Merging
is the costlier mistake, since every asker in a group receives the group's answer: a
question merged wrongly gets someone else's answer, one split wrongly only shows as a
second, smaller group.
"""

MAX_LENGTH = 500
"""Characters kept of a question: enough for a WhatsApp question, cheap to store."""

QUOTE_LENGTH = 60
"""Characters of the question quoted back with the answer (an SMS has little room)."""

# Words that say nothing about what is asked: French and English function words, the
# question words every question has, and how citizens address the mairie.
STOP_WORDS = frozenset(
    {
        "a", "au", "aux", "avec", "ce", "ces", "cet", "cette", "c", "ca", "cela", "ceci", "d",
        "dans", "de", "des", "du", "elle", "elles", "en", "et", "il", "ils", "j", "je", "l", "la",
        "le", "les", "leur", "leurs", "lui", "m", "ma", "mais", "me", "meme", "mes", "moi", "mon",
        "n", "ne", "nos", "notre", "nous", "on", "ou", "par", "pas", "pour", "qu", "que", "qui",
        "s", "sa", "se", "ses", "si", "son", "sur", "t", "ta", "te", "tes", "toi", "ton", "tu",
        "un", "une", "vos", "votre", "vous", "y", "est", "sont", "etre", "ete", "sera", "seront",
        "ont", "avez", "avons", "avoir", "aura", "auront", "fait", "faire", "va", "vont", "vais",
        "vas", "aller", "allez", "faut", "doit", "doivent", "peut", "peuvent", "plus", "tres",
        "bien", "aussi", "encore", "deja", "toujours", "donc", "alors", "quand", "quoi", "comment",
        "pourquoi", "quel", "quelle", "quels", "quelles", "combien", "monsieur", "madame", "maire",
        "mairie", "commune", "svp", "stp", "merci", "bonjour", "bonsoir", "sil", "plait", "an",
        "and", "are", "as", "at", "be", "by", "do", "does", "did", "for", "from", "has", "have",
        "how", "i", "in", "is", "it", "its", "my", "of", "or", "our", "please", "that", "the",
        "this", "to", "was", "were", "we", "what", "when", "where", "which", "who", "why", "will",
        "with", "would", "you", "your", "can", "could", "should", "mayor", "hello", "dear", "mr",
        "mrs"
    }
)  # fmt: skip


class QuestionsClosed(ValueError):
    """The session takes no questions (any more): held, cancelled, started or not open."""


@dataclass(frozen=True)
class QuestionGroup:
    cluster_id: int
    text: str  # the group's first question
    count: int
    # Every question of the group has the answer; a question that joined after the
    # answer was sent makes the group unanswered again, until staff answer it again.
    answered: bool
    answer: str | None


def open_events(session: Session, commune_slug: str, now: datetime | None = None) -> list[Event]:
    """The commune's sessions collecting questions now, soonest first."""
    now = now or utcnow()
    query = (
        select(Event)
        .join(Commune, Event.commune_id == Commune.id)
        .where(
            Commune.slug == commune_slug,
            Event.accepts_questions.is_(True),
            Event.status.in_(UPCOMING_STATUSES),
            Event.starts_at > now,
        )
        .order_by(Event.starts_at, Event.id)
    )
    return list(session.scalars(query))


def is_open(event: Event, now: datetime | None = None) -> bool:
    return (
        event.accepts_questions
        and event.status in UPCOMING_STATUSES
        and event.starts_at > (now or utcnow())
    )


def event_label(event: Event, lang: str | None) -> str:
    """ "Reddition de comptes du samedi 20 février 2027 (exemple)".

    The kind and the date, not the title: titles run to 70 characters, which a USSD
    screen cannot show with a prompt; the date tells two sessions apart. Sample
    content says so from its flag, as every reply built from it must.
    """
    key = "question.event_label_sample" if event.is_sample else "question.event_label"
    kind = t(f"question.kind.{event.type.value}", lang)
    return t(key, lang, kind=kind, date=format_date(event.starts_at, lang))


def quoted(text: str) -> str:
    """A question cut short for quoting it back in a reply or an SMS."""
    return textwrap.shorten(text, QUOTE_LENGTH, placeholder="...")


def comparable(text: str) -> str:
    """The words of a question that say what it asks: folded, no stop words, and a
    crude singular ("caniveaux" and "caniveau", "routes" and "route" are one word)."""
    words = [word for word in fold(text).split() if word not in STOP_WORDS]
    return " ".join(word[:-1] if len(word) > 3 and word[-1] in "sx" else word for word in words)


def similarity(first: str, other: str) -> int:
    return round(fuzz.token_set_ratio(comparable(first), comparable(other)))


_QUESTIONS = Question.__table__
_INSERT = {
    name: dialect.insert(_QUESTIONS)
    .on_conflict_do_nothing(index_elements=["draft_id"])
    .returning(_QUESTIONS.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}


@contextmanager
def _event_locked(session: Session, event_id: int) -> Iterator[Event | None]:
    """The event, locked until what the block wrote is committed.

    Grouping reads the groups then inserts: two questions for one session stored at
    once would both miss the other. PostgreSQL locks the event's row (FOR UPDATE);
    SQLite, which ignores FOR UPDATE, takes the process's write lock. The commit comes
    before the lock is released, so the next question's grouping sees this one.
    """
    with write_lock(session):
        event = session.scalar(
            select(Event)
            .where(Event.id == event_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        yield event
        session.commit()


def _by_draft(session: Session, draft_id: str) -> Question | None:
    return session.scalar(select(Question).where(Question.draft_id == draft_id))


def _cluster_for(session: Session, event_id: int, text: str) -> tuple[int | None, int]:
    """(group, score) of the closest group's first question; (None, 100) for a new group.

    On equal scores the oldest group wins, so the choice does not depend on row order.
    """
    firsts = session.execute(
        select(Question.id, Question.text)
        .where(Question.event_id == event_id, Question.cluster_id == Question.id)
        .order_by(Question.id)
    )
    best_id, best_score = None, -1
    for first_id, first_text in firsts:
        score = similarity(first_text, text)
        if score > best_score:
            best_id, best_score = first_id, score
    if best_id is None or best_score < CLUSTER_THRESHOLD:
        return None, 100
    return best_id, best_score


def cleaned(text: str) -> str:
    """The question as stored: whitespace collapsed, at most MAX_LENGTH characters."""
    return " ".join(text.split())[:MAX_LENGTH].rstrip()


def ask(
    session: Session,
    event_id: int,
    contact_id: int | None,
    channel: Channel,
    text: str,
    draft_id: str,
) -> Question:
    """Store a question (committed) and place it in its group; once per draft.

    The same draft submitted twice, even at the same time from two processes, is one
    question: the second submission returns the first's row (draft_id is unique).
    Raises ValueError for an empty question, QuestionsClosed when the session no longer
    takes questions.
    """
    text = cleaned(text)
    if not text:
        raise ValueError("a question needs some text")
    with _event_locked(session, event_id) as event:
        existing = _by_draft(session, draft_id)
        if existing is not None:
            return existing
        if event is None or not is_open(event):
            raise QuestionsClosed(f"event {event_id} takes no questions")
        cluster_id, score = _cluster_for(session, event_id, text)
        connection = session.connection()
        row = {
            "event_id": event_id,
            "contact_id": contact_id,
            "channel": channel,
            "text": text,
            "cluster_id": cluster_id,
            "similarity": score,
            "draft_id": draft_id,
        }
        question_id = connection.execute(_INSERT[connection.dialect.name], row).scalar()
        if question_id is None:
            # Only a draft reused for another session gets here: it keeps its question.
            found = _by_draft(session, draft_id)
            assert found is not None
            return found
        if cluster_id is None:
            session.execute(
                update(Question).where(Question.id == question_id).values(cluster_id=question_id)
            )
    question = session.get(Question, question_id)
    assert question is not None
    return question


def question_groups(session: Session, event_id: int) -> list[QuestionGroup]:
    """The session's groups, most-asked first; on equal counts the oldest group first."""
    members: dict[int, list[Question]] = {}
    questions = session.scalars(
        select(Question).where(Question.event_id == event_id).order_by(Question.id)
    )
    for question in questions:
        members.setdefault(question.cluster_id or question.id, []).append(question)
    groups = []
    for cluster_id, group in members.items():
        answered = [q for q in group if q.answered_at is not None]
        latest = max(answered, key=lambda q: q.answered_at) if answered else None
        groups.append(
            QuestionGroup(
                cluster_id=cluster_id,
                text=group[0].text,
                count=len(group),
                answered=len(answered) == len(group),
                answer=latest.answer if latest else None,
            )
        )
    return sorted(groups, key=lambda g: (-g.count, g.cluster_id))


def answer_group(
    session: Session,
    event_id: int,
    cluster_id: int,
    answer_text: str,
    *,
    actor: str = "cli",
) -> int:
    """Answer a group (committed) and send the answer to its askers; how many were sent.

    Every question of the group gets the answer. Only askers not answered before are
    sent it, so answering again (a corrected text, or newcomers to the group) never
    reaches the same citizen twice. Erased and opted-out askers get nothing.
    `actor` names who answered in the audit log.
    """
    answer = answer_text.strip()
    if not answer:
        raise ValueError("an answer needs some text")
    with _event_locked(session, event_id) as event:
        if event is None:
            raise LookupError(f"no event {event_id}")
        questions = session.scalars(
            select(Question)
            .where(Question.event_id == event_id, Question.cluster_id == cluster_id)
            .order_by(Question.id)
            .execution_options(populate_existing=True)
        ).all()
        if not questions:
            raise LookupError(f"no question group {cluster_id} for event {event_id}")
        now = utcnow()
        sent = 0
        for question in questions:
            first_answer = question.answered_at is None
            question.answer, question.answered_at = answer, now
            if first_answer and _send_answer(session, event, question):
                sent += 1
        after = {"event_id": event_id, "answer": answer, "sent": sent}
        audit.record(
            session,
            None,
            "answer",
            "question_group",
            cluster_id,
            event.commune_id,
            after=after,
            actor=actor,
        )
    return sent


def _send_answer(session: Session, event: Event, question: Question) -> bool:
    contact = session.get(Contact, question.contact_id) if question.contact_id else None
    if contact is None:
        return False
    text = t(
        "question.answer",
        contact.language,
        event=event_label(event, contact.language),
        question=quoted(question.text),
        answer=question.answer,
    )
    return notify(session, contact.id, question.channel, text)
