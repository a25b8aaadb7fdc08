"""The audit trail: every write by staff (dashboard, API or command line), every login,
logout and failed login, with the values before and after."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from bot.models import AuditLog, StaffUser

_ACTOR_LENGTH = AuditLog.__table__.c.actor.type.length or 120


def record(
    session: Session,
    staff: StaffUser | None,
    action: str,
    entity: str,
    entity_id: object | None,
    commune_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    *,
    actor: str | None = None,
) -> AuditLog:
    """Add (not commit) an AuditLog row; `actor` defaults to the staff's email.

    `actor` names who acted when no staff user is known (a failed login gives
    the email typed). Never pass a password or a token in `before`/`after`.
    """
    name = actor if actor is not None else (staff.email if staff is not None else "anonymous")
    entry = AuditLog(
        staff_user_id=staff.id if staff is not None else None,
        actor=name[:_ACTOR_LENGTH],
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        commune_id=commune_id,
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def snapshot(row: object, *, exclude: frozenset[str] = frozenset()) -> dict:
    """The row's column values as JSON-safe data, for `before` and `after`.

    Timestamps of the row itself are left out: they change on every write and
    say nothing about what the staff changed.
    """
    values = {}
    for column in inspect(row).mapper.column_attrs:
        name = column.key
        if name in exclude or name in ("created_at", "updated_at"):
            continue
        values[name] = json_safe(getattr(row, name))
    return values


def json_safe(value: object) -> object:
    """An enum as its value, a date or time in ISO 8601; anything else as it is."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
