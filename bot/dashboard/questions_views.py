"""Questions for sessions: a commune's sessions taking questions, and each one's groups.

Groups of similar questions come most-asked first (`question_groups`), with a
few of the ways citizens wrote them, so the mayor answers what most people ask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.dashboard import nav, questions_edit
from bot.dashboard.blueprint import bp
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.db import get_session
from bot.models import Commune, Event, Question
from bot.participation.questions import QuestionGroup, question_groups

EXAMPLES = 3
"""Other wordings shown under a group's first question."""

nav.register("dashboard.questions_list", "dashboard.participation.questions.menu", 50)


@dataclass(frozen=True)
class EventSummary:
    event: Event
    questions: int
    groups: int
    unanswered: int


def events_with_questions(session: Session, commune: Commune) -> list[EventSummary]:
    """The commune's sessions that take (or took) questions, latest first, with counts."""
    asked = select(Question.event_id)
    events = session.scalars(
        select(Event)
        .where(
            Event.commune_id == commune.id,
            or_(Event.accepts_questions.is_(True), Event.id.in_(asked)),
        )
        .order_by(Event.starts_at.desc(), Event.id.desc())
    ).all()
    summaries = []
    for event in events:
        groups = question_groups(session, event.id)
        summaries.append(
            EventSummary(
                event=event,
                questions=sum(group.count for group in groups),
                groups=len(groups),
                unanswered=sum(1 for group in groups if not group.answered),
            )
        )
    return summaries


def examples(session: Session, event_id: int, groups: list[QuestionGroup]) -> dict[int, list[str]]:
    """Group -> up to EXAMPLES other wordings than its first question, oldest first."""
    found: dict[int, list[str]] = {group.cluster_id: [] for group in groups}
    firsts = {group.cluster_id: group.text for group in groups}
    rows = session.execute(
        select(Question.cluster_id, Question.text)
        .where(Question.event_id == event_id, Question.cluster_id.is_not(None))
        .order_by(Question.id)
    )
    for cluster_id, text in rows:
        shown = found.get(cluster_id)
        if shown is not None and len(shown) < EXAMPLES and text not in (firsts[cluster_id], *shown):
            shown.append(text)
    return found


@bp.get("/<commune>/questions")
@commune_page(Capability.READ)
def questions_list(commune: Commune):
    summaries = events_with_questions(get_session(), commune)
    return render_template("dashboard/questions/list.html", summaries=summaries)


def _event_or_404(session: Session, commune: Commune, event_id: int) -> Event:
    event = questions_edit.event_in_commune(session, commune, event_id)
    if event is None:
        abort(404)
    return event


def _event_page(
    session: Session,
    event: Event,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    group_id: int | None = None,
):
    groups = question_groups(session, event.id)
    sent = request.args.get("sent", "")
    done = request.args.get("done") == "answered" and sent.isdigit()
    page = render_template(
        "dashboard/questions/event.html",
        event=event,
        groups=groups,
        total=session.scalar(select(func.count()).where(Question.event_id == event.id)),
        examples=examples(session, event.id, groups),
        answer_max=questions_edit.ANSWER_MAX,
        errors=errors or {},
        values=values or {},
        error_group=group_id,
        sent=int(sent) if done else None,
    )
    return page, 422 if errors else 200


@bp.get("/<commune>/questions/<int:event_id>")
@commune_page(Capability.READ)
def questions_event(commune: Commune, event_id: int):
    session = get_session()
    return _event_page(session, _event_or_404(session, commune, event_id))


@bp.post("/<commune>/questions/<int:event_id>/groups/<int:cluster_id>/answer")
@commune_page(Capability.HANDLE_FEEDBACK)
def questions_answer(commune: Commune, event_id: int, cluster_id: int):
    session = get_session()
    event = _event_or_404(session, commune, event_id)
    if cluster_id not in {group.cluster_id for group in question_groups(session, event.id)}:
        abort(404)
    try:
        sent = questions_edit.answer(session, g.staff, commune, event, cluster_id, request.form)
    except FormInvalid as invalid:
        return _event_page(session, event, invalid.errors, request.form, cluster_id)
    target = url_for(
        "dashboard.questions_event",
        commune=commune.slug,
        event_id=event.id,
        done="answered",
        sent=sent,
        _anchor=f"group-{cluster_id}",
    )
    return redirect(target, 303)
