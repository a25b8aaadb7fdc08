"""Staff accounts: creation and roles, shared by the CLI and the dashboard."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.models import ApiToken, Commune, StaffRole, StaffUser
from bot.models.enums import StaffRoleName
from bot.models.types import utcnow
from bot.passwords import hash_password

# Recognisable in logs and by secret scanners; the rest is 256 random bits.
TOKEN_PREFIX = "cpb_"

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class StaffError(ValueError):
    """A staff command was given something it cannot use; the message says what."""


def create_staff(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    national_admin: bool = False,
    actor: str,
) -> StaffUser:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise StaffError(f"not an email address: {email!r}")
    if session.scalar(select(StaffUser).where(StaffUser.email == email)):
        raise StaffError(f"a staff user with email {email} exists already")
    try:
        password_hash = hash_password(password)
    except ValueError as error:
        raise StaffError(str(error)) from None
    user = StaffUser(
        email=email, name=name, password_hash=password_hash, is_national_admin=national_admin
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        None,
        "create",
        "staff_user",
        user.id,
        None,
        after={"email": email, "name": name, "national_admin": national_admin},
        actor=actor,
    )
    return user


def set_role(session: Session, *, email: str, commune_slug: str, role: str, actor: str) -> None:
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"no staff user with email {email}")
    commune = session.scalar(select(Commune).where(Commune.slug == commune_slug))
    if commune is None:
        raise StaffError(f"no commune {commune_slug!r}; load the content first")
    try:
        role_name = StaffRoleName(role)
    except ValueError:
        allowed = ", ".join(r.value for r in StaffRoleName)
        raise StaffError(f"unknown role {role!r}; roles are {allowed}") from None
    existing = session.scalar(
        select(StaffRole).where(
            StaffRole.staff_user_id == user.id, StaffRole.commune_id == commune.id
        )
    )
    before = {"role": existing.role.value} if existing else None
    if existing:
        existing.role = role_name
    else:
        session.add(StaffRole(staff_user_id=user.id, commune_id=commune.id, role=role_name))
    audit.record(
        session,
        None,
        "set_role",
        "staff_role",
        user.id,
        commune.id,
        before,
        {"role": role_name.value},
        actor=actor,
    )


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, email: str, name: str, actor: str) -> tuple[ApiToken, str]:
    """A new API token for the staff user; the clear token is returned once, never stored."""
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"no staff user with email {email}")
    name = name.strip()
    if not name or len(name) > 80:
        raise StaffError("a token needs a name of 1 to 80 characters (what it is for)")
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        staff_user_id=user.id,
        name=name,
        token_sha256=token_digest(clear),
        prefix=clear[: len(TOKEN_PREFIX) + 4],
    )
    session.add(token)
    session.flush()
    after = {"owner": user.email, "name": name, "prefix": token.prefix}
    audit.record(session, None, "create", "api_token", token.id, None, after=after, actor=actor)
    return token, clear


def revoke_token(session: Session, token_id: int, *, actor: str) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise StaffError(f"no API token with id {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        after = {"owner": token.user.email, "name": token.name, "prefix": token.prefix}
        audit.record(session, None, "revoke", "api_token", token.id, None, after=after, actor=actor)
    return token


def user_for_token(session: Session, clear: str) -> tuple[ApiToken, StaffUser] | None:
    """The live token and its active owner, or None (unknown, revoked, or owner disabled)."""
    if not clear.startswith(TOKEN_PREFIX) or len(clear) > 100:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_sha256 == token_digest(clear)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token, token.user
