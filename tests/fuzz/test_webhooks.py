"""Whatever a client sends to a webhook: never a 500, never a traceback, a JSON error.

Every route under /webhooks is read from the app's URL map (tests/fuzz/targets.py),
so a webhook added later is fuzzed too. Meta's webhook answers 200 to anything
but an oversized body (Meta retries anything else for days); an oversized body
gets 413 there as everywhere, before a byte of it is parsed.
"""

from __future__ import annotations

import io
import json
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot import models
from bot.channels.inbound import STREAM
from bot.gsm import is_gsm7
from bot.redis import get_queue, get_redis
from tests.fuzz import checks
from tests.fuzz.counting import count
from tests.fuzz.targets import BODY_METHODS, Route, routes

WEBHOOKS = routes("/webhooks")
POSTED = [route for route in WEBHOOKS if route.method in BODY_METHODS]
META = "/webhooks/whatsapp"
USSD = "/webhooks/at/ussd"
CITIZEN = "+2290197123456"

# A valid request per known route: mutated, it reaches past the first field check.
PROVIDER_FORMS: dict[str, dict[str, str]] = {
    "/webhooks/at/ussd": {
        "sessionId": "ATUid_fuzz",
        "serviceCode": "*202*22#",
        "phoneNumber": CITIZEN,
        "networkCode": "61601",
        "text": "1*1",
    },
    "/webhooks/at/ussd/events": {
        "sessionId": "ATUid_fuzz",
        "status": "Success",
        "phoneNumber": CITIZEN,
        "errorMessage": "",
    },
    "/webhooks/at/sms": {
        "from": CITIZEN,
        "to": "22022",
        "text": "budget cotonou",
        "date": "2026-11-21 10:13:20",
        "id": "ATXid_fuzz",
        "linkId": "41872630915502873364",
    },
    "/webhooks/at/delivery": {
        "id": "ATXid_fuzz",
        "status": "Success",
        "phoneNumber": CITIZEN,
        "networkCode": "61601",
        "failureReason": "",
        "retryCount": "0",
    },
    "/webhooks/at/optout": {"phoneNumber": CITIZEN, "senderId": "COMMUNES"},
    "/webhooks/twilio/messages": {
        "MessageSid": "SM5c1d9e7f3a2b4c6d8e0f1a2b3c4d5e6f",
        "AccountSid": "ACb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6",
        "From": f"whatsapp:{CITIZEN}",
        "To": "whatsapp:+2290121300400",
        "Body": "reddition akpro",
        "NumMedia": "1",
        "MediaUrl0": "https://api.twilio.com/Media/ME1",
        "MediaContentType0": "image/jpeg",
        "Latitude": "6.37",
        "Longitude": "2.39",
    },
    "/webhooks/twilio/status": {
        "MessageSid": "SM5c1d9e7f3a2b4c6d8e0f1a2b3c4d5e6f",
        "MessageStatus": "delivered",
        "ErrorCode": "",
        "To": CITIZEN,
    },
}
# Fields of every provider callback, voice included, for a route with no form above.
FIELDS = sorted(
    {name for form in PROVIDER_FORMS.values() for name in form}
    | {"isActive", "callerNumber", "destinationNumber", "direction", "dtmfDigits"}
    | {"recordingUrl", "durationInSeconds", "ButtonPayload", "ButtonText", "WaId"}
)
near_misses = st.sampled_from(
    ["", " ", "\x00", "0", "-1", "NaN", "1e999", "whatsapp:", "+", "+229", "97123456",
     "2017-05-03T06:04:45Z", "Success", "Failed", "delivered", "x" * 6000, "é" * 300,
     "<Response/>", "' OR 1=1 --", "*" * 50, "99", "11"]
)  # fmt: skip
field_values = st.text(max_size=200) | near_misses
DROP = object()


def _variant(value: str) -> st.SearchStrategy[object]:
    """Mostly the valid value (so that later fields get read too), else dropped or garbage."""
    return st.integers(0, 4).flatmap(
        lambda n: st.just(value) if n < 3 else st.just(DROP) if n == 3 else field_values
    )


def _mutated(template: dict[str, str]) -> st.SearchStrategy[dict[str, str]]:
    """The form with each field kept, dropped or replaced, plus a few stray fields."""
    per_field = {name: _variant(value) for name, value in template.items()}
    extra = st.dictionaries(
        st.sampled_from(FIELDS) | st.text(max_size=20), field_values, max_size=3
    )
    return st.builds(
        lambda kept, stray: {**stray, **{k: v for k, v in kept.items() if v is not DROP}},
        st.fixed_dictionaries(per_field),
        extra,
    )


