"""Staff login and logout: redirects, the generic failure, session rotation, `next`."""

from __future__ import annotations

import time

import pytest

from bot.dashboard import auth
from tests.dashboard.conftest import PASSWORD, csrf_from, login

EMAIL = "clerk@mairie-cotonou.example"
OVERVIEW_FR = "Vue d&#39;ensemble"  # the apostrophe, escaped by Jinja
FAILED_FR = "Adresse e-mail ou mot de passe incorrect."


@pytest.fixture
def clerk(make_staff):
    return make_staff(EMAIL, name="Clerk Cotonou", roles={"cotonou": "viewer"})


def test_login_redirects_to_the_overview_which_then_shows(client, clerk, communes) -> None:
    response = login(client, EMAIL)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"
    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert OVERVIEW_FR in html
    assert communes["cotonou"].name in html
    assert "Clerk Cotonou" in html


def test_login_is_case_and_space_insensitive_on_email(client, clerk) -> None:
    assert login(client, "  Clerk@Mairie-Cotonou.EXAMPLE ").status_code == 302
    assert client.get("/dashboard/").status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(client, clerk) -> None:
    wrong_password = login(client, EMAIL, "not the password at all")
    unknown_email = login(client, "nobody@mairie-cotonou.example", PASSWORD)
    assert wrong_password.status_code == unknown_email.status_code == 401
    for response in (wrong_password, unknown_email):
        html = response.get_data(as_text=True)
        assert FAILED_FR in html
        assert PASSWORD not in html
    # Neither logged in.
    assert client.get("/dashboard/").status_code == 302


def test_inactive_staff_cannot_log_in_and_is_logged_out(client, clerk, session) -> None:
    assert login(client, EMAIL).status_code == 302
    clerk.active = False
    session.commit()
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/dashboard/login")
    with client.session_transaction() as cookie:
        assert "staff_id" not in cookie
    failed = login(client, EMAIL)
    assert failed.status_code == 401
    assert FAILED_FR in failed.get_data(as_text=True)


def test_deleted_staff_is_logged_out(client, clerk, session) -> None:
    assert login(client, EMAIL).status_code == 302
    session.delete(clerk)
    session.commit()
    assert client.get("/dashboard/").status_code == 302
    with client.session_transaction() as cookie:
        assert "staff_id" not in cookie


def test_login_clears_the_session_it_started_from(client, clerk) -> None:
    client.get("/dashboard/login")
    with client.session_transaction() as cookie:
        cookie["planted"] = "by an attacker"
        token_before = cookie["csrf_token"]
    assert login(client, EMAIL).status_code == 302
    with client.session_transaction() as cookie:
        assert "planted" not in cookie
        assert cookie.get("csrf_token") != token_before
        assert cookie["staff_id"] == clerk.id
        assert cookie.permanent is False


def test_logout_ends_the_session(client, clerk) -> None:
    login(client, EMAIL)
    token = csrf_from(client.get("/dashboard/").get_data(as_text=True))
    response = client.post("/dashboard/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/login"
    with client.session_transaction() as cookie:
        assert "staff_id" not in cookie
    assert client.get("/dashboard/").status_code == 302


def test_logout_without_csrf_token_keeps_the_session(client, clerk) -> None:
    login(client, EMAIL)
    assert client.post("/dashboard/logout").status_code == 400
    assert client.get("/dashboard/").status_code == 200


def test_logout_accepts_the_token_in_a_header(client, clerk) -> None:
    login(client, EMAIL)
    token = csrf_from(client.get("/dashboard/").get_data(as_text=True))
    assert client.post("/dashboard/logout", headers={"X-CSRF-Token": token}).status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_logout_is_post_only(client, clerk) -> None:
    login(client, EMAIL)
    assert client.get("/dashboard/logout").status_code == 405
    assert client.get("/dashboard/").status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/dashboard/",
        "//evil.example",
        "//evil.example/dashboard/",
        "/\\evil.example",
        "/dashboard/\\evil.example",
        "/dashboard/../webhooks/twilio/sms",
        "/webhooks/twilio/sms",
        "javascript:alert(1)",
        "/dashboardx/",
        "",
    ],
)
def test_next_never_leaves_the_dashboard(client, clerk, target) -> None:
    response = login(client, EMAIL, next_path=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


def test_next_inside_the_dashboard_is_followed(client, clerk) -> None:
    response = login(client, EMAIL, next_path="/dashboard/?lang=en")
    assert response.headers["Location"] == "/dashboard/?lang=en"


def test_pages_require_login_and_come_back_after_it(client, clerk) -> None:
    response = client.get("/dashboard/?lang=en")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/dashboard/login?next=")
    # The login form carries `next` through.
    form = client.get(location).get_data(as_text=True)
    assert 'name="next" value="/dashboard/?lang=en"' in form
    assert login(client, EMAIL, next_path="/dashboard/?lang=en").headers["Location"] == (
        "/dashboard/?lang=en"
    )


def test_login_page_redirects_when_already_logged_in(client, clerk) -> None:
    login(client, EMAIL)
    response = client.get("/dashboard/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    ("login_ago", "seen_ago", "logged_in"),
    [
        (60, 60, True),
        (auth.IDLE_SECONDS + 60, auth.IDLE_SECONDS + 60, False),
        (auth.MAX_AGE_SECONDS - 60, 60, True),
        (auth.MAX_AGE_SECONDS + 60, 60, False),
    ],
)
def test_session_expires_when_idle_or_too_old(
    client, clerk, login_ago: int, seen_ago: int, logged_in: bool
) -> None:
    login(client, clerk.email)
    now = int(time.time())
    with client.session_transaction() as cookie:
        cookie[auth.SESSION_LOGIN_AT_KEY] = now - login_ago
        cookie[auth.SESSION_SEEN_AT_KEY] = now - seen_ago
    response = client.get("/dashboard/")
    assert (response.status_code == 200) is logged_in
    if not logged_in:
        assert response.headers["Location"].startswith("/dashboard/login")
        with client.session_transaction() as cookie:
            assert auth.SESSION_STAFF_KEY not in cookie


def test_a_session_from_before_expiry_was_tracked_is_refused(client, clerk) -> None:
    login(client, clerk.email)
    with client.session_transaction() as cookie:
        del cookie[auth.SESSION_LOGIN_AT_KEY]
    assert client.get("/dashboard/").status_code == 302
