"""Signed-cookie sessions: no signer for a request without cookies, Flask's own code otherwise."""

from __future__ import annotations

import pytest
from flask import session
from flask.sessions import SecureCookieSessionInterface

from bot.cookie_sessions import CookieSessionInterface
from tests.dashboard.conftest import login

EMAIL = "clerk@mairie-cotonou.example"


@pytest.fixture
def no_signer(monkeypatch):
    """Fail any request that builds the cookie's signer."""

    def refuse(self, app):
        raise AssertionError("the session signer was built")

    monkeypatch.setattr(SecureCookieSessionInterface, "get_signing_serializer", refuse)


def test_the_app_uses_it(app) -> None:
    assert isinstance(app.session_interface, CookieSessionInterface)


def test_a_request_without_cookies_opens_an_empty_session_without_a_signer(app, no_signer):
    with app.test_request_context("/webhooks/at/ussd", method="POST") as context:
        opened = app.session_interface.open_session(app, context.request)
        assert opened is not None and dict(opened) == {} and not opened.modified


def test_a_webhook_builds_no_signer(client, no_signer) -> None:
    form = {"sessionId": "ATUid_c", "serviceCode": "*202*22#", "phoneNumber": "+2290197000001"}
    response = client.post("/webhooks/at/ussd", data=form | {"text": ""})
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_a_cookie_goes_through_flask_and_a_forged_one_is_ignored(app) -> None:
    @app.get("/_test/session")
    def show():
        return {"user": session.get("user")}

    @app.post("/_test/session")
    def store():
        session["user"] = "clerk"
        return {}

    client = app.test_client()
    client.post("/_test/session")
    assert client.get("/_test/session").json == {"user": "clerk"}
    forged = app.test_client()
    forged.set_cookie(app.config["SESSION_COOKIE_NAME"], "eyJ1c2VyIjoiYWRtaW4ifQ.forged.sig")
    assert forged.get("/_test/session").json == {"user": None}


def test_staff_login_still_holds(client, make_staff) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    assert login(client, EMAIL).status_code == 302
    assert client.get("/dashboard/").status_code == 200
