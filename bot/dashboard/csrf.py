"""CSRF protection for the dashboard: one random token per session.

Every state-changing request to the blueprint carries it in a `csrf_token` form
field or an `X-CSRF-Token` header; anything else is refused with 400.
"""

from __future__ import annotations

import hmac
import secrets

from flask import abort, request, session

from bot.dashboard.text import translate

SESSION_KEY = "csrf_token"
FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def token() -> str:
    """This session's token, created on first use (a Jinja global as `csrf_token()`)."""
    value = session.get(SESSION_KEY)
    if not isinstance(value, str) or not value:
        value = secrets.token_urlsafe(32)
        session[SESSION_KEY] = value
    return value


def is_valid(sent: str | None) -> bool:
    expected = session.get(SESSION_KEY)
    if not isinstance(expected, str) or not expected or not sent:
        return False
    # Bytes: compare_digest refuses non-ASCII str, which a forged field may hold.
    return hmac.compare_digest(sent.encode(), expected.encode())


def protect() -> None:
    """Blueprint `before_request`: refuse an unsafe method without the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.form.get(FORM_FIELD) or request.headers.get(HEADER)
    if not is_valid(sent):
        abort(400, description=translate("dashboard.error.csrf"))
