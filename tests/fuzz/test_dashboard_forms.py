"""Garbage posted to every dashboard form, garbage queries on every page: never a 500.

Routes come from the URL map (tests/fuzz/targets.py); field names from the
templates and the content kinds, so a new form is fuzzed with its own fields.
Without the session's CSRF token every post is refused with 400, whoever sends
it; with it, a national administrator's garbage is refused (400, 403, 404, 409,
422) or taken, never a crash, and nothing typed comes back unescaped.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

import bot.dashboard
from bot.dashboard.content_audio_views import UPLOAD_BODY_LIMIT, UPLOAD_ENDPOINT
from bot.dashboard.content_kinds import KINDS
from bot.models import Broadcast, Contact
from bot.models.enums import Channel, FeedbackCategory, Topic
from bot.models.types import utcnow
from bot.participation import feedback as tickets
from bot.participation.polls import create_poll
from tests.dashboard.conftest import csrf_from, login
from tests.fuzz import checks
from tests.fuzz.counting import count
from tests.fuzz.targets import routes

TEMPLATES = Path(bot.dashboard.__file__).parent / "templates"
FIELD_NAMES = sorted(
    {
        name
        for page in TEMPLATES.rglob("*.html")
        for name in re.findall(r'name="([a-z_]+)"', page.read_text(encoding="utf-8"))
    }
    | {column for kind in KINDS.values() for column in kind.columns} - {"csrf_token"}
)
POSTS = routes("/dashboard", frozenset({"POST"}))
PAGES = routes("/dashboard", frozenset({"GET"}))
ADMIN = "admin@national.example"
FORM = "application/x-www-form-urlencoded"
ALLOWED = {200, 302, 303, 308, 400, 401, 403, 404, 405, 409, 410, 413, 422, 429}
"""Taken (200, or a redirect after a write) or refused with a reason; never a 5xx.
410: an upload preview that expired; 308: a path part holding "/" sends to the path
with its slashes merged; 405: a path part that spells another route's path."""

ACTIONS = ["pause", "resume", "cancel", "publish", "move", "held", "assign", "status", "merge"]
garbage = st.text(max_size=120) | st.sampled_from(
    ["", "0", "-1", "1e9", "9" * 40, "\x00", "2026-13-45 25:61", "<script>alert(1)</script>",
     "' OR 1=1 --", "cotonou", "sessions", "fr", "on", "send", "resolved", "x" * 5000]
)  # fmt: skip
forms = st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=15), garbage, max_size=10)
uploads = st.tuples(
    st.binary(max_size=2000) | st.sampled_from([b"\xef\xbb\xbftitle,amount\n", b"a,b\n1,2\n"]),
    st.sampled_from(["rows.csv", "rows.xlsx", "../../etc/passwd", "", "x.exe"]),
)


@pytest.fixture
def seeded(session, communes):
    """A ticket, a poll and a broadcast in Cotonou, so ids and refs reach real rows."""
    contact = Contact(phone_e164="+2290197445566")
    session.add(contact)
    session.commit()
    ticket, _ = tickets.file(
        session,
        tickets.Draft(
            commune_slug="cotonou",
            contact_id=contact.id,
            text="Pas d'eau",
            category=FeedbackCategory.EAU,
            channel=Channel.SMS,
            draft_id=uuid.uuid4().hex,
        ),
    )
    create_poll(session, "cotonou", "Marché ?", ["Oui", "Non"], utcnow() + timedelta(days=3))
    session.add(Broadcast(commune_id=communes["cotonou"].id, topic=Topic.SESSIONS))
    session.commit()
    return {"ref": ticket.ref}


@pytest.fixture
def admin_client(client, make_staff, seeded):
    make_staff(ADMIN, national_admin=True)
    login(client, ADMIN)
    return client


