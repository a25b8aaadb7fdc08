"""Staff login and logout, and the `login_required` decorator.

Wrong email and wrong password look the same from outside: same message, same
status, and an argon2 verification either way (against a dummy hash when the
email is unknown), so response times do not tell which addresses exist.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from bot import audit
from bot.dashboard import ratelimit
from bot.dashboard.blueprint import LANGUAGE_KEY, bp
from bot.dashboard.text import translate
from bot.db import get_session
from bot.models import StaffUser
from bot.models.types import utcnow
from bot.passwords import hash_password, verify_password

SESSION_STAFF_KEY = "staff_id"
SESSION_LOGIN_AT_KEY = "login_at"
SESSION_SEEN_AT_KEY = "seen_at"
LOGIN_ENTITY = "staff_user"
# The cookie is signed, not encrypted, and a stolen one would otherwise work
# forever: it dies after an idle hour, and after a working day whatever happens.
IDLE_SECONDS = 60 * 60
MAX_AGE_SECONDS = 12 * 60 * 60

F = TypeVar("F", bound=Callable[..., Any])


@functools.cache
def _dummy_hash() -> str:
    # Same argon2 parameters as real hashes, so verifying it costs the same.
    return hash_password("no-staff-user-has-this-password")


def _client_ip() -> str:
    # ProxyFix has already put the router's X-Forwarded-For in remote_addr.
    return request.remote_addr or "unknown"


def safe_next(target: str | None) -> str:
    """`target` when it is a path inside the dashboard, else the overview."""
    overview = url_for("dashboard.overview")
    if not target or not target.startswith(bp.url_prefix + "/"):
        return overview
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or target.startswith("//")
        or "\\" in target
        or any(ord(char) < 0x20 or ord(char) == 0x7F for char in target)
        or ".." in parts.path.split("/")
    ):
        return overview
    return target


def current_staff() -> StaffUser | None:
    """The logged-in, active staff user of this session; clears a stale session."""
    staff_id = session.get(SESSION_STAFF_KEY)
    if staff_id is None:
        return None
    staff = get_session().get(StaffUser, staff_id) if isinstance(staff_id, int) else None
    if staff is None or not staff.active or _expired():
        _clear_session()
        return None
    session[SESSION_SEEN_AT_KEY] = int(time.time())
    return staff


def _expired() -> bool:
    now = time.time()
    login_at, seen_at = session.get(SESSION_LOGIN_AT_KEY), session.get(SESSION_SEEN_AT_KEY)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return True
    return now - seen_at > IDLE_SECONDS or now - login_at > MAX_AGE_SECONDS


def login_required(view: F) -> F:
    """Load the staff user into `g.staff`, or send the browser to the login page."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        staff = current_staff()
        if staff is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return redirect(url_for("dashboard.login", next=target))
        g.staff = staff
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _clear_session() -> None:
    # Keep only the language: it says nothing about who is logged in.
    lang = session.get(LANGUAGE_KEY)
    session.clear()
    if lang is not None:
        session[LANGUAGE_KEY] = lang


def _login_page(
    status: int = 200,
    error: str | None = None,
    email: str = "",
    headers: dict[str, str] | None = None,
):
    next_path = request.values.get("next", "")
    page = render_template("dashboard/login.html", error=error, email=email, next_path=next_path)
    return page, status, headers or {}


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(safe_next(request.args.get("next")))
        return _login_page()

    email = request.form.get("email", "").strip().lower()
    password = request.form.get("password", "")
    ip = _client_ip()
    db = get_session()

    blocked = ratelimit.check(email, ip)
    if blocked is not None:
        audit.record(
            db, None, "login_blocked", LOGIN_ENTITY, None, None, after={"ip": ip}, actor=email
        )
        db.commit()
        minutes = max(1, -(-blocked.retry_after // 60))
        return _login_page(
            429,
            translate("dashboard.login.rate_limited", minutes=minutes),
            email=email,
            headers={"Retry-After": str(blocked.retry_after)},
        )

    staff = db.scalar(select(StaffUser).where(StaffUser.email == email)) if email else None
    password_ok = verify_password(staff.password_hash if staff else _dummy_hash(), password)
    if staff is None or not password_ok or not staff.active:
        ratelimit.record_failure(email, ip)
        entity_id = staff.id if staff else None
        audit.record(
            db, None, "login_failed", LOGIN_ENTITY, entity_id, None, after={"ip": ip}, actor=email
        )
        db.commit()
        return _login_page(401, translate("dashboard.login.failed"), email=email)

    ratelimit.reset_email(email)
    # A fresh session: nothing planted before login (fixation) survives it.
    _clear_session()
    session[SESSION_STAFF_KEY] = staff.id
    session[SESSION_LOGIN_AT_KEY] = session[SESSION_SEEN_AT_KEY] = int(time.time())
    session.permanent = False
    staff.last_login_at = utcnow()
    audit.record(db, staff, "login", LOGIN_ENTITY, staff.id, None, after={"ip": ip})
    db.commit()
    return redirect(safe_next(request.form.get("next")))


@bp.post("/logout")
def logout():
    staff = current_staff()
    if staff is not None:
        db = get_session()
        audit.record(db, staff, "logout", LOGIN_ENTITY, staff.id, None)
        db.commit()
    _clear_session()
    return redirect(url_for("dashboard.login"))
