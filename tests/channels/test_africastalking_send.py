"""AT bulk SMS through the official SDK, against a fake AT API on loopback."""

from __future__ import annotations

import time

import pytest

from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import OutboundMessage, SendError, SendFailure
from bot.models.enums import Channel
from tests.fakes.provider import Answer, FakeProvider

A, B, C = "+2290197123456", "+2290196112233", "+2290195000001"


def _recipient(number: str, code: int, status: str, message_id: str = "") -> dict:
    return {
        "statusCode": code,
        "number": number,
        "status": status,
        "cost": "XOF 15.0000" if message_id else "0",
        "messageId": message_id or "None",
    }


def _answer(*recipients: dict) -> Answer:
    return Answer(201, {"SMSMessageData": {"Message": "Sent", "Recipients": list(recipients)}})


@pytest.fixture
def fake():
    with FakeProvider() as server:
        yield server


def _adapter(fake: FakeProvider, timeout: float = 10.0) -> AfricasTalkingAdapter:
    config = {
        "AT_USERNAME": "communes",
        "AT_API_KEY": "at-secret-key-0001",
        "AT_SENDER_ID": "MAIRIE",
        "AT_API_BASE_URL": fake.url,
    }
    return AfricasTalkingAdapter(config, timeout=timeout)


def test_one_bulk_call_for_many_recipients(fake) -> None:
    fake.answer(
        "/version1/messaging",
        _answer(
            _recipient(A, 101, "Success", "ATXid_a"),
            _recipient(B, 406, "UserInBlacklist"),
            _recipient(C, 403, "InvalidPhoneNumber"),
        ),
    )
    results = _adapter(fake).send_many("Reddition de comptes samedi", [A, B, C])
    [request] = fake.requests_to("/version1/messaging")
    assert request.form["to"] == f"{A},{B},{C}"
    assert request.form["from"] == "MAIRIE"
    assert request.form["username"] == "communes"
    assert request.headers["Apikey"] == "at-secret-key-0001"
    assert results[A].external_id == "ATXid_a"
    assert results[B].failure is SendFailure.OPTED_OUT
    assert results[C].failure is SendFailure.PERMANENT
    assert results[C].code == "403"


def test_single_send(fake) -> None:
    fake.answer("/version1/messaging", _answer(_recipient(A, 101, "Success", "ATXid_1")))
    result = _adapter(fake).send(OutboundMessage(channel=Channel.SMS, to=A, text="Bonjour"))
    assert result.external_id == "ATXid_1"
    assert result.cost == "XOF 15.0000"


@pytest.mark.parametrize(
    ("answer", "failure", "code"),
    [
        (
            Answer(429, "Too Many Requests", content_type="text/plain"),
            SendFailure.RETRYABLE,
            "http_429",
        ),
        (Answer(500, "oops", content_type="text/html"), SendFailure.RETRYABLE, "http_500"),
        (Answer(503, "busy", content_type="text/plain"), SendFailure.RETRYABLE, "http_503"),
        (
            Answer(401, "The supplied authentication is invalid", content_type="text/plain"),
            SendFailure.PERMANENT,
            "http_401",
        ),
        (
            Answer(201, "<html>", content_type="text/html"),
            SendFailure.RETRYABLE,
            "unexpected_answer",
        ),
        (Answer(201, {"unexpected": True}), SendFailure.RETRYABLE, "unexpected_answer"),
        (_answer(_recipient(A, 500, "InternalServerError")), SendFailure.RETRYABLE, "500"),
        (_answer(_recipient(A, 405, "InsufficientBalance")), SendFailure.RETRYABLE, "405"),
        (_answer(_recipient(A, 406, "UserInBlacklist")), SendFailure.OPTED_OUT, "406"),
        (_answer(_recipient(A, 402, "InvalidSenderId")), SendFailure.PERMANENT, "402"),
        (_answer(), SendFailure.PERMANENT, "not_in_answer"),
    ],
    ids=lambda v: getattr(v, "status", None) or str(v),
)
def test_failures_are_classified(fake, answer, failure, code) -> None:
    fake.answer("/version1/messaging", answer)
    with pytest.raises(SendError) as raised:
        _adapter(fake).send(OutboundMessage(channel=Channel.SMS, to=A, text="Bonjour"))
    assert raised.value.failure is failure
    assert raised.value.code == code
    assert "at-secret-key-0001" not in str(raised.value)


def test_hanging_provider_is_a_quick_timeout_in_doubt(fake) -> None:
    fake.answer("/version1/messaging", Answer(201, {}, delay=2.0))
    started = time.monotonic()
    with pytest.raises(SendError) as raised:
        _adapter(fake, timeout=0.3).send(OutboundMessage(channel=Channel.SMS, to=A, text="x"))
    assert time.monotonic() - started < 1.5
    assert (raised.value.failure, raised.value.code) == (SendFailure.IN_DOUBT, "timeout")


def test_unreachable_provider_is_retryable() -> None:
    adapter = AfricasTalkingAdapter(
        {"AT_USERNAME": "u", "AT_API_KEY": "k", "AT_API_BASE_URL": "http://127.0.0.1:9"}
    )
    with pytest.raises(SendError) as raised:
        adapter.send(OutboundMessage(channel=Channel.SMS, to=A, text="x"))
    assert (raised.value.failure, raised.value.code) == (SendFailure.RETRYABLE, "connection")


def test_not_configured_is_permanent() -> None:
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter({}).send(OutboundMessage(channel=Channel.SMS, to=A, text="x"))
    assert (raised.value.failure, raised.value.code) == (SendFailure.PERMANENT, "not_configured")
