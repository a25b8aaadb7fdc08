"""`/simulator`: a basic phone (USSD, SMS) and a WhatsApp chat in one page.

The page's script posts what the citizen types to the small JSON endpoints
below, which relay it to the real webhooks in the providers' formats
(bot/simulator/relay.py), and polls for the messages the service sent to the
number (bot/simulator/inbox.py). The whole blueprint answers 404 unless the
simulator is enabled (bot/simulator/access.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import HTTPException

from bot.db import get_session
from bot.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, t
from bot.phone import InvalidPhoneNumber, normalize
from bot.simulator import access, inbox, relay

bp = Blueprint(
    "simulator",
    __name__,
    url_prefix="/simulator",
    template_folder="templates",
    static_folder="static",
)

SAMPLE_PHONE = "+2290197123456"
"""A Benin number in the 10-digit plan; nothing is sent to it (console provider)."""
MAX_TEXT = 5000
"""Longer than any SMS or WhatsApp text a provider forwards."""
MAX_USSD_HISTORY = 1000
MAX_PHONE = 64

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    # Citizens' messages: never kept by a browser or a proxy.
    "Cache-Control": "no-store",
}

_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_JS_TEXTS = (
    "simulator.js.dial_hint",
    "simulator.js.unknown_code",
    "simulator.js.sending",
    "simulator.js.refused",
    "simulator.js.unreachable",
    "simulator.js.broadcast",
    "simulator.js.you",
    "simulator.js.service",
    "simulator.js.dial",
    "simulator.js.answer",
)


class InvalidInput(Exception):
    """A field of a simulator request is missing or malformed."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


@bp.record_once
def _check_setting(state: Any) -> None:
    # A mistyped SIMULATOR_ENABLED fails at start-up, not on the first visit.
    access.forced(state.app.config)


@bp.before_request
def _only_when_enabled() -> None:
    if not access.enabled(current_app.config):
        abort(404)
    wanted = request.args.get("lang")
    g.lang = wanted if wanted in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE


@bp.after_request
def _security_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    return response


@bp.errorhandler(InvalidInput)
def _invalid(error: InvalidInput) -> tuple[Response, int]:
    return jsonify(error="bad_request", field=error.field, description=error.why), 400


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> tuple[Response, int]:
    return jsonify(error=error.name, description=error.description), error.code or 500


def _(key: str, **params: object) -> str:
    return t(key, g.get("lang", DEFAULT_LANGUAGE), **params)


@bp.get("/")
def index() -> tuple[str, int]:
    app = current_app
    raw = request.args.get("phone", "")
    error = None
    phone = SAMPLE_PHONE
    if raw.strip():
        try:
            phone = _normalized(raw)
        except InvalidPhoneNumber as invalid:
            error = _("simulator.phone.invalid", reason=invalid.reason)
    lang = g.lang
    service_lang = inbox.language_for(get_session(), phone, app.config["DEFAULT_LANGUAGE"])
    other = "en" if lang == "fr" else "fr"
    page = render_template(
        "simulator/index.html",
        _=_,
        lang=lang,
        phone=phone,
        typed=raw if error else phone,
        max_phone=MAX_PHONE,
        error=error,
        service_language=_language_name(service_lang),
        service_code=relay.service_code(app),
        short_code=relay.short_code(app),
        whatsapp_number=relay.whatsapp_number(app),
        switch_url=url_for("simulator.index", lang=other, phone=phone),
        switch_label=_(f"simulator.switch.{other}"),
        texts={
            key.removeprefix("simulator.js."): _(key, code=relay.service_code(app))
            for key in _JS_TEXTS
        },
        language_names={code: _language_name(code) for code in SUPPORTED_LANGUAGES},
    )
    return page, 400 if error else 200