def _paths(route, seeded):
    return checks.paths(
        route,
        commune=st.sampled_from(["cotonou", "calavi"]) | st.text(min_size=1, max_size=20),
        action=st.sampled_from(ACTIONS) | st.text(min_size=1, max_size=12),
        ref=st.just(seeded["ref"]) | st.text(min_size=1, max_size=12),
    )


def _token(client, page: str = "/dashboard/") -> str:
    """The session's CSRF token, read from a page that carries a form (the logout button)."""
    return csrf_from(client.get(page).get_data(as_text=True))


def check_page(response, sent: dict[str, str]) -> None:
    checks.assert_no_crash(response)
    assert response.status_code in ALLOWED, response.status_code
    body = response.get_data(as_text=True)
    for value in sent.values():
        if "<script" in value:
            assert value not in body, "a posted value came back unescaped"


@given(data=st.data(), form=forms)
def test_posts_without_the_csrf_token_are_refused(admin_client, seeded, data, form) -> None:
    for route in POSTS:
        count(f"dashboard: {route.id} without CSRF token")
        path = data.draw(_paths(route, seeded), label=route.id)
        response = admin_client.post(path, data=form)
        checks.assert_no_crash(response)
        assert response.status_code in (308, 400, 404), (route.id, response.status_code)


@given(data=st.data(), form=forms, upload=uploads)
def test_garbage_forms_from_an_administrator(admin_client, seeded, data, form, upload) -> None:
    token = _token(admin_client)
    for route in POSTS:
        if route.endpoint in ("dashboard.logout", "dashboard.login"):
            continue  # logging out would end the session the other posts need
        count(f"dashboard: {route.id} garbage form")
        path = data.draw(_paths(route, seeded), label=route.id)
        content, filename = upload
        sent = {**form, "csrf_token": token, "file": (io.BytesIO(content), filename)}
        response = admin_client.post(path, data=sent, content_type="multipart/form-data")
        check_page(response, form)
    # Still logged in: the posts above reached the views, not the login page.
    assert admin_client.get("/dashboard/").status_code == 200


@given(email=garbage, password=garbage, next_path=garbage)
def test_garbage_logins(client, make_staff, email, password, next_path) -> None:
    """Wrong either way: 401 (429 once the failures pile up), the email shown escaped."""
    count("dashboard: POST /dashboard/login garbage credentials")
    data = {
        "csrf_token": _token(client, "/dashboard/login"),
        "email": email,
        "password": password,
        "next": next_path,
    }
    response = client.post("/dashboard/login", data=data)
    check_page(response, {"email": email, "next": next_path})
    assert response.status_code in (400, 401, 429), response.status_code


@given(
    data=st.data(),
    query=st.dictionaries(st.sampled_from(FIELD_NAMES) | st.just("page"), garbage, max_size=5),
)
def test_garbage_queries_on_every_page(admin_client, seeded, data, query) -> None:
    for route in PAGES:
        count(f"dashboard: {route.id} garbage query")
        path = data.draw(_paths(route, seeded), label=route.id)
        response = admin_client.get(path, query_string=query)
        check_page(response, query)
        assert "/dashboard/login" not in response.headers.get("Location", ""), route.id


def test_oversized_bodies_are_refused_with_413(app, admin_client, seeded) -> None:
    """One byte over the limit: the app's, or the larger one of a recording's upload."""
    token = _token(admin_client)
    for route in POSTS:
        limit = UPLOAD_BODY_LIMIT if route.endpoint == UPLOAD_ENDPOINT else None
        form = {"csrf_token": token, "text_fr": "x"}
        overhead = len(urlencode(form)) - 1
        form["text_fr"] = "x" * ((limit or app.config["MAX_CONTENT_LENGTH"]) + 1 - overhead)
        path = checks.build_path(route, {**checks.SIMPLE_VALUES, "ref": seeded["ref"]})
        response = admin_client.post(path, data=urlencode(form), content_type=FORM)
        assert response.status_code == 413, route.id
        checks.assert_no_crash(response)
