"""The Twilio adapter: signed webhooks as Twilio posts them, and sends through the real SDK."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, Request, request
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.channels.base import (
    BadRequest,
    Forbidden,
    Media,
    OutboundMessage,
    SendError,
    SendFailure,
    SendResult,
    StatusUpdate,
    Template,
)
from bot.channels.twilio import TwilioAdapter
from bot.models.enums import Channel, MessageStatus, Provider
from tests import conformance
from tests.channels.twilio_cases import (
    ACCOUNT,
    CITIZEN,
    INBOUND_MALFORMED,
    INBOUND_VALID,
    INTERNAL,
    MESSAGES_PATH,
    OUR_NUMBER,
    PROXIED_CASES,
    PUBLIC,
    SEND_ERRORS,
    SID,
    SIGNATURES,
    SIGNED_FORM,
    STATUS_MALFORMED,
    STATUS_MAPPING,
    STATUS_PATH,
    TOKEN,
    URL,
    Signed,
    form,
)
from tests.fakes.provider import Answer, FakeProvider

WHATSAPP_FROM = "+14155238886"
OUT_SID = "SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"
CREATED = Answer(201, {"sid": OUT_SID, "status": "queued", "account_sid": ACCOUNT})

webapp = Flask(__name__)


def config(**overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "ENV": "production",
        "PUBLIC_BASE_URL": None,
        "TWILIO_ACCOUNT_SID": ACCOUNT,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_SMS_FROM": OUR_NUMBER,
        "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
        "TWILIO_API_BASE_URL": None,
    }
    settings.update(overrides)
    return settings


def sign(url: str, data: Mapping[str, str] | MultiDict, token: str = TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, MultiDict(data))


@contextmanager
def posted(
    url: str, data: Any, headers: Mapping[str, str] | None = None, **extra: Any
) -> Iterator[Request]:
    """A real Flask request for `url` (origin, path and query) with a form body."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with webapp.test_request_context(
        path,
        method="POST",
        data=data,
        headers=dict(headers or {}),
        base_url=f"{parts.scheme}://{parts.netloc}",
        **extra,
    ):
        yield request._get_current_object()  # type: ignore[attr-defined]


# --- conformance cases ------------------------------------------------------------------


TWILIO_CASES = conformance.cases(lambda case: case["id"].startswith("tw_"))


@pytest.mark.parametrize("via_public_base_url", [False, True], ids=["direct", "public-base-url"])
@pytest.mark.parametrize("case", TWILIO_CASES)
def test_conformance_case(case: dict, via_public_base_url: bool) -> None:
    shared = conformance.SPEC
    token = shared["secrets"]["twilio_auth_token"]
    sent = case["request"]
    public = shared["conventions"]["base_url"]
    adapter = TwilioAdapter(
        config(TWILIO_AUTH_TOKEN=token, PUBLIC_BASE_URL=public if via_public_base_url else None)
    )
    origin = INTERNAL if via_public_base_url else public
    with posted(
        origin + sent["path"], sent["body"], sent["headers"], content_type=sent["content_type"]
    ) as req:
        expected_signature = sent["headers"]["X-Twilio-Signature"]
        # Signed exactly as Twilio does: over the raw body's params, repeated keys included.
        assert sign(case["signing"]["signed_url"], req.form, token) == expected_signature
        adapter.verify(req)
        effect = case["expect"]["effect"]
        if effect["type"] == "status_update":
            [update] = adapter.parse_status(req)
            assert update == StatusUpdate(
                Provider.TWILIO, effect["external_id"], MessageStatus(effect["status"])
            )
            return
        [message] = adapter.parse_inbound(req)
    assert message.channel == Channel(effect["channel"])
    assert message.provider == Provider(effect["provider"])
    # The effect names the WhatsApp address; ours is the bare E.164 behind it.
    assert message.sender_e164 == effect["sender"].removeprefix("whatsapp:")
    if "wa_id" in effect:
        assert message.sender_e164 == "+" + effect["wa_id"]
    if "recipient" in effect:
        assert message.recipient == effect["recipient"]
    assert (message.text, message.external_id) == (effect["text"], effect["external_id"])
    assert list(message.media) == effect["attachments"]


