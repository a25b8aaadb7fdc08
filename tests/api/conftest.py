"""API fixtures: staff users (from the dashboard's fixtures) and their tokens."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session

from bot.staff import create_token


@pytest.fixture
def token_for(session: Session, make_staff) -> Callable[..., str]:
    """A clear API token for a new staff user with these roles."""

    def make(email: str, **kwargs) -> str:
        make_staff(email, **kwargs)
        _, clear = create_token(session, email=email, name="tests", actor="test")
        session.commit()
        return clear

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
