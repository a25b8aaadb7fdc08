"""Poll pages: the list, the creation form, one poll's results, closing, the CSV export.

Results are counts only, by option and by arrondissement: no page and no export
lists responses one by one, so nothing here links a choice to a citizen, and
for a political poll the data itself cannot (bot/participation/polls.py).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from flask import Response, abort, g, redirect, render_template, request, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dashboard import nav, polls_edit
from bot.dashboard.blueprint import bp
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.models import Commune, Poll, PollResponse
from bot.models.enums import PollStatus
from bot.models.types import utcnow
from bot.participation import poll_results, polls
from bot.participation.poll_results import PollResults
from bot.spreadsheet import guard

DONE = ("created", "closed")

nav.register("dashboard.polls_list", "dashboard.participation.polls.menu", 60)


def state(poll: Poll) -> str:
    """scheduled | open | ended (closing time passed, results not sent yet) | closed."""
    now = utcnow()
    if poll.status is PollStatus.CLOSED:
        return "closed"
    if poll.closes_at is not None and poll.closes_at <= now:
        return "ended"
    if poll.opens_at is not None and poll.opens_at > now:
        return "scheduled"
    return "open" if poll.status is PollStatus.OPEN else "draft"


def _poll_or_404(session: Session, commune: Commune, poll_id: int) -> Poll:
    poll = polls_edit.poll_in_commune(session, commune, poll_id)
    if poll is None:
        abort(404)
    return poll


@bp.get("/<commune>/polls")
@commune_page(Capability.READ)
def polls_list(commune: Commune):
    session = get_session()
    rows = session.scalars(
        select(Poll).where(Poll.commune_id == commune.id).order_by(Poll.id.desc())
    ).all()
    counts = dict(
        session.execute(
            select(PollResponse.poll_id, func.count())
            .where(PollResponse.poll_id.in_([poll.id for poll in rows]))
            .group_by(PollResponse.poll_id)
        ).all()
    )
    return render_template(
        "dashboard/polls/list.html",
        polls=rows,
        counts=counts,
        states={poll.id: state(poll) for poll in rows},
    )


def _form_page(errors: dict[str, str] | None = None, values: Mapping[str, str] | None = None):
    page = render_template(
        "dashboard/polls/new.html",
        errors=errors or {},
        values=values or {},
        question_max=polls_edit.QUESTION_MAX,
        min_options=polls.MIN_OPTIONS,
        max_options=polls.MAX_OPTIONS,
    )
    return page, 422 if errors else 200


@bp.get("/<commune>/polls/new")
@commune_page(Capability.EDIT_CONTENT)
def polls_new(commune: Commune):
    return _form_page()


@bp.post("/<commune>/polls")
@commune_page(Capability.EDIT_CONTENT)
def polls_create(commune: Commune):
    session = get_session()
    try:
        poll = polls_edit.create(session, g.staff, commune, request.form)
    except FormInvalid as invalid:
        session.rollback()
        return _form_page(invalid.errors, request.form)
    session.commit()
    target = url_for("dashboard.polls_show", commune=commune.slug, poll_id=poll.id, done="created")
    return redirect(target, 303)


def bar_width(count: int, total: int) -> str:
    """A CSS width in percent with one decimal, from integers (no float noise in HTML)."""
    if total <= 0:
        return "0"
    tenths = (count * 1000 + total // 2) // total
    return f"{tenths // 10}.{tenths % 10}"


def _results_page(
    session: Session, poll: Poll, errors: dict[str, str] | None = None
) -> tuple[str, int]:
    outcome = poll_results.results(session, poll.id)
    done = request.args.get("done")
    page = render_template(
        "dashboard/polls/show.html",
        poll=poll,
        outcome=outcome,
        state=state(poll),
        area_totals={area: sum(counts.values()) for area, counts in outcome.by_area.items()},
        bar_width=bar_width,
        unknown_area=poll_results.UNKNOWN_AREA,
        errors=errors or {},
        done=done if done in DONE else None,
        notified=request.args.get("notified", type=int),
    )
    return page, 422 if errors else 200


@bp.get("/<commune>/polls/<int:poll_id>")
@commune_page(Capability.READ)
def polls_show(commune: Commune, poll_id: int):
    session = get_session()
    return _results_page(session, _poll_or_404(session, commune, poll_id))


@bp.post("/<commune>/polls/<int:poll_id>/close")
@commune_page(Capability.EDIT_CONTENT)
def polls_close(commune: Commune, poll_id: int):
    session = get_session()
    poll = _poll_or_404(session, commune, poll_id)
    try:
        notified = polls_edit.close(session, g.staff, commune, poll)
    except FormInvalid as invalid:
        session.rollback()
        return _results_page(session, _poll_or_404(session, commune, poll_id), invalid.errors)
    session.commit()
    target = url_for(
        "dashboard.polls_show",
        commune=commune.slug,
        poll_id=poll_id,
        done="closed",
        notified=notified,
    )
    return redirect(target, 303)


def results_csv(outcome: PollResults) -> str:
    """Counts per arrondissement and option, then the totals; never a response or a number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["area", "option", "count"])
    unknown = translate("dashboard.participation.polls.unknown_area")
    for area, counts in outcome.by_area.items():
        name = unknown if area == poll_results.UNKNOWN_AREA else area
        for label, count in counts.items():
            writer.writerow([guard(name), guard(label), count])
    total = translate("dashboard.participation.polls.total")
    for option in outcome.options:
        writer.writerow([total, guard(option.label), option.count])
    return buffer.getvalue()


@bp.get("/<commune>/polls/<int:poll_id>/results.csv")
@commune_page(Capability.READ)
def polls_export(commune: Commune, poll_id: int):
    session = get_session()
    poll = _poll_or_404(session, commune, poll_id)
    body = results_csv(poll_results.results(session, poll.id))
    return Response(
        # A BOM, so a spreadsheet opens the accents of "Akpro-Missérété" right.
        "\ufeff" + body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="poll-{poll.id}-results.csv"'},
    )