@pytest.mark.parametrize("case", TWILIO_CASES)
def test_conformance_body_altered_after_signing_is_refused(case: dict) -> None:
    shared = conformance.SPEC
    sent = case["request"]
    adapter = TwilioAdapter(config(TWILIO_AUTH_TOKEN=shared["secrets"]["twilio_auth_token"]))
    replayed = sent["body"].replace("MessageSid=SM5", "MessageSid=SM6")
    assert replayed != sent["body"]
    url = shared["conventions"]["base_url"] + sent["path"]
    with (
        posted(url, replayed, sent["headers"], content_type=sent["content_type"]) as req,
        pytest.raises(Forbidden),
    ):
        adapter.verify(req)


# --- signatures -------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "accepted"), SIGNATURES)
def test_signature(case: Signed, accepted: bool, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = TwilioAdapter(config(PUBLIC_BASE_URL=case.public_base_url))
    signature = sign(case.signed_url, SIGNED_FORM, case.token)
    headers = {}
    if case.header == "sign":
        headers["X-Twilio-Signature"] = signature
    elif case.header == "tamper":
        headers["X-Twilio-Signature"] = ("A" if signature[0] != "A" else "B") + signature[1:]
    elif case.header is not None:
        headers["X-Twilio-Signature"] = case.header
    with posted(case.request_url, case.sent, headers) as req:
        if accepted:
            adapter.verify(req)
        else:
            with pytest.raises(Forbidden):
                adapter.verify(req)
    assert TOKEN not in caplog.text
    assert signature not in caplog.text


def test_repeated_keys_are_all_signed() -> None:
    sent = MultiDict([*SIGNED_FORM.items(multi=True), ("Tag", "b"), ("Tag", "a")])
    with posted(URL, sent, {"X-Twilio-Signature": sign(URL, sent)}) as req:
        TwilioAdapter(config()).verify(req)
        assert req.form.getlist("Tag") == ["b", "a"]


@pytest.mark.parametrize(("headers", "path", "signed_url", "status"), PROXIED_CASES)
def test_behind_proxy_without_public_base_url(
    headers: dict[str, str], path: str, signed_url: str, status: int
) -> None:
    adapter = TwilioAdapter(config())
    app = Flask(__name__)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    @app.post(MESSAGES_PATH)
    def messages() -> tuple[str, int]:
        try:
            adapter.verify(request)
        except Forbidden:
            return "", 403
        return "", 204

    signature = sign(signed_url, SIGNED_FORM)
    response = app.test_client().post(
        path,
        data=SIGNED_FORM,
        headers={**headers, "X-Twilio-Signature": signature},
        base_url=INTERNAL,
    )
    assert response.status_code == status


def test_no_token_in_development_accepts_unsigned(caplog: pytest.LogCaptureFixture) -> None:
    adapter = TwilioAdapter(config(ENV="development", TWILIO_AUTH_TOKEN=None))
    with posted(URL, form()) as req:
        adapter.verify(req)
        assert adapter.parse_inbound(req)[0].text == "Bonjour mairie"
    assert any(
        r.levelno == logging.WARNING and "not configured" in r.message for r in caplog.records
    )


def test_no_token_in_production_refuses(caplog: pytest.LogCaptureFixture) -> None:
    adapter = TwilioAdapter(config(TWILIO_AUTH_TOKEN=None))
    with (
        posted(URL, form(), {"X-Twilio-Signature": sign(URL, form())}) as req,
        pytest.raises(Forbidden),
    ):
        adapter.verify(req)
    assert any(r.levelno == logging.ERROR and "not configured" in r.message for r in caplog.records)


# --- inbound ----------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "expected"), INBOUND_VALID)
def test_inbound(data: dict[str, str], expected: dict[str, Any]) -> None:
    adapter = TwilioAdapter(config())
    with posted(URL, data) as req:
        [message] = adapter.parse_inbound(req)
    defaults = {
        "provider": Provider.TWILIO,
        "external_id": SID,
        "channel": Channel.WHATSAPP if data["From"].startswith("whatsapp:") else Channel.SMS,
        "text": data.get("Body", ""),
        "media": (),
        "location": None,
    }
    for name, value in {**defaults, **expected}.items():
        assert getattr(message, name) == value, name
    assert message.raw == data
    assert datetime.now(UTC) - message.received_at < timedelta(seconds=5)
    assert message.received_at.tzinfo is not None


@pytest.mark.parametrize(("data", "field_name"), INBOUND_MALFORMED)
def test_malformed_inbound_names_the_field(data: dict[str, str], field_name: str) -> None:
    with posted(URL, data) as req, pytest.raises(BadRequest) as raised:
        TwilioAdapter(config()).parse_inbound(req)
    assert raised.value.field == field_name


def test_any_account_accepted_when_none_configured() -> None:
    data = form(AccountSid="AC" + "9" * 32)
    with posted(URL, data) as req:
        [message] = TwilioAdapter(config(TWILIO_ACCOUNT_SID=None)).parse_inbound(req)
    assert message.raw["AccountSid"] == data["AccountSid"]


def test_raw_keeps_the_first_of_repeated_keys() -> None:
    data = MultiDict([*form().items(), ("Body", "second")])
    with posted(URL, data) as req:
        [message] = TwilioAdapter(config()).parse_inbound(req)
    assert (message.text, message.raw["Body"]) == ("Bonjour mairie", "Bonjour mairie")


# --- status callbacks -------------------------------------------------------------------


def _status(data: dict[str, str]) -> list[StatusUpdate]:
    with posted(PUBLIC + STATUS_PATH, data) as req:
        return list(TwilioAdapter(config()).parse_status(req))


@pytest.mark.parametrize(("twilio_status", "ours"), STATUS_MAPPING)
def test_status_mapping(twilio_status: str, ours: MessageStatus) -> None:
    assert _status({"MessageSid": SID, "MessageStatus": twilio_status}) == [
        StatusUpdate(Provider.TWILIO, SID, ours)
    ]


@pytest.mark.parametrize("inbound_status", ["receiving", "received"])
def test_inbound_statuses_record_nothing(inbound_status: str) -> None:
    assert _status({"MessageSid": SID, "MessageStatus": inbound_status}) == []


def test_unknown_status_lists_the_known_ones() -> None:
    with pytest.raises(BadRequest) as raised:
        _status({"MessageSid": SID, "MessageStatus": "exploded"})
    assert raised.value.field == "MessageStatus"
    assert raised.value.why.startswith("unknown status 'exploded'; expected one of: ")
    assert "delivered" in raised.value.why


@pytest.mark.parametrize(
    ("to", "opted_out"),
    [
        pytest.param(CITIZEN, CITIZEN, id="sms"),
        pytest.param("+22996554433", "+2290196554433", id="sms-legacy-number"),
        pytest.param(f"whatsapp:{CITIZEN}", CITIZEN, id="whatsapp"),
    ],
)
def test_21610_names_the_opted_out_phone(to: str, opted_out: str) -> None:
    data = {"MessageSid": SID, "MessageStatus": "undelivered", "ErrorCode": "21610", "To": to}
    assert _status(data) == [
        StatusUpdate(
            Provider.TWILIO,
            SID,
            MessageStatus.FAILED,
            "21610",
            recipient=opted_out,
            opted_out_phone=opted_out,
            opted_out=True,
        )
    ]


@pytest.mark.parametrize(
    ("code", "expected"), [("30008", "30008"), ("", None), (" 30003 ", "30003")]
)
def test_other_error_codes_are_kept(code: str, expected: str | None) -> None:
    data = {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": code, "To": CITIZEN}
    assert _status(data) == [
        StatusUpdate(Provider.TWILIO, SID, MessageStatus.FAILED, expected, recipient=CITIZEN)
    ]


@pytest.mark.parametrize(("data", "field_name"), STATUS_MALFORMED)
def test_malformed_status_names_the_field(data: dict[str, str], field_name: str) -> None:
    with pytest.raises(BadRequest) as raised:
        _status(data)
    assert raised.value.field == field_name


# --- sending ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeProvider]:
    # One server for the module: each shutdown waits out a 0.5 s poll.
    with FakeProvider() as provider:
        yield provider


@pytest.fixture
def fake(fake_server: FakeProvider) -> FakeProvider:
    fake_server.requests.clear()
    fake_server.answer("/Messages.json", CREATED)
    return fake_server


def sender(fake: FakeProvider, **overrides: Any) -> TwilioAdapter:
    settings = {"TWILIO_API_BASE_URL": fake.url, "PUBLIC_BASE_URL": PUBLIC, **overrides}
    return TwilioAdapter(config(**settings), timeout=0.5)


def sms(text: str = "Séance du conseil le 12 mai à 9 h") -> OutboundMessage:
    return OutboundMessage(Channel.SMS, CITIZEN, text)


def test_send_sms(fake: FakeProvider) -> None:
    assert sender(fake).send(sms()) == SendResult(OUT_SID, MessageStatus.SENT)
    [posted_] = fake.requests_to("/Messages.json")
    assert posted_.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert posted_.form == {
        "To": CITIZEN,
        "From": OUR_NUMBER,
        "Body": "Séance du conseil le 12 mai à 9 h",
        "StatusCallback": PUBLIC + STATUS_PATH,
    }
    credentials = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    assert posted_.headers["Authorization"] == f"Basic {credentials}"


def test_no_status_callback_without_public_base_url(fake: FakeProvider) -> None:
    sender(fake, PUBLIC_BASE_URL=None).send(sms())
    assert "StatusCallback" not in fake.requests_to("/Messages.json")[0].form


@pytest.mark.parametrize("configured_from", [WHATSAPP_FROM, f"whatsapp:{WHATSAPP_FROM}"])
def test_send_whatsapp_prefixes_both_addresses(fake: FakeProvider, configured_from: str) -> None:
    message = OutboundMessage(Channel.WHATSAPP, CITIZEN, "Bonjour")
    sender(fake, TWILIO_WHATSAPP_FROM=configured_from).send(message)
    sent = fake.requests_to("/Messages.json")[0].form
    assert (sent["To"], sent["From"]) == (f"whatsapp:{CITIZEN}", f"whatsapp:{WHATSAPP_FROM}")


def test_send_template(fake: FakeProvider) -> None:
    template = Template(
        "HX0123456789abcdef0123456789abcdef", variables={"1": "Cotonou", "2": "12 mai"}
    )
    message = OutboundMessage(Channel.WHATSAPP, CITIZEN, "ignored", template=template)
    sender(fake).send(message)
    sent = fake.requests_to("/Messages.json")[0].form
    assert sent["ContentSid"] == template.name
    assert json.loads(sent["ContentVariables"]) == {"1": "Cotonou", "2": "12 mai"}
    assert "Body" not in sent


@pytest.mark.parametrize(
    ("text", "caption", "body"),
    [("Le budget 2025", None, "Le budget 2025"), ("", "Budget 2025", "Budget 2025")],
    ids=["with-text", "caption-as-body"],
)
def test_send_media(fake: FakeProvider, text: str, caption: str | None, body: str) -> None:
    media = Media("https://civic.example.bj/docs/budget.pdf", "application/pdf", caption)
    sender(fake).send(OutboundMessage(Channel.WHATSAPP, CITIZEN, text, media=media))
    sent = fake.requests_to("/Messages.json")[0].form
    assert (sent["MediaUrl"], sent["Body"]) == (media.url, body)


@pytest.mark.parametrize(("status", "body", "failure", "code"), SEND_ERRORS)
def test_send_errors_are_classified(
    fake: FakeProvider, status: int, body: Any, failure: str, code: str
) -> None:
    fake.answer("/Messages.json", Answer(status, body))
    with pytest.raises(SendError) as raised:
        sender(fake).send(sms())
    assert (raised.value.failure, raised.value.code) == (SendFailure(failure), code)


def test_hanging_provider_is_a_quick_timeout_in_doubt(fake: FakeProvider) -> None:
    fake.answer("/Messages.json", Answer(201, CREATED.body, delay=3.0))
    started = time.monotonic()
    with pytest.raises(SendError) as raised:
        sender(fake).send(sms())
    assert (raised.value.failure, raised.value.code) == (SendFailure.IN_DOUBT, "timeout")
    assert time.monotonic() - started < 2.0


def test_unreachable_provider_is_retryable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    adapter = TwilioAdapter(config(TWILIO_API_BASE_URL=closed), timeout=0.5)
    with pytest.raises(SendError) as raised:
        adapter.send(sms())
    assert (raised.value.failure, raised.value.code) == (SendFailure.RETRYABLE, "connection")


def test_answer_that_is_not_json_is_retryable(fake: FakeProvider) -> None:
    fake.answer("/Messages.json", Answer(201, "<html>portal</html>", content_type="text/html"))
    with pytest.raises(SendError) as raised:
        sender(fake).send(sms())
    assert (raised.value.failure, raised.value.code) == (SendFailure.RETRYABLE, "unexpected_answer")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param({"TWILIO_ACCOUNT_SID": None}, sms(), id="no-account-sid"),
        pytest.param({"TWILIO_AUTH_TOKEN": None}, sms(), id="no-auth-token"),
        pytest.param({"TWILIO_SMS_FROM": None}, sms(), id="no-sms-from"),
        pytest.param(
            {"TWILIO_WHATSAPP_FROM": None},
            OutboundMessage(Channel.WHATSAPP, CITIZEN, "Bonjour"),
            id="no-whatsapp-from",
        ),
        pytest.param({"TWILIO_API_BASE_URL": "not-a-url"}, sms(), id="unusable-api-base-url"),
    ],
)
def test_not_configured_is_permanent(
    fake: FakeProvider, overrides: dict[str, Any], message: OutboundMessage
) -> None:
    with pytest.raises(SendError) as raised:
        sender(fake, **overrides).send(message)
    assert (raised.value.failure, raised.value.code) == (SendFailure.PERMANENT, "not_configured")
    assert fake.requests == []