def provider_forms(path: str) -> st.SearchStrategy[dict[str, str]]:
    template = PROVIDER_FORMS.get(path)
    if template is None:
        return st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=len(FIELDS))
    return _mutated(template)


arbitrary_forms = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=20), field_values)


def check_answer(route: Route, response) -> None:
    """The webhook contract: no crash, JSON errors, and Meta's POST always 200."""
    checks.assert_no_crash(response)
    if route.method == "POST" and route.rule == META:
        assert response.status_code == 200, response.get_data()[:300]
    elif response.status_code >= 400:
        checks.json_error(response)
    elif route.rule == USSD:
        # Whatever was typed, the phone shows a screen it can display.
        screen = response.get_data(as_text=True)
        assert screen[:4] in ("CON ", "END ") and len(screen) - 4 <= 160, screen
        assert is_gsm7(screen[4:]), screen


def _post(client, route: Route, **kwargs):
    return client.open(route.rule, method=route.method, **kwargs)


# One app per test, every route per example: the routes share the app's setup cost.


@given(form=arbitrary_forms)
def test_arbitrary_forms(client, form) -> None:
    for route in POSTED:
        count(f"webhooks: {route.id} arbitrary form")
        check_answer(route, _post(client, route, data=form))


@given(data=st.data())
def test_mutated_provider_forms(client, data) -> None:
    for route in POSTED:
        count(f"webhooks: {route.id} mutated provider form")
        form = data.draw(provider_forms(route.rule), label=route.id)
        check_answer(route, _post(client, route, data=form))


@given(body=st.binary(max_size=4000), content_type=checks.content_types)
def test_arbitrary_bytes(client, body, content_type) -> None:
    """Bytes of any kind, UTF-8 or not, under any declared content type."""
    for route in POSTED:
        count(f"webhooks: {route.id} bytes")
        check_answer(route, _post(client, route, data=body, content_type=content_type))


@given(payload=checks.json_values)
def test_arbitrary_json(client, payload) -> None:
    for route in POSTED:
        count(f"webhooks: {route.id} json")
        response = _post(client, route, data=json.dumps(payload), content_type="application/json")
        check_answer(route, response)


@given(query=st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=4))
def test_arbitrary_queries(client, query) -> None:
    for route in WEBHOOKS:
        count(f"webhooks: {route.id} query")
        check_answer(route, _post(client, route, query_string=query))
        # A GET where only POST is served: a JSON 405, like any other refusal.
        response = client.get(route.rule, query_string=query)
        checks.assert_no_crash(response)
        if response.status_code >= 400:
            checks.json_error(response)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "secrets-set"])
@given(data=st.data(), headers=checks.headers)
def test_arbitrary_headers(app, client, signed, data, headers) -> None:
    """Any header names and values, the signature headers included, with and without secrets."""
    if signed:
        app.config.update(
            AT_WEBHOOK_TOKEN="fuzz-at-token",
            TWILIO_AUTH_TOKEN="fuzz-twilio-token",
            WHATSAPP_APP_SECRET="fuzz-meta-secret",
            WHATSAPP_VERIFY_TOKEN="fuzz-verify-token",
        )
        app.extensions.pop("senders", None)
    for route in WEBHOOKS:
        count(f"webhooks: {route.id} headers{' with secrets' if signed else ''}")
        form = data.draw(provider_forms(route.rule), label=route.id)
        check_answer(route, _post(client, route, data=form, headers=headers))


@given(headers=checks.huge_header)
def test_huge_headers(client, headers) -> None:
    for route in WEBHOOKS:
        count(f"webhooks: {route.id} huge header")
        form = PROVIDER_FORMS.get(route.rule, {})
        check_answer(route, _post(client, route, data=form, headers=headers))


# --- oversized, streamed and lying bodies --------------------------------------------------

STREAMED = {
    "headers": {"Transfer-Encoding": "chunked"},
    # Chunked: no Content-Length, and the server (gunicorn) ends the stream itself.
    "environ_overrides": {"wsgi.input_terminated": True, "CONTENT_LENGTH": ""},
}


def test_oversized_bodies_are_refused_with_413(app, client) -> None:
    """MAX_CONTENT_LENGTH + 1 bytes, declared or streamed: 413 on every route, Meta's too."""
    body = b"text=" + b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1 - len(b"text="))
    for route in POSTED:
        for content_type in ("application/x-www-form-urlencoded", "application/json", "text/plain"):
            response = _post(client, route, data=body, content_type=content_type)
            assert response.status_code == 413, (route.id, content_type)
            checks.json_error(response)
        streamed = _post(client, route, input_stream=io.BytesIO(body), **STREAMED)
        assert streamed.status_code == 413, (route.id, "streamed")
        checks.json_error(streamed)


