"""The `/api/v1` blueprint: bearer-token authentication and JSON errors.

Only the `Authorization: Bearer <token>` header authenticates: a dashboard
session cookie does not, so a page on another site can never make a staff's
browser call the API (no CSRF surface).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from bot.dashboard.forms import FormInvalid
from bot.db import get_session
from bot.i18n import resolve_language
from bot.models.types import utcnow
from bot.staff import user_for_token

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Endpoints that need no token; filled by `openapi.api_route(public=True)`.
PUBLIC_ENDPOINTS: set[str] = set()
# last_used_at is for "is this token still in use?", not an access log: a write
# per request would cost more than it tells.
LAST_USED_RESOLUTION = timedelta(minutes=5)

_MESSAGES = {
    400: "The request is malformed.",
    401: "A valid API token is required: Authorization: Bearer <token>.",
    403: "Your roles do not allow this in this commune.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "The request conflicts with the current state.",
    413: "The request body is too large.",
    415: "Send JSON (Content-Type: application/json).",
}


def error(status: int, message: str | None = None, **extra: object) -> Response:
    body = {"error": {"status": status, "message": message or _MESSAGES.get(status, "Error.")}}
    body["error"].update(extra)
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="communes-plus"'
    return response


def http_error(exc: HTTPException) -> Response:
    """`exc` as an API error, keeping its headers (a 405 lists the methods in `Allow`)."""
    code = exc.code or 500
    # A 400 or 409 from our own checks says why; werkzeug's default texts say nothing useful.
    message = exc.description if code in (400, 409) and exc.description else None
    response = error(code, message)
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


@bp.before_request
def _authenticate() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    found = user_for_token(get_session(), token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return error(401)
    api_token, staff = found
    g.lang = resolve_language(staff.language)
    now = utcnow()
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USED_RESOLUTION:
        api_token.last_used_at = now
        get_session().commit()
    g.staff, g.api_token = staff, api_token
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


bp.register_error_handler(HTTPException, http_error)


@bp.errorhandler(IntegrityError)
def _conflict(_exc: IntegrityError) -> Response:
    # Two writers raced for the same unique key; the loser may simply retry.
    get_session().rollback()
    return error(409)


@bp.errorhandler(FormInvalid)
def _invalid(exc: FormInvalid) -> Response:
    get_session().rollback()
    return error(422, "Some fields are invalid.", fields=exc.errors)


def json_body() -> dict:
    """The request's JSON object; 415 when not JSON, 400 when not an object."""
    if not request.is_json:
        abort(error(415))
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(error(400, "The body must be a JSON object."))
    return data
