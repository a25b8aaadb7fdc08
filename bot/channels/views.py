"""Provider webhooks (DESIGN.md §4.1): verify, parse, record, answer at once.

Answers: 400 with a JSON error naming the field for a malformed request, 403
for a bad signature or token, 503 when the database or Redis is unreachable
(providers retry), and never a 500 for anything a client can send. Meta is the
exception: it gets 200 for anything it sent, or it retries for days.
"""

from __future__ import annotations

import logging
from typing import TypeVar

import redis
from flask import Blueprint, Response, current_app, jsonify, request, url_for
from sqlalchemy.exc import DBAPIError

from bot import conversation
from bot.channels import inbound, statuses, voice_xml
from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import BadRequest, Forbidden
from bot.channels.registry import sender
from bot.channels.twilio import TwilioAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.db import get_session
from bot.gsm import to_gsm7
from bot.i18n import t
from bot.models.enums import Channel, Provider
from bot.optout import opt_out_phone
from bot.redis import get_redis
from bot.ussd import ussd_hop
from bot.voice import voice_hop

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)

INFRASTRUCTURE_ERRORS = (DBAPIError, redis.ConnectionError, redis.TimeoutError)
RETRY_AFTER_SECONDS = "30"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> tuple[Response, int]:
    log.info("bad provider request", extra={"fields": {"path": request.path, "field": error.field}})
    return jsonify(error="bad_request", field=error.field, description=error.why), 400


@bp.errorhandler(Forbidden)
def _forbidden(_error: Forbidden) -> tuple[Response, int]:
    log.warning("webhook refused: bad signature or token", extra={"fields": {"path": request.path}})
    return jsonify(error="forbidden", description="bad signature or token"), 403


def _unavailable(_error: Exception) -> tuple[Response, int, dict[str, str]]:
    get_session().rollback()
    log.exception("webhook: database or Redis unreachable")
    body = jsonify(error="unavailable", description="try again later")
    return body, 503, {"Retry-After": RETRY_AFTER_SECONDS}


for _error in INFRASTRUCTURE_ERRORS:
    bp.register_error_handler(_error, _unavailable)


A = TypeVar("A")


def _adapter(provider: Provider, kind: type[A]) -> A:
    adapter = sender(provider)
    assert isinstance(adapter, kind)
    return adapter


def _africastalking() -> AfricasTalkingAdapter:
    return _adapter(Provider.AFRICASTALKING, AfricasTalkingAdapter)


def _twilio() -> TwilioAdapter:
    return _adapter(Provider.TWILIO, TwilioAdapter)


def _meta() -> WhatsAppCloudAdapter:
    return _adapter(Provider.META, WhatsAppCloudAdapter)


def _ok() -> Response:
    return Response("", status=200, content_type="text/plain")


@bp.post("/at/ussd")
def at_ussd() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    hop = adapter.parse_ussd(request)
    session = get_session()
    try:
        screen = ussd_hop(session, get_redis(), hop.session_id, hop.phone, hop.text)
    except INFRASTRUCTURE_ERRORS:
        session.rollback()
        log.exception("USSD: database or Redis unreachable")
        # The citizen is on the line: a polite END beats a network error screen.
        screen = "END " + to_gsm7(t("ussd.unavailable"))
    return Response(screen, status=200, content_type="text/plain; charset=utf-8")


@bp.post("/at/ussd/events")
def at_ussd_events() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    event = adapter.parse_ussd_event(request)
    if event.status == "Success":
        # The citizen ended the session: nothing to offer to resume next time.
        conversation.forget_ussd(get_redis(), event.phone)
    return _ok()


def _voice_urls() -> voice_xml.Urls:
    """Where AT posts a call's next keys: this route, at the public address, with the token."""
    base = (current_app.config["PUBLIC_BASE_URL"] or request.host_url).rstrip("/")
    token = current_app.config["AT_WEBHOOK_TOKEN"]
    query = {"token": token} if token else {}
    return voice_xml.Urls(callback=base + url_for("webhooks.at_voice", **query), base=base)


@bp.post("/at/voice")
def at_voice() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    call = adapter.parse_voice(request)
    session = get_session()
    try:
        document = voice_hop(session, get_redis(), call, _voice_urls())
    except INFRASTRUCTURE_ERRORS:
        session.rollback()
        log.exception("voice: database or Redis unreachable")
        # The citizen is on the line: a polite sentence beats a dead line.
        document = voice_xml.unavailable()
    return Response(document, status=200, content_type="application/xml")


@bp.post("/at/sms")
def at_sms() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    inbound.accept(adapter.parse_inbound(request))
    return _ok()


@bp.post("/at/delivery")
def at_delivery() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    statuses.apply(adapter.parse_status(request))
    return _ok()


@bp.post("/at/optout")
def at_optout() -> Response:
    adapter = _africastalking()
    adapter.verify(request)
    session = get_session()
    opt_out_phone(session, adapter.parse_optout(request), Channel.SMS, reason="AT opt-out")
    session.commit()
    return _ok()


@bp.post("/twilio/messages")
def twilio_messages() -> Response:
    adapter = _twilio()
    adapter.verify(request)
    inbound.accept(adapter.parse_inbound(request))
    return Response(EMPTY_TWIML, status=200, content_type="text/xml")


@bp.post("/twilio/status")
def twilio_status() -> Response:
    adapter = _twilio()
    adapter.verify(request)
    statuses.apply(adapter.parse_status(request))
    return _ok()


@bp.get("/whatsapp")
def whatsapp_verify() -> Response | tuple[Response, int]:
    challenge = _meta().handshake(request.args)
    if challenge is None:
        return jsonify(error="forbidden", description="wrong hub.verify_token or hub.mode"), 403
    return Response(challenge, status=200, content_type="text/plain")


@bp.post("/whatsapp")
def whatsapp_events() -> Response:
    adapter = _meta()
    try:
        adapter.verify(request)
        messages = adapter.parse_inbound(request)
        updates = adapter.parse_status(request)
    except Forbidden:
        log.warning("Meta webhook with a bad signature dropped")
        return _ok()
    except BadRequest as error:
        log.warning("malformed Meta webhook dropped", extra={"fields": {"field": error.field}})
        return _ok()
    inbound.accept(messages)
    statuses.apply(updates)
    return _ok()