@bp.get("/api/messages")
def messages() -> Response:
    phone = _phone(request.args.get("phone"))
    after = request.args.get("after", "0")
    if not after.isdigit() or len(after) > 18:
        raise InvalidInput("after", "a message id, 0 for all")
    session = get_session()
    poll = inbox.received_since(session, phone, int(after))
    language = inbox.language_for(session, phone, current_app.config["DEFAULT_LANGUAGE"])
    return jsonify(
        messages=[message.as_json() for message in poll.messages],
        cursor=poll.cursor,
        more=poll.full,
        language=language,
    )


@bp.post("/api/ussd")
def ussd() -> tuple[Response, int]:
    body = _json_body()
    phone = _phone(body.get("phone"))
    text = _text(body, "text", MAX_USSD_HISTORY, allow_empty=True)
    session_id = body.get("session_id") or relay.new_ussd_session_id()
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise InvalidInput("session_id", "letters, digits, _ and - only")
    answer = relay.ussd(current_app, phone, session_id, text)
    if answer.status != 200:
        return _refused(relay.USSD_PATH, answer)
    ended = answer.body.startswith("END ")
    screen = answer.body[4:] if answer.body[:4] in ("CON ", "END ") else answer.body
    return jsonify(session_id=session_id, screen=screen, end=ended), 200


@bp.post("/api/ussd/end")
def ussd_end() -> tuple[Response, int]:
    body = _json_body()
    phone = _phone(body.get("phone"))
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not _SESSION_ID.fullmatch(session_id):
        raise InvalidInput("session_id", "the session id the dial returned")
    completed = body.get("completed")
    if not isinstance(completed, bool):
        raise InvalidInput("completed", "true when the service ended the session")
    answer = relay.ussd_ended(current_app, phone, session_id, completed)
    if answer.status != 200:
        return _refused(relay.USSD_EVENTS_PATH, answer)
    return jsonify(ok=True), 200


@bp.post("/api/sms")
def sms() -> tuple[Response, int]:
    body = _json_body()
    phone = _phone(body.get("phone"))
    answer = relay.sms(current_app, phone, _text(body, "text", MAX_TEXT))
    if answer.status != 200:
        return _refused(relay.SMS_PATH, answer)
    return jsonify(ok=True, to=relay.short_code(current_app)), 200


@bp.post("/api/whatsapp")
def whatsapp() -> tuple[Response, int]:
    body = _json_body()
    phone = _phone(body.get("phone"))
    answer = relay.whatsapp(current_app, phone, _text(body, "text", MAX_TEXT))
    if answer.status != 200:
        return _refused(relay.TWILIO_PATH, answer)
    return jsonify(ok=True, to=relay.whatsapp_number(current_app)), 200


def _json_body() -> Mapping[str, Any]:
    # JSON only: a cross-site form cannot post it without the browser asking first.
    if not request.is_json:
        abort(415, description="send application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("body", "a JSON object")
    return body


def _phone(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("phone", "a phone number, e.g. +2290197123456")
    try:
        return _normalized(value)
    except InvalidPhoneNumber as invalid:
        raise InvalidInput("phone", invalid.reason) from None


def _normalized(raw: str) -> str:
    if len(raw) > MAX_PHONE:
        raise InvalidPhoneNumber(raw[:MAX_PHONE], "too long")
    return normalize(raw)


def _language_name(code: str) -> str:
    # A language with a citizen catalog but no page texts is shown by its code.
    return _(f"simulator.language.{code}") if code in SUPPORTED_LANGUAGES else code


def _text(body: Mapping[str, Any], field: str, limit: int, allow_empty: bool = False) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise InvalidInput(field, "text")
    if len(value) > limit:
        raise InvalidInput(field, f"at most {limit} characters")
    if not value.strip() and not allow_empty:
        raise InvalidInput(field, "empty")
    return value


def _refused(path: str, answer: relay.WebhookAnswer) -> tuple[Response, int]:
    """The webhook said no: pass its status and words on, so the page can show them."""
    status = answer.status if 400 <= answer.status < 600 else 502
    body = jsonify(
        error="webhook", webhook=path, webhook_status=answer.status, body=answer.body[:500]
    )
    return body, status
