"""The AT call API through the official SDK, faked at the HTTP boundary: each answer
read as a call placed or as a classified failure."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import requests
import responses

from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import OutboundMessage, SendError, SendFailure
from bot.models.enums import Channel, MessageStatus

PHONE = "+2290197123456"
OUR_NUMBER = "+2290121000000"
CONFIG = {"AT_USERNAME": "communes", "AT_API_KEY": "k-1", "AT_VOICE_NUMBER": OUR_NUMBER}


def _entry(status: str, session_id: str = "None") -> dict:
    return {"entries": [{"phoneNumber": PHONE, "status": status, "sessionId": session_id}]}


@responses.activate
def test_a_queued_call_gives_its_session_id() -> None:
    responses.post(
        "https://voice.africastalking.com/call",
        json={**_entry("Queued", "ATVId_9"), "errorMessage": "None"},
        status=201,
    )
    result = AfricasTalkingAdapter(CONFIG).send(
        OutboundMessage(channel=Channel.VOICE, to=PHONE, text="Appel vocal demandé")
    )
    assert result.external_id == "ATVId_9" and result.status is MessageStatus.SENT
    [call] = responses.calls
    assert parse_qs(call.request.body) == {
        "username": ["communes"],
        "from": [OUR_NUMBER],
        "to": [PHONE],
    }


@responses.activate
def test_the_voice_api_base_url_is_configurable() -> None:
    responses.post("http://127.0.0.1:9/fake-at/call", json=_entry("Queued", "ATVId_1"))
    adapter = AfricasTalkingAdapter(
        {**CONFIG, "AT_VOICE_API_BASE_URL": "http://127.0.0.1:9/fake-at/"}
    )
    assert adapter.call(PHONE).external_id == "ATVId_1"


@pytest.mark.parametrize(
    ("status", "body", "failure", "code"),
    [
        (201, _entry("InvalidPhoneNumber"), SendFailure.PERMANENT, "InvalidPhoneNumber"),
        (201, _entry("DestinationNotSupported"), SendFailure.PERMANENT, "DestinationNotSupported"),
        (201, _entry("InsufficientCredit"), SendFailure.RETRYABLE, "InsufficientCredit"),
        (201, _entry("Queued"), SendFailure.PERMANENT, "Queued"),  # queued without a session
        (
            200,
            {"entries": [], "errorMessage": "Invalid callerId"},
            SendFailure.PERMANENT,
            "refused",
        ),
        (200, ["not", "an", "object"], SendFailure.RETRYABLE, "unexpected_answer"),
        (200, {"errorMessage": "None"}, SendFailure.RETRYABLE, "unexpected_answer"),
        (401, {"errorMessage": "bad key"}, SendFailure.PERMANENT, "http_401"),
        (429, {}, SendFailure.RETRYABLE, "http_429"),
        (502, {}, SendFailure.RETRYABLE, "http_502"),
    ],
)
@responses.activate
def test_failures_are_classified(status, body, failure, code) -> None:
    responses.post("https://voice.africastalking.com/call", json=body, status=status)
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter(CONFIG).call(PHONE)
    assert (raised.value.failure, raised.value.code) == (failure, code)


@responses.activate
def test_a_body_that_is_not_json_is_retryable() -> None:
    responses.post("https://voice.africastalking.com/call", body="<html>oops</html>")
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter(CONFIG).call(PHONE)
    assert raised.value.failure is SendFailure.RETRYABLE


@responses.activate
def test_no_answer_fails_the_call_rather_than_risk_placing_it_twice() -> None:
    responses.post("https://voice.africastalking.com/call", body=requests.ReadTimeout("no answer"))
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter(CONFIG).call(PHONE)
    assert (raised.value.failure, raised.value.code) == (SendFailure.PERMANENT, "timeout")


@responses.activate
def test_a_connection_never_opened_is_retryable() -> None:
    responses.post("https://voice.africastalking.com/call", body=requests.ConnectTimeout("down"))
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter(CONFIG).call(PHONE)
    assert raised.value.failure is SendFailure.RETRYABLE


@pytest.mark.parametrize("missing", ["AT_USERNAME", "AT_API_KEY", "AT_VOICE_NUMBER"])
def test_without_voice_settings_nothing_is_sent(missing) -> None:
    with pytest.raises(SendError) as raised:
        AfricasTalkingAdapter({**CONFIG, missing: None}).call(PHONE)
    assert raised.value.code == "not_configured"
