"""Staff answer a group of citizens' questions for a session.

Shared by the dashboard pages and the JSON API. The answer goes through
`bot.participation.questions.answer_group`, which stores it on every question of
the group, queues it to each asker not answered before, writes the audit row
(with the staff's email as actor) and commits.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.dashboard.forms import FormInvalid
from bot.dashboard.text import translate
from bot.models import Commune, Event, Question, StaffUser
from bot.participation.questions import answer_group

ANSWER_MAX = 300
"""Characters of an answer: with the session's name and the question quoted, an SMS
of about three segments, which a basic phone still shows as one message."""


def event_in_commune(session: Session, commune: Commune, event_id: int) -> Event | None:
    """The event if it belongs to `commune` and has ever taken questions, else None."""
    event = session.get(Event, event_id)
    if event is None or event.commune_id != commune.id:
        return None
    has_questions = session.scalar(
        select(Question.id).where(Question.event_id == event.id).limit(1)
    )
    return event if event.accepts_questions or has_questions is not None else None


def answer(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    event: Event,
    cluster_id: int,
    values: Mapping[str, object],
) -> int:
    """Answer group `cluster_id` of `event` with `values["answer"]`; how many citizens were sent it.

    Committed when it returns. Citizens already answered in this group are not
    sent a corrected answer again; erased and opted-out askers get nothing.
    """
    raw = values.get("answer")
    text = " ".join(raw.split()) if isinstance(raw, str) else ""
    if not text:
        raise FormInvalid({"answer": translate("dashboard.participation.questions.answer_missing")})
    if len(text) > ANSWER_MAX:
        raise FormInvalid(
            {
                "answer": translate(
                    "dashboard.participation.questions.answer_too_long", max=ANSWER_MAX
                )
            }
        )
    if event.commune_id != commune.id:
        raise FormInvalid({"group": translate("dashboard.participation.questions.unknown_group")})
    try:
        return answer_group(session, event.id, cluster_id, text, actor=staff.email)
    except LookupError:
        session.rollback()
        raise FormInvalid(
            {"group": translate("dashboard.participation.questions.unknown_group")}
        ) from None
