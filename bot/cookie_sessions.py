"""Flask's signed-cookie sessions, opened without a signer when the request carries no cookie.

Flask builds the itsdangerous signer of the session cookie on every request
before it looks for the cookie. Webhooks never send one, and a USSD hop is
answered while the caller waits: building the signer was 7% of a hop's
instructions (callgrind, in-process). A request with cookies goes through
Flask's own code unchanged.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface


class CookieSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if app.secret_key and "HTTP_COOKIE" not in request.environ:
            # What Flask itself returns for a request without the cookie.
            return self.session_class()
        return super().open_session(app, request)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessionInterface()
