"""Citizen feedback pages: the inbox of a commune's tickets, and one ticket with its actions.

The inbox shows the oldest open tickets first, so nothing waits unseen at the
bottom of a list. Filters come from the query string; a value that means
nothing is ignored rather than refused, as a hand-edited URL should still open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from bot.dashboard import feedback_edit, nav
from bot.dashboard.blueprint import bp
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.db import get_session
from bot.models import Area, Commune, Contact, Feedback, StaffUser
from bot.models.enums import AreaKind, FeedbackCategory, FeedbackStatus
from bot.models.types import utcnow
from bot.participation.feedback import FINAL
from bot.phone import mask

PAGE_SIZE = 50
OPEN = "open"
AGES: dict[str, tuple[int | None, int | None]] = {
    "lt2": (None, 2),
    "2to7": (2, 7),
    "gt7": (7, None),
    "gt30": (30, None),
}
"""Age filter -> (at least, under) this many days since the ticket was filed."""
ASSIGNED = ("me", "nobody", "someone")
DONE = ("assigned", "status", "merged")

nav.register("dashboard.feedback_list", "dashboard.participation.feedback.menu", 40)


@dataclass(frozen=True)
class Filters:
    status: str = OPEN
    category: str = ""
    area: str = ""
    age: str = ""
    assigned: str = ""

    def args(self, **changes: str) -> dict[str, str]:
        """The query string of this view with `changes`, empty filters left out."""
        values = {**self.__dict__, **changes}
        return {name: value for name, value in values.items() if value}


def read_filters(args: Mapping[str, str], arrondissements: list[Area]) -> Filters:
    """The filters in `args` that name something real; the rest is dropped."""
    status = args.get("status", OPEN)
    statuses = {s.value for s in FeedbackStatus} | {OPEN, "all"}
    category = args.get("category", "")
    area = args.get("area", "")
    return Filters(
        status=status if status in statuses else OPEN,
        category=category if category in {c.value for c in FeedbackCategory} else "",
        area=area if area in {str(a.id) for a in arrondissements} else "",
        age=args.get("age", "") if args.get("age") in AGES else "",
        assigned=args.get("assigned", "") if args.get("assigned") in ASSIGNED else "",
    )


def arrondissements(session: Session, commune: Commune) -> list[Area]:
    return list(
        session.scalars(
            select(Area)
            .where(Area.commune_id == commune.id, Area.kind == AreaKind.ARRONDISSEMENT)
            .order_by(Area.id)
        )
    )


def _filtered(query: Select, filters: Filters, staff: StaffUser) -> Select:
    """`query` narrowed by every filter except the status (counts are per status)."""
    if filters.category:
        query = query.where(Feedback.category == FeedbackCategory(filters.category))
    if filters.area:
        area_id = int(filters.area)
        quartiers = select(Area.id).where(Area.parent_id == area_id)
        query = query.where(or_(Feedback.area_id == area_id, Feedback.area_id.in_(quartiers)))
    if filters.age:
        now = utcnow()
        at_least, under = AGES[filters.age]
        if at_least is not None:
            query = query.where(Feedback.created_at <= now - timedelta(days=at_least))
        if under is not None:
            query = query.where(Feedback.created_at > now - timedelta(days=under))
    if filters.assigned == "me":
        query = query.where(Feedback.assigned_to_id == staff.id)
    elif filters.assigned == "nobody":
        query = query.where(Feedback.assigned_to_id.is_(None))
    elif filters.assigned == "someone":
        query = query.where(Feedback.assigned_to_id.is_not(None))
    return query


def status_counts(
    session: Session, commune: Commune, filters: Filters, staff: StaffUser
) -> dict[str, int]:
    query = _filtered(
        select(Feedback.status, func.count()).where(Feedback.commune_id == commune.id),
        filters,
        staff,
    ).group_by(Feedback.status)
    found = {FeedbackStatus(status).value: count for status, count in session.execute(query)}
    counts = {s.value: found.get(s.value, 0) for s in FeedbackStatus}
    counts[OPEN] = sum(n for s, n in counts.items() if FeedbackStatus(s) not in FINAL)
    counts["all"] = sum(found.values())
    return counts


def inbox(
    session: Session, commune: Commune, filters: Filters, staff: StaffUser, page: int
) -> list[Feedback]:
    """One page of the commune's tickets under `filters`: open ones first, oldest first."""
    query = _filtered(select(Feedback).where(Feedback.commune_id == commune.id), filters, staff)
    if filters.status == OPEN:
        query = query.where(Feedback.status.not_in(FINAL))
    elif filters.status != "all":
        query = query.where(Feedback.status == FeedbackStatus(filters.status))
    is_final = case((Feedback.status.in_(FINAL), 1), else_=0)
    query = query.order_by(is_final, Feedback.created_at, Feedback.id)
    return list(session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))


