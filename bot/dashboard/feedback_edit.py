"""What staff do to a feedback ticket: assign it, move its status, merge a duplicate.

Shared by the dashboard pages and the JSON API. Each function takes the ticket
already found within `commune` (`ticket_in_commune`), checks plain `values`,
writes through the service layer (`bot.participation.feedback.change_status`,
which records the step and queues the citizen's message), adds an audit row
with the ticket before and after, and leaves the commit to the caller. Bad
input raises FormInvalid with a message per field, in the staff's language.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.dashboard.forms import FormInvalid, text
from bot.dashboard.permissions import Capability, can
from bot.dashboard.text import translate
from bot.i18n import t
from bot.models import Commune, Contact, Feedback, StaffRole, StaffUser
from bot.models.enums import FeedbackStatus
from bot.participation.feedback import ALLOWED, RefusedChange, change_status, find_ref

NOTE_MAX = 200
"""Characters of a public note: with the status sentence (and the "Réglé ?" question
of a resolved ticket) the citizen's SMS stays within two segments."""

UNASSIGNED = "none"
ASSIGN_TO_ME = "me"

# The citizen's text, media and place never change here: copying them into the
# audit log would only spread personal data.
_AUDIT_EXCLUDE = frozenset({"text", "media", "location", "quartier_text", "draft_id"})


def ticket_in_commune(session: Session, commune: Commune, ref: str) -> Feedback | None:
    """The ticket `ref` ("AV-7K2P", any case) if it belongs to `commune`, else None."""
    normalized = find_ref(ref) if isinstance(ref, str) else None
    if normalized is None:
        return None
    return session.scalar(
        select(Feedback).where(Feedback.ref == normalized, Feedback.commune_id == commune.id)
    )


def assignable_staff(session: Session, commune: Commune) -> list[StaffUser]:
    """Active staff with a role in `commune` that lets them handle feedback, by name."""
    users = session.scalars(
        select(StaffUser)
        .join(StaffRole, StaffRole.staff_user_id == StaffUser.id)
        .where(StaffRole.commune_id == commune.id, StaffUser.active.is_(True))
        .order_by(StaffUser.name, StaffUser.id)
    )
    return [u for u in users if can(u, Capability.HANDLE_FEEDBACK, commune.id)]


def _snapshot(ticket: Feedback) -> dict:
    return audit.snapshot(ticket, exclude=_AUDIT_EXCLUDE)


def assign(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    ticket: Feedback,
    values: Mapping[str, object],
) -> StaffUser | None:
    """Give the ticket to someone, or to nobody; returns the new assignee.

    `values["assignee"]`: "me", "none" (unassign), or the id of an active staff
    user whose role in `commune` lets them handle feedback.
    """
    wanted = text(values, "assignee")
    if wanted == UNASSIGNED:
        assignee = None
    elif wanted == ASSIGN_TO_ME:
        assignee = staff
    else:
        candidates = {str(user.id): user for user in assignable_staff(session, commune)}
        if wanted not in candidates:
            raise FormInvalid(
                {"assignee": translate("dashboard.participation.feedback.bad_assignee")}
            )
        assignee = candidates[wanted]
    before = _snapshot(ticket)
    ticket.assigned_to_id = assignee.id if assignee is not None else None
    session.flush()
    audit.record(
        session,
        staff,
        "feedback.assign",
        "feedback",
        ticket.id,
        commune.id,
        before=before,
        after=_snapshot(ticket),
    )
    return assignee


def status_choices(ticket: Feedback) -> list[FeedbackStatus]:
    """Statuses the ticket may move to from the status form (a duplicate is a merge)."""
    return [
        s
        for s in FeedbackStatus
        if s in ALLOWED[ticket.status] and s is not FeedbackStatus.DUPLICATE
    ]


def _note(values: Mapping[str, object]) -> str | None:
    note = " ".join(text(values, "note").split())
    if len(note) > NOTE_MAX:
        raise FormInvalid(
            {"note": translate("dashboard.participation.feedback.note_too_long", max=NOTE_MAX)}
        )
    return note or None


