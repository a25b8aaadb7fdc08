"""The `/dashboard` blueprint and what every dashboard response shares.

Language, CSRF check, security headers and HTML error pages are wired here;
routes live in `auth.py`, `views.py` and one module per area of pages. Scripts
come only from the blueprint's `static/` folder: no inline script can run, so
citizen text that slipped through escaping still could not execute.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, render_template, request, session
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Conflict, HTTPException

from bot.dashboard import csrf
from bot.dashboard.text import local_date, local_datetime, translate
from bot.db import get_session
from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
)

LANGUAGE_KEY = "lang"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    # Pages carry citizens' figures and CSRF tokens: never kept by a browser or proxy.
    "Cache-Control": "no-store",
}


@bp.before_request
def _choose_language() -> None:
    wanted = request.args.get("lang")
    if wanted in SUPPORTED_LANGUAGES:
        session[LANGUAGE_KEY] = wanted
    lang = session.get(LANGUAGE_KEY)
    g.lang = lang if lang in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


bp.before_request(csrf.protect)


@bp.context_processor
def _template_globals() -> dict[str, object]:
    return {
        "csrf_token": csrf.token,
        "_": translate,
        "format_date": local_date,
        "format_datetime": local_datetime,
    }


@bp.after_request
def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


_ERROR_TEXTS = {
    403: "dashboard.error.forbidden",
    404: "dashboard.error.not_found",
    409: "dashboard.error.conflict",
    413: "dashboard.error.too_large",
}


@bp.errorhandler(IntegrityError)
def _conflict(_error: IntegrityError):
    # Two clerks saved the same unique key at once: the second is told, not shown a 500.
    get_session().rollback()
    return _error_page(Conflict())


@bp.errorhandler(HTTPException)
def _error_page(error: HTTPException):
    # The app answers machines in JSON; staff in a browser get a page. A 400 says
    # why (CSRF); other errors say as little as possible.
    code = error.code or 500
    if code == 400:
        description = error.description
    else:
        description = translate(_ERROR_TEXTS.get(code, "dashboard.error.generic"))
    return render_template("dashboard/error.html", code=code, description=description), code