def _page_number(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 100_000 else 1


def area_names(session: Session, area_ids: set[int]) -> dict[int, str]:
    """Area id -> "quartier, arrondissement" or the arrondissement's name."""
    if not area_ids:
        return {}
    areas = session.scalars(select(Area).where(Area.id.in_(area_ids)))
    return {a.id: f"{a.name}, {a.parent.name}" if a.parent else a.name for a in areas}


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(StaffUser.id, StaffUser.name).where(StaffUser.id.in_(ids))
    return dict(session.execute(query).all())


@bp.get("/<commune>/feedback")
@commune_page(Capability.READ)
def feedback_list(commune: Commune):
    session = get_session()
    areas = arrondissements(session, commune)
    filters = read_filters(request.args, areas)
    page = _page_number(request.args.get("page"))
    tickets = inbox(session, commune, filters, g.staff, page)
    counts = status_counts(session, commune, filters, g.staff)
    shown = counts[filters.status]
    return render_template(
        "dashboard/feedback/list.html",
        tickets=tickets,
        counts=counts,
        filters=filters,
        areas=areas,
        place=area_names(session, {t.area_id for t in tickets if t.area_id}),
        assignees=staff_names(session, {t.assigned_to_id for t in tickets if t.assigned_to_id}),
        page=page,
        has_next=page * PAGE_SIZE < shown,
        now=utcnow(),
        statuses=list(FeedbackStatus),
        categories=list(FeedbackCategory),
        ages=list(AGES),
        assigned_choices=ASSIGNED,
    )


def who(session: Session, ticket: Feedback) -> str | None:
    """The citizen as staff may see them: None when anonymous or erased, else masked."""
    if ticket.anonymous or ticket.contact_id is None:
        return None
    contact = session.get(Contact, ticket.contact_id)
    return mask(contact.phone_e164) if contact else None


def safe_link(url: object) -> str | None:
    """A media URL worth a link: http(s) only, so no `javascript:` ever becomes one."""
    if not isinstance(url, str):
        return None
    return url if urlsplit(url).scheme in ("http", "https") else None


def _ticket_or_404(session: Session, commune: Commune, ref: str) -> Feedback:
    ticket = feedback_edit.ticket_in_commune(session, commune, ref)
    if ticket is None:
        abort(404)
    return ticket


def _ticket_page(
    session: Session,
    commune: Commune,
    ticket: Feedback,
    errors: dict[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    form: str = "",
):
    duplicate_of = session.get(Feedback, ticket.duplicate_of_id) if ticket.duplicate_of_id else None
    duplicates = session.scalars(
        select(Feedback).where(Feedback.duplicate_of_id == ticket.id).order_by(Feedback.id)
    ).all()
    staff_ids = {u.staff_user_id for u in ticket.updates if u.staff_user_id}
    if ticket.assigned_to_id:
        staff_ids.add(ticket.assigned_to_id)
    done = request.args.get("done")
    page = render_template(
        "dashboard/feedback/ticket.html",
        ticket=ticket,
        who=who(session, ticket),
        place=area_names(session, {ticket.area_id} if ticket.area_id else set()),
        media=[
            (item, safe_link(item.get("url"))) for item in ticket.media if isinstance(item, dict)
        ],
        names=staff_names(session, staff_ids),
        duplicate_of=duplicate_of,
        duplicates=duplicates,
        assignable=feedback_edit.assignable_staff(session, commune),
        choices=feedback_edit.status_choices(ticket),
        note_max=feedback_edit.NOTE_MAX,
        errors=errors or {},
        values=values or {},
        form=form,
        done=done if done in DONE else None,
    )
    return page, 422 if errors else 200


@bp.get("/<commune>/feedback/<ref>")
@commune_page(Capability.READ)
def feedback_ticket(commune: Commune, ref: str):
    session = get_session()
    return _ticket_page(session, commune, _ticket_or_404(session, commune, ref))


_ACTIONS = {
    "assign": (feedback_edit.assign, "assigned"),
    "status": (feedback_edit.set_status, "status"),
    "merge": (feedback_edit.merge, "merged"),
}


@bp.post("/<commune>/feedback/<ref>/<action>")
@commune_page(Capability.HANDLE_FEEDBACK)
def feedback_action(commune: Commune, ref: str, action: str):
    if action not in _ACTIONS:
        abort(404)
    session = get_session()
    ticket = _ticket_or_404(session, commune, ref)
    write, done = _ACTIONS[action]
    try:
        write(session, g.staff, commune, ticket, request.form)
    except FormInvalid as invalid:
        session.rollback()
        ticket = _ticket_or_404(session, commune, ref)
        return _ticket_page(session, commune, ticket, invalid.errors, request.form, action)
    session.commit()
    target = url_for("dashboard.feedback_ticket", commune=commune.slug, ref=ticket.ref, done=done)
    return redirect(target, 303)