def test_streamed_body_within_the_limit_is_read_whole(client) -> None:
    for route in POSTED:
        form = PROVIDER_FORMS.get(route.rule, {"text": "bonjour"})
        response = _post(
            client,
            route,
            input_stream=io.BytesIO(urlencode(form).encode()),
            content_type="application/x-www-form-urlencoded",
            **STREAMED,
        )
        check_answer(route, response)
        if route.rule in PROVIDER_FORMS:
            # The form arrived whole: no field was reported missing.
            assert response.status_code == 200, (route.id, response.get_data()[:300])


def test_lying_content_length(client) -> None:
    """A Content-Length that is not a number, negative, longer or shorter than the body."""
    for route in POSTED:
        for length in ("abc", "-5", "1e3", " 7", "99999", "1", "0"):
            response = _post(
                client,
                route,
                data=b"from=%2B2290197123456&text=bonjour",
                content_type="application/x-www-form-urlencoded",
                environ_overrides={"CONTENT_LENGTH": length},
            )
            checks.assert_no_crash(response)
            if response.status_code >= 400:
                checks.json_error(response)


def test_json_nested_too_deeply(client) -> None:
    """Deep enough to make a recursive parser give up: malformed, not a crash."""
    depth = 50_000
    for route in POSTED:
        response = _post(
            client, route, data="[" * depth + "]" * depth, content_type="application/json"
        )
        check_answer(route, response)


# --- accepted messages are stored, once, and answered ----------------------------------------

texts = st.text(max_size=600) | st.sampled_from(
    ["", "STOP", "AVIS <script>alert(1)</script>", "budget\u0000cotonou", "\ud800", "🙂" * 200]
)


def _inbound_request(path: str, text: str, external_id: str) -> dict:
    if path == "/webhooks/at/sms":
        form = PROVIDER_FORMS[path] | {"text": text, "id": external_id}
        return {"data": form}
    if path == "/webhooks/twilio/messages":
        form = {
            "MessageSid": external_id,
            "AccountSid": "ACfuzz",
            "From": f"whatsapp:{CITIZEN}",
            "To": "whatsapp:+2290121300400",
            "Body": text,
            "NumMedia": "0",
        }
        return {"data": form}
    notification = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "1",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"phone_number_id": "106540352242922"},
                            "messages": [
                                {
                                    "from": CITIZEN[1:],
                                    "id": external_id,
                                    "timestamp": "1763720000",
                                    "type": "text",
                                    "text": {"body": text},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    return {"data": json.dumps(notification), "content_type": "application/json"}


INBOUND = ["/webhooks/at/sms", "/webhooks/twilio/messages", META]


def _safe(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


@pytest.mark.parametrize("path", INBOUND)
@given(text=texts)
def test_accepted_messages_are_stored_once_and_answered(
    app, client, session, run_jobs, path, text
) -> None:
    """A message the webhook took is in the database once, and no job failed on it."""
    # A form cannot carry a lone surrogate: UTF-8 has no bytes for it. JSON can.
    assume(path == META or not any(0xD800 <= ord(c) <= 0xDFFF for c in text))
    count(f"webhooks: POST {path} stored")
    external_id = "fz" + uuid.uuid4().hex
    request = _inbound_request(path, text, external_id)
    first = client.post(path, **request)
    again = client.post(path, **request)
    for response in (first, again):
        checks.assert_no_crash(response)
    run_jobs()
    stored = session.scalar(
        select(func.count())
        .select_from(models.InboundMessage)
        .where(models.InboundMessage.external_id == external_id)
    )
    assert get_redis(app).xlen(STREAM) == 0, "a message is stuck in the inbound stream"
    failed = [get_queue(name, app).failed_job_registry.count for name in ("high", "default")]
    assert failed == [0, 0]
    if _safe(text):
        assert first.status_code == 200
        assert stored == 1
    else:
        # Refused (400) or, for Meta, dropped with its 200: never half-stored.
        assert stored == 0


@pytest.mark.parametrize(
    ("where", "value"),
    [("id", "wamid." + "x" * 200), ("from", "2290197" + "1" * 80)],
)
def test_meta_ids_too_long_to_store_are_dropped(
    app, client, run_jobs, session, where, value
) -> None:
    request = _inbound_request(META, "bonjour", "wamid.fits")
    notification = json.loads(request["data"])
    notification["entry"][0]["changes"][0]["value"]["messages"][0][where] = value
    response = client.post(META, data=json.dumps(notification), content_type="application/json")
    assert response.status_code == 200
    assert get_redis(app).xlen(STREAM) == 0
    run_jobs()
    assert session.scalar(select(func.count()).select_from(models.InboundMessage)) == 0