def test_unsupported_channel_is_permanent(fake: FakeProvider) -> None:
    with pytest.raises(SendError) as raised:
        sender(fake).send(OutboundMessage(Channel.USSD, CITIZEN, "CON Bonjour"))
    assert raised.value.failure is SendFailure.PERMANENT
    assert fake.requests == []


def test_auth_token_never_in_errors_or_logs(
    fake: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = sender(fake)
    adapter.send(sms())
    echoed = {"code": 21211, "message": f"'To' {CITIZEN} refused for {TOKEN}", "status": 400}
    errors = []
    for answer in (Answer(400, echoed), Answer(500, {"message": TOKEN}), Answer(201, delay=3.0)):
        fake.answer("/Messages.json", answer)
        with pytest.raises(SendError) as raised:
            adapter.send(sms())
        errors.append(raised.value)
    assert [e.code for e in errors] == ["21211", "500", "timeout"]
    assert "[redacted]" in errors[0].detail
    assert CITIZEN not in errors[0].detail  # numbers are masked too
    credentials = base64.b64encode(f"{ACCOUNT}:{TOKEN}".encode()).decode()
    tracebacks = ["".join(traceback.format_exception(e)) for e in errors]
    for text in [caplog.text, *tracebacks, *(e.detail for e in errors)]:
        assert TOKEN not in text
        assert credentials not in text
    # The SDK's own request logging is quieted.
    assert "BEGIN Twilio API Request" not in caplog.text