def _status_label(status: FeedbackStatus) -> str:
    return translate(f"dashboard.participation.feedback.status.{status.value}")


def set_status(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    ticket: Feedback,
    values: Mapping[str, object],
) -> None:
    """Move the ticket to `values["status"]` with an optional public `values["note"]`.

    The citizen is sent the new status and the note once the caller commits.
    "duplicate" is refused here: `merge` names the other ticket. Leaving the
    duplicate status (reopening) forgets which ticket it duplicated.
    """
    errors: dict[str, str] = {}
    try:
        new_status = FeedbackStatus(text(values, "status"))
    except ValueError:
        new_status = None
        errors["status"] = translate("dashboard.participation.feedback.choose_status")
    try:
        note = _note(values)
    except FormInvalid as invalid:
        errors.update(invalid.errors)
    if errors:
        raise FormInvalid(errors)
    assert new_status is not None
    if new_status is FeedbackStatus.DUPLICATE:
        raise FormInvalid({"status": translate("dashboard.participation.feedback.use_merge")})
    before = _snapshot(ticket)
    old_status = ticket.status
    try:
        change_status(session, ticket, new_status, note, staff.id)
    except RefusedChange:
        raise FormInvalid(
            {
                "status": translate(
                    "dashboard.participation.feedback.refused",
                    old=_status_label(old_status),
                    new=_status_label(new_status),
                )
            }
        ) from None
    if old_status is FeedbackStatus.DUPLICATE:
        ticket.duplicate_of_id = None
    session.flush()
    audit.record(
        session,
        staff,
        "feedback.status",
        "feedback",
        ticket.id,
        commune.id,
        before=before,
        after={**_snapshot(ticket), "note": note},
    )


def _original(session: Session, ticket: Feedback) -> Feedback:
    """The ticket at the end of its duplicate chain (itself when it is no duplicate).

    A reopened duplicate keeps no link (`set_status`), but older rows might: only
    the duplicate status counts, and a loop in bad data stops where it closes.
    """
    seen = {ticket.id}
    current = ticket
    while current.status is FeedbackStatus.DUPLICATE and current.duplicate_of_id is not None:
        parent = session.get(Feedback, current.duplicate_of_id)
        if parent is None or parent.id in seen:
            break
        seen.add(parent.id)
        current = parent
    return current


def merge(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    ticket: Feedback,
    values: Mapping[str, object],
) -> Feedback:
    """Mark `ticket` a duplicate of `values["into"]` (a ref of the same commune).

    When that ticket is itself a duplicate, the chain is followed to its original,
    which is returned: the citizen is told that ticket's reference. A ticket is
    never merged into itself, nor into a ticket that is a duplicate of it.
    """
    typed = text(values, "into")
    target = ticket_in_commune(session, commune, typed) if typed else None
    if target is None:
        key = "merge_unknown" if typed else "merge_missing"
        raise FormInvalid({"into": translate(f"dashboard.participation.feedback.{key}")})
    original = _original(session, target)
    if original.id == ticket.id:
        raise FormInvalid({"into": translate("dashboard.participation.feedback.merge_self")})
    if FeedbackStatus.DUPLICATE not in ALLOWED[ticket.status]:
        raise FormInvalid(
            {
                "into": translate(
                    "dashboard.participation.feedback.merge_refused",
                    status=_status_label(ticket.status),
                )
            }
        )
    before = _snapshot(ticket)
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    note = t(
        "dashboard.participation.feedback.merge_note",
        contact.language if contact else None,
        ref=original.ref,
    )
    change_status(session, ticket, FeedbackStatus.DUPLICATE, note, staff.id)
    ticket.duplicate_of_id = original.id
    session.flush()
    audit.record(
        session,
        staff,
        "feedback.merge",
        "feedback",
        ticket.id,
        commune.id,
        before=before,
        after={**_snapshot(ticket), "duplicate_of": original.ref},
    )
    return original
