"""Dashboard helpers: logging a test client in, reading CSRF tokens.

The `communes` and `make_staff` fixtures live in tests/conftest.py (the API and
the authorization matrix use them too)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import STAFF_PASSWORD

PASSWORD = STAFF_PASSWORD
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


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
