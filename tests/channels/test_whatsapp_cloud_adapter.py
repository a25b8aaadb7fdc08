"""Meta WhatsApp Cloud adapter: signed webhooks in, Graph API sends out (fake provider)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
from flask import Flask, Request, request

from bot.channels.base import (
    Adapter,
    BadRequest,
    Forbidden,
    OutboundMessage,
    SendError,
    SendFailure,
)
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.models.enums import Channel, Provider
from tests import conformance
from tests.channels.whatsapp_cloud_cases import (
    BAD_INBOUND_CASES,
    BAD_STATUS_CASES,
    FAILURE_CASES,
    INBOUND_CASES,
    PHONE_NUMBER_ID,
    SEND_CASES,
    SENDER,
    STATUS_CASES,
    InboundCase,
    SendCase,
    StatusCase,
    encoded,
    message,
    notification,
    status,
    text,
    value,
)
from tests.fakes.provider import Answer, FakeProvider

APP_SECRET = "unit-meta-app-secret"
VERIFY_TOKEN = "unit-meta-verify-token"
TOKEN = "EAAGunitTOKENthatMustNeverLeak0123456789"
SUCCESS = {
    "messaging_product": "whatsapp",
    "contacts": [{"input": "2290197445566", "wa_id": "2290197445566"}],
    "messages": [{"id": "wamid.X"}],
}

_flask = Flask(__name__)


def settings(**overrides: Any) -> dict[str, Any]:
    return {
        "ENV": "production",
        "WHATSAPP_TOKEN": TOKEN,
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
        "WHATSAPP_API_BASE_URL": None,
        **overrides,
    }


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@contextmanager
def webhook(body: bytes, headers: Mapping[str, str] | None = None) -> Iterator[Request]:
    with _flask.test_request_context(
        "/webhooks/whatsapp",
        method="POST",
        data=body,
        headers=dict(headers if headers is not None else {"X-Hub-Signature-256": sign(body)}),
        content_type="application/json",
    ):
        yield request


def test_satisfies_the_adapter_protocol() -> None:
    adapter: Adapter = WhatsAppCloudAdapter(settings())
    assert adapter.provider is Provider.META


# --- Conformance cases (shared with the other implementations) ---------------------------


def _adapter_level(case: dict[str, Any]) -> bool:
    # The kinds this adapter-level test knows; test_conformance.py replays every
    # case through the app, whatever its kind.
    if not case["id"].startswith("wac_"):
        return False
    if case["kind"] == "whatsapp_cloud_verify":
        return True
    effect = case["expect"].get("effect", {})
    return case["kind"] == "whatsapp_cloud_webhook" and effect.get("type") == "inbound_message"


@pytest.mark.parametrize("case", conformance.cases(_adapter_level))
def test_conformance_case(case: dict[str, Any]) -> None:
    secrets = conformance.SPEC["secrets"]
    adapter = WhatsAppCloudAdapter(
        settings(
            WHATSAPP_APP_SECRET=secrets["meta_app_secret"],
            WHATSAPP_VERIFY_TOKEN=secrets["meta_verify_token"],
        )
    )
    sent, expect = case["request"], case["expect"]
    if case["kind"] == "whatsapp_cloud_verify":
        args = dict(parse_qsl(sent["query"]))
        assert adapter.handshake(args) == expect["response"]["body_equals"]
        return
    effect = expect["effect"]
    body = sent["body"].encode()
    with webhook(body, sent["headers"]) as req:
        if not case["signing"]["header_valid"]:
            with pytest.raises(Forbidden):
                adapter.verify(req)
            return
        adapter.verify(req)
        [found] = adapter.parse_inbound(req)
        assert adapter.parse_status(req) == []
    assert found.channel == Channel(effect["channel"])
    # The file names the provider "whatsapp_cloud" and keeps the wa_id's digits; we store E.164.
    assert found.provider is Provider.META
    assert found.sender_e164 == "+" + effect["sender"]
    assert found.recipient == effect["channel_address"]
    assert found.text == effect["text"]
    assert found.external_id == effect["external_id"]
    assert found.received_at == datetime.fromisoformat(effect["received_at"])
    assert found.raw["profile_name"] == effect["profile_name"]
    with webhook(body + b" ", sent["headers"]) as req, pytest.raises(Forbidden):
        adapter.verify(req)


# --- Inbound ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", INBOUND_CASES, ids=lambda case: case.id)
def test_inbound(case: InboundCase) -> None:
    adapter = WhatsAppCloudAdapter(settings())
    with webhook(encoded(case.body)) as req:
        adapter.verify(req)
        assert adapter.parse_inbound(req) == case.expected
        assert len(adapter.parse_status(req)) == case.statuses


def test_raw_keeps_the_message_the_reply_title_and_the_profile_name() -> None:
    reply = {"type": "button_reply", "button_reply": {"id": "budget", "title": "Budget"}}
    with webhook(encoded(notification(value([message("interactive", reply)])))) as req:
        [found] = WhatsAppCloudAdapter(settings()).parse_inbound(req)
    assert found.raw["interactive"]["button_reply"]["title"] == "Budget"
    assert found.raw["id"] == "wamid.IN1"
    assert found.raw["profile_name"] == "Afiavi Dossou"


def test_recipient_falls_back_to_the_display_number() -> None:
    change = value([text("x")])
    change["metadata"] = {"display_phone_number": "22921300400"}
    with webhook(encoded(notification(change))) as req:
        [found] = WhatsAppCloudAdapter(settings()).parse_inbound(req)
    assert found.recipient == "22921300400"


@pytest.mark.parametrize(("body", "field"), BAD_INBOUND_CASES)
def test_malformed_inbound_names_the_field(body: bytes, field: str) -> None:
    with webhook(body) as req, pytest.raises(BadRequest) as raised:
        WhatsAppCloudAdapter(settings()).parse_inbound(req)
    assert raised.value.field == field


@pytest.mark.parametrize(("body", "field"), [(b"{", "body"), (b'{"object": "x"}', "object")])
def test_malformed_envelope_refused_by_parse_status_too(body: bytes, field: str) -> None:
    with webhook(body) as req, pytest.raises(BadRequest) as raised:
        WhatsAppCloudAdapter(settings()).parse_status(req)
    assert raised.value.field == field


# --- Signature and handshake ------------------------------------------------------------

BODY = encoded(notification(value([text("Bonjour")])))
HEADER = "X-Hub-Signature-256"
SHA1 = "sha1=" + hmac.new(APP_SECRET.encode(), BODY, hashlib.sha1).hexdigest()
NO_SECRET_DEV = {"ENV": "development", "WHATSAPP_APP_SECRET": None}
SIGNATURE_CASES = [
    pytest.param({}, BODY, {HEADER: sign(BODY)}, True, id="valid"),
    pytest.param({}, BODY, {HEADER: "sha256=" + sign(BODY)[7:].upper()}, True, id="uppercase_hex"),
    pytest.param({}, BODY + b" ", {HEADER: sign(BODY)}, False, id="trailing_byte_added"),
    pytest.param(
        {}, BODY.replace(b"Bonjour", b"Bonsoir"), {HEADER: sign(BODY)}, False, id="tampered_body"
    ),
    pytest.param({}, BODY, {}, False, id="missing_header"),
    pytest.param({}, BODY, {HEADER: ""}, False, id="empty_header"),
    pytest.param({}, BODY, {HEADER: SHA1}, False, id="sha1_prefix"),
    pytest.param({}, BODY, {HEADER: sign(BODY)[7:]}, False, id="no_prefix"),
    pytest.param({}, BODY, {HEADER: sign(BODY)[:-2]}, False, id="truncated"),
    pytest.param({}, BODY, {HEADER: sign(BODY) + "00"}, False, id="too_long"),
    pytest.param({}, BODY, {HEADER: sign(BODY, "another-secret")}, False, id="other_secret"),
    pytest.param({}, BODY, {"X-Hub-Signature": SHA1}, False, id="legacy_sha1_header_only"),
    pytest.param(NO_SECRET_DEV, BODY, {}, True, id="secret_unset_development"),
    pytest.param({"WHATSAPP_APP_SECRET": None}, BODY, {}, False, id="secret_unset_production"),
    pytest.param(
        {"ENV": None, "WHATSAPP_APP_SECRET": ""}, BODY, {}, False, id="secret_unset_env_unknown"
    ),
]


@pytest.mark.parametrize(("overrides", "body", "headers", "accepted"), SIGNATURE_CASES)
def test_signature(
    overrides: dict[str, Any],
    body: bytes,
    headers: dict[str, str],
    accepted: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = WhatsAppCloudAdapter(settings(**overrides))
    with webhook(body, headers) as req:
        if accepted:
            adapter.verify(req)
        else:
            with pytest.raises(Forbidden):
                adapter.verify(req)
    assert APP_SECRET not in caplog.text


def test_unsigned_development_webhook_is_accepted_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    adapter = WhatsAppCloudAdapter(settings(ENV="development", WHATSAPP_APP_SECRET=None))
    with webhook(BODY, {}) as req, caplog.at_level(logging.WARNING):
        adapter.verify(req)
    assert "WHATSAPP_APP_SECRET unset" in caplog.text


def hub(
    mode: str | None = "subscribe",
    token: str | None = VERIFY_TOKEN,
    challenge: str | None = "1158201444",
) -> dict[str, str]:
    found = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge}
    return {name: given for name, given in found.items() if given is not None}


HANDSHAKE_CASES = [
    pytest.param(VERIFY_TOKEN, hub(), "1158201444", id="right_token"),
    pytest.param(VERIFY_TOKEN, hub(token="guess"), None, id="wrong_token"),
    pytest.param(VERIFY_TOKEN, hub(token=VERIFY_TOKEN + "x"), None, id="longer_token"),
    pytest.param(VERIFY_TOKEN, hub(token="jeton-é"), None, id="non_ascii_token"),
    pytest.param(VERIFY_TOKEN, hub(mode="unsubscribe"), None, id="wrong_mode"),
    pytest.param(VERIFY_TOKEN, hub(mode=None), None, id="missing_mode"),
    pytest.param(VERIFY_TOKEN, hub(token=None), None, id="missing_token"),
    pytest.param(VERIFY_TOKEN, hub(challenge=None), None, id="missing_challenge"),
    pytest.param(VERIFY_TOKEN, hub(challenge=""), None, id="empty_challenge"),
    pytest.param(None, hub(token=""), None, id="unset_verify_token_empty_given"),
    pytest.param("", hub(token=""), None, id="empty_verify_token"),
]


@pytest.mark.parametrize(("verify_token", "args", "expected"), HANDSHAKE_CASES)
def test_handshake(verify_token: str | None, args: dict[str, str], expected: str | None) -> None:
    adapter = WhatsAppCloudAdapter(settings(WHATSAPP_VERIFY_TOKEN=verify_token))
    assert adapter.handshake(args) == expected


# --- Statuses ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", STATUS_CASES, ids=lambda case: case.id)
def test_status(case: StatusCase) -> None:
    adapter = WhatsAppCloudAdapter(settings())
    with webhook(encoded(notification(value(statuses=case.statuses)))) as req:
        assert adapter.parse_status(req) == case.expected
        assert adapter.parse_inbound(req) == []


@pytest.mark.parametrize(("statuses", "field", "why"), BAD_STATUS_CASES)
def test_malformed_status_names_the_field(statuses: list[Any], field: str, why: str) -> None:
    body = encoded(notification(value(statuses=statuses)))
    with webhook(body) as req, pytest.raises(BadRequest) as raised:
        WhatsAppCloudAdapter(settings()).parse_status(req)
    assert raised.value.field == field
    assert why in raised.value.why


def test_a_bad_status_does_not_block_the_messages_of_the_same_post() -> None:
    body = encoded(notification(value([text("x")], statuses=[status("deleted")])))
    with webhook(body) as req:
        assert len(WhatsAppCloudAdapter(settings()).parse_inbound(req)) == 1


# --- Sending ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeProvider]:
    # One server per module: shutting one down costs half a second.
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    fake_server.requests.clear()
    return fake_server


def sender(fake: FakeProvider, timeout: float = 10.0, **overrides: Any) -> WhatsAppCloudAdapter:
    config = settings(WHATSAPP_API_BASE_URL=f"{fake.url}/v21.0/", **overrides)
    return WhatsAppCloudAdapter(config, timeout=timeout)


@pytest.mark.parametrize("case", SEND_CASES, ids=lambda case: case.id)
def test_send(fake: FakeProvider, case: SendCase) -> None:
    fake.answer("/messages", Answer(200, SUCCESS))
    result = sender(fake).send(case.message)
    assert result.external_id == "wamid.X"
    [posted] = fake.requests
    assert posted.method == "POST"
    assert posted.path == f"/v21.0/{PHONE_NUMBER_ID}/messages"
    assert posted.headers["Authorization"] == f"Bearer {TOKEN}"
    assert posted.json == case.expected_json


@pytest.mark.parametrize(("answer", "failure", "code"), FAILURE_CASES)
def test_send_failure_is_classified_without_leaking_the_token(
    fake: FakeProvider,
    answer: Answer,
    failure: SendFailure,
    code: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.answer("/messages", answer)
    with pytest.raises(SendError) as raised:
        sender(fake).send(OutboundMessage(Channel.WHATSAPP, SENDER, "Bonjour"))
    assert (raised.value.failure, raised.value.code) == (failure, code)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text


def test_token_echoed_by_the_provider_is_redacted(fake: FakeProvider) -> None:
    fake.answer("/messages", Answer(401, {"error": {"code": 190, "message": f"bad token {TOKEN}"}}))
    with pytest.raises(SendError) as raised:
        sender(fake).send(OutboundMessage(Channel.WHATSAPP, SENDER, "Bonjour"))
    assert raised.value.failure is SendFailure.PERMANENT
    assert TOKEN not in str(raised.value)
    assert "[token]" in raised.value.detail


def test_hanging_provider_is_a_quick_timeout_in_doubt(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.answer("/messages", Answer(200, SUCCESS, delay=1.0))
    started = time.monotonic()
    with pytest.raises(SendError) as raised:
        sender(fake, timeout=0.3).send(OutboundMessage(Channel.WHATSAPP, SENDER, "Bonjour"))
    assert time.monotonic() - started < 0.9
    assert (raised.value.failure, raised.value.code) == (SendFailure.IN_DOUBT, "timeout")
    assert raised.value.__suppress_context__  # the requests error holds the Authorization header
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text


def test_unreachable_provider_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = WhatsAppCloudAdapter(settings(WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{port}"))
    with pytest.raises(SendError) as raised:
        adapter.send(OutboundMessage(Channel.WHATSAPP, SENDER, "Bonjour"))
    assert (raised.value.failure, raised.value.code) == (SendFailure.RETRYABLE, "connection")
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("missing", ["WHATSAPP_TOKEN", "WHATSAPP_PHONE_NUMBER_ID"])
def test_not_configured_is_permanent_and_sends_nothing(fake: FakeProvider, missing: str) -> None:
    with pytest.raises(SendError) as raised:
        sender(fake, **{missing: None}).send(OutboundMessage(Channel.WHATSAPP, SENDER, "Bonjour"))
    assert (raised.value.failure, raised.value.code) == (SendFailure.PERMANENT, "not_configured")
    assert fake.requests == []
