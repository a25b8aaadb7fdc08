"""Getting past the webhooks' checks: AT's token, Twilio's and Meta's signatures.

Every attempt is refused (403; Meta: dropped with its 200) and leaves nothing
behind: no message buffered or stored, no citizen opted out by a forged STOP.
A request the provider really signed, replayed as is, is taken and stored once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.channels.inbound import STREAM
from bot.models import Contact, InboundMessage
from bot.redis import get_redis
from tests.fuzz import checks
from tests.fuzz.targets import routes

CITIZEN = "+2290197123456"
AT_TOKEN = "at-webhook-token-0b9e2f"
TWILIO_TOKEN = "twilio-auth-token-5e3f9b2c"
ACCOUNT = "ACb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"
PUBLIC = "https://civic.example.bj"
MESSAGES = "/webhooks/twilio/messages"
META_SECRET = "meta-app-secret-77c1"
META = "/webhooks/whatsapp"
AT_ROUTES = routes("/webhooks/at", frozenset({"POST"}))


def _nothing_recorded(app, session, run_jobs) -> None:
    assert get_redis(app).xlen(STREAM) == 0
    run_jobs()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    opted_out = session.scalar(select(Contact).where(Contact.opted_out_at.is_not(None)))
    assert opted_out is None


def _stored(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(InboundMessage))


# --- Africa's Talking: ?token= -------------------------------------------------------------

AT_FORM = {
    "from": CITIZEN,
    "to": "7722",
    "text": "STOP",
    "date": "2026-11-22 10:00:00",
    "id": "ATXid_forged",
    "phoneNumber": CITIZEN,
    "sessionId": "ATUid_1",
    "serviceCode": "*202*22#",
    "status": "Success",
}


@pytest.fixture
def at_token(app):
    app.config["AT_WEBHOOK_TOKEN"] = AT_TOKEN
    return AT_TOKEN


@pytest.mark.parametrize(
    ("where", "extra"),
    [
        ("missing", {}),
        ("wrong", {"query_string": {"token": "guess"}}),
        ("empty", {"query_string": {"token": ""}}),
        ("other case", {"query_string": {"token": AT_TOKEN.upper()}}),
        ("prefix", {"query_string": {"token": AT_TOKEN[:-1]}}),
        ("longer", {"query_string": {"token": AT_TOKEN + "x"}}),
        ("other name", {"query_string": {"Token": AT_TOKEN}}),
        ("in the form", {"data": {**AT_FORM, "token": AT_TOKEN}}),
        ("in a header", {"headers": {"Authorization": f"Bearer {AT_TOKEN}", "X-Token": AT_TOKEN}}),
        ("first of two", {"query_string": [("token", "guess"), ("token", AT_TOKEN)]}),
    ],
)
def test_at_token_bypasses_are_refused(app, client, session, run_jobs, at_token, where, extra):
    for route in AT_ROUTES:
        kwargs = {"data": AT_FORM, **extra}
        response = client.post(route.rule, **kwargs)
        assert response.status_code == 403, (route.id, where)
        assert checks.json_error(response)["error"] == "forbidden"
        assert AT_TOKEN not in response.get_data(as_text=True)
    _nothing_recorded(app, session, run_jobs)


def test_at_right_token_is_taken(app, client, session, run_jobs, at_token) -> None:
    for route in AT_ROUTES:
        response = client.post(route.rule, data=AT_FORM, query_string={"token": AT_TOKEN})
        assert response.status_code != 403, route.id
    run_jobs()
    assert _stored(session) == 1
    assert session.scalar(select(Contact.opted_out_at)) is not None  # the real STOP counts


# --- Twilio: X-Twilio-Signature ------------------------------------------------------------

TWILIO_FORM = {
    "MessageSid": "SM5c1d9e7f3a2b4c6d8e0f1a2b3c4d5e6f",
    "AccountSid": ACCOUNT,
    "From": f"whatsapp:{CITIZEN}",
    "To": "whatsapp:+2290121300400",
    "Body": "budget cotonou",
    "NumMedia": "0",
}


def _signature(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


@pytest.fixture
def twilio(app):
    app.config.update(
        TWILIO_AUTH_TOKEN=TWILIO_TOKEN, TWILIO_ACCOUNT_SID=ACCOUNT, PUBLIC_BASE_URL=PUBLIC
    )


def _twilio_post(client, form: dict[str, str], signature: str | None, path: str = MESSAGES):
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    return client.post(path, data=form, headers=headers)


SIGNED = _signature(PUBLIC + MESSAGES, TWILIO_FORM)
STOP = {**TWILIO_FORM, "Body": "STOP"}
TWILIO_FORGERIES = [
    pytest.param(TWILIO_FORM, None, id="missing"),
    pytest.param(TWILIO_FORM, "", id="empty"),
    pytest.param(TWILIO_FORM, base64.b64encode(b"x" * 20).decode(), id="made-up"),
    pytest.param(TWILIO_FORM, SIGNED.lower(), id="case-changed"),
    pytest.param(
        TWILIO_FORM, _signature(PUBLIC + MESSAGES, TWILIO_FORM, "other"), id="other-token"
    ),
    pytest.param(
        TWILIO_FORM,
        _signature("http://civic.example.bj" + MESSAGES, TWILIO_FORM),
        id="other-scheme",
    ),
    pytest.param(
        TWILIO_FORM, _signature("https://evil.example" + MESSAGES, TWILIO_FORM), id="other-host"
    ),
    pytest.param(
        TWILIO_FORM,
        _signature(PUBLIC + "/webhooks/twilio/status", TWILIO_FORM),
        id="other-path",
    ),
    pytest.param(
        TWILIO_FORM, _signature(PUBLIC + MESSAGES + "?x=1", TWILIO_FORM), id="other-query"
    ),
    pytest.param(
        TWILIO_FORM,
        _signature(PUBLIC + MESSAGES, {**TWILIO_FORM, "ProfileName": "Afi"}),
        id="over-more-params",
    ),
    pytest.param(
        TWILIO_FORM,
        _signature(PUBLIC + MESSAGES, {k: v for k, v in TWILIO_FORM.items() if k != "NumMedia"}),
        id="over-fewer-params",
    ),
    # A request Twilio really signed, replayed with one parameter altered.
    pytest.param(STOP, SIGNED, id="replay-body-altered"),
    pytest.param({**TWILIO_FORM, "From": "whatsapp:+2290197999999"}, SIGNED, id="replay-from"),
    pytest.param({**TWILIO_FORM, "MessageSid": "SM" + "1" * 32}, SIGNED, id="replay-sid"),
    pytest.param({**TWILIO_FORM, "Extra": "1"}, SIGNED, id="replay-param-added"),
    pytest.param(
        {k: v for k, v in TWILIO_FORM.items() if k != "NumMedia"}, SIGNED, id="replay-param-removed"
    ),
]


@pytest.mark.parametrize(("form", "signature"), TWILIO_FORGERIES)
def test_twilio_forgeries_are_refused(app, client, session, run_jobs, twilio, form, signature):
    response = _twilio_post(client, form, signature)
    assert response.status_code == 403
    assert checks.json_error(response)["error"] == "forbidden"
    _nothing_recorded(app, session, run_jobs)


def test_twilio_status_forgery_is_refused(app, client, twilio) -> None:
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT}
    forged = _signature(PUBLIC + "/webhooks/twilio/status", {**form, "MessageStatus": "failed"})
    assert _twilio_post(client, form, forged, "/webhooks/twilio/status").status_code == 403


def test_twilio_exact_replay_is_taken_and_stored_once(app, client, session, run_jobs, twilio):
    first = _twilio_post(client, TWILIO_FORM, SIGNED)
    again = _twilio_post(client, TWILIO_FORM, SIGNED)
    assert (first.status_code, again.status_code) == (200, 200)
    run_jobs()
    assert _stored(session) == 1


def test_twilio_unsigned_in_production_is_refused(app, client, session, run_jobs) -> None:
    app.config.update(ENV="production", TWILIO_AUTH_TOKEN=None)
    assert _twilio_post(client, STOP, None).status_code == 403
    _nothing_recorded(app, session, run_jobs)


# --- Meta: X-Hub-Signature-256 -------------------------------------------------------------


def _meta_body(text: str = "budget cotonou", message_id: str = "wamid.SIGNED") -> bytes:
    message = {
        "from": CITIZEN[1:],
        "id": message_id,
        "timestamp": "1763720000",
        "type": "text",
        "text": {"body": text},
    }
    value = {"metadata": {"phone_number_id": "106540352242922"}, "messages": [message]}
    change = {"value": value, "field": "messages"}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [change]}]}
    ).encode()


def _hub(body: bytes, secret: str = META_SECRET, digest=hashlib.sha256) -> str:
    return hmac.new(secret.encode(), body, digest).hexdigest()


@pytest.fixture
def meta(app):
    app.config.update(WHATSAPP_APP_SECRET=META_SECRET)


BODY = _meta_body()
META_FORGERIES = [
    pytest.param(BODY, {}, id="missing"),
    pytest.param(BODY, {"X-Hub-Signature-256": ""}, id="empty"),
    pytest.param(BODY, {"X-Hub-Signature-256": "sha256="}, id="empty-digest"),
    pytest.param(BODY, {"X-Hub-Signature": "sha1=" + _hub(BODY, digest=hashlib.sha1)}, id="sha1"),
    pytest.param(
        BODY, {"X-Hub-Signature-256": "sha1=" + _hub(BODY, digest=hashlib.sha1)}, id="sha1-in-256"
    ),
    pytest.param(BODY, {"X-Hub-Signature-256": "sha256=" + _hub(BODY, "guess")}, id="wrong-secret"),
    pytest.param(BODY, {"X-Hub-Signature-256": _hub(BODY)}, id="no-prefix"),
    pytest.param(BODY, {"X-Hub-Signature-256": "sha256=" + _hub(BODY)[:-2]}, id="truncated"),
    pytest.param(BODY, {"X-Hub-Signature-256": "sha256=" + _hub(BODY) + "00"}, id="longer"),
    pytest.param(
        _meta_body("STOP"), {"X-Hub-Signature-256": "sha256=" + _hub(BODY)}, id="replay-altered"
    ),
    pytest.param(BODY + b" ", {"X-Hub-Signature-256": "sha256=" + _hub(BODY)}, id="replay-padded"),
]


@pytest.mark.parametrize(("body", "headers"), META_FORGERIES)
def test_meta_forgeries_are_dropped(app, client, session, run_jobs, meta, body, headers) -> None:
    response = client.post(META, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 200  # Meta retries anything else for days
    _nothing_recorded(app, session, run_jobs)


def test_meta_signed_replay_is_stored_once(app, client, session, run_jobs, meta) -> None:
    headers = {"X-Hub-Signature-256": "sha256=" + _hub(BODY)}
    for _ in range(2):
        response = client.post(META, data=BODY, content_type="application/json", headers=headers)
        assert response.status_code == 200
    run_jobs()
    assert _stored(session) == 1


def test_meta_unsigned_in_production_is_dropped(app, client, session, run_jobs) -> None:
    app.config.update(ENV="production", WHATSAPP_APP_SECRET=None)
    response = client.post(META, data=_meta_body("STOP"), content_type="application/json")
    assert response.status_code == 200
    _nothing_recorded(app, session, run_jobs)


def test_meta_handshake_needs_the_verify_token(app, client) -> None:
    app.config["WHATSAPP_VERIFY_TOKEN"] = "verify-me"
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    for token in (None, "", "verify-m", "VERIFY-ME"):
        wrong = client.get(
            META, query_string={**query, "hub.verify_token": token} if token is not None else query
        )
        assert wrong.status_code == 403
    right = client.get(META, query_string={**query, "hub.verify_token": "verify-me"})
    assert (right.status_code, right.get_data(as_text=True)) == (200, "1158201444")
