"""What a staff user may do, commune by commune.

A national administrator may do everything everywhere. Elsewhere a user holds
at most one role per commune, and a role only ever opens that commune.
"""

from __future__ import annotations

from enum import StrEnum

from flask import abort
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Commune, StaffRole, StaffUser
from bot.models.enums import StaffRoleName


class Capability(StrEnum):
    READ = "read"
    HANDLE_FEEDBACK = "handle_feedback"  # citizen feedback and questions
    EDIT_CONTENT = "edit_content"  # content, events, polls
    SEND_BROADCASTS = "send_broadcasts"
    MANAGE_STAFF = "manage_staff"  # staff of that commune


_VIEWER = frozenset({Capability.READ})
_AGENT = _VIEWER | {Capability.HANDLE_FEEDBACK}
_EDITOR = _AGENT | {Capability.EDIT_CONTENT, Capability.SEND_BROADCASTS}
_ADMIN = _EDITOR | {Capability.MANAGE_STAFF}

ROLE_CAPABILITIES: dict[StaffRoleName, frozenset[Capability]] = {
    StaffRoleName.VIEWER: _VIEWER,
    StaffRoleName.AGENT: _AGENT,
    StaffRoleName.EDITOR: _EDITOR,
    StaffRoleName.ADMIN: _ADMIN,
}


def can(staff: StaffUser | None, capability: Capability | str, commune_id: int | None) -> bool:
    """True when `staff` may do `capability` in commune `commune_id`."""
    if staff is None or not staff.active:
        return False
    capability = Capability(capability)
    if staff.is_national_admin:
        return True
    if commune_id is None:
        return False
    for role in staff.roles:
        if role.commune_id == commune_id:
            return capability in ROLE_CAPABILITIES[StaffRoleName(role.role)]
    return False


def require(staff: StaffUser | None, capability: Capability | str, commune_id: int | None) -> None:
    """Abort with 403 unless `can(staff, capability, commune_id)`."""
    if not can(staff, capability, commune_id):
        abort(403)


def communes_visible(session: Session, staff: StaffUser | None) -> list[Commune]:
    """The communes `staff` may read, by name."""
    if staff is None or not staff.active:
        return []
    query = select(Commune).order_by(Commune.name)
    if not staff.is_national_admin:
        query = query.where(
            Commune.id.in_(select(StaffRole.commune_id).where(StaffRole.staff_user_id == staff.id))
        )
    return [c for c in session.scalars(query) if can(staff, Capability.READ, c.id)]
