"""Dashboard fixtures: the sample communes, staff users and a logged-in browser."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.content.loader import load_content
from bot.models import Commune, StaffRole, StaffUser
from bot.models.enums import StaffRoleName
from bot.staff import create_staff

PASSWORD = "correct horse battery"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def communes(session: Session) -> dict[str, Commune]:
    load_content(session)
    session.commit()
    return {c.slug: c for c in session.scalars(select(Commune))}


@pytest.fixture
def make_staff(session: Session, communes: dict[str, Commune]) -> Callable[..., StaffUser]:
    def make(
        email: str,
        *,
        name: str = "Agent Test",
        national_admin: bool = False,
        roles: dict[str, str] | None = None,
    ) -> StaffUser:
        user = create_staff(
            session,
            email=email,
            name=name,
            password=PASSWORD,
            national_admin=national_admin,
            actor="test",
        )
        for slug, role in (roles or {}).items():
            session.add(
                StaffRole(
                    staff_user_id=user.id,
                    commune_id=communes[slug].id,
                    role=StaffRoleName(role),
                )
            )
        session.commit()
        return user

    return make


def csrf_from(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def login(
    client: FlaskClient,
    email: str,
    password: str = PASSWORD,
    *,
    next_path: str | None = None,
    **kwargs,
):
    """GET the form (for its CSRF token), then POST it like a browser would."""
    token = csrf_from(client.get("/dashboard/login", **kwargs).get_data(as_text=True))
    data = {"csrf_token": token, "email": email, "password": password}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/dashboard/login", data=data, **kwargs)
