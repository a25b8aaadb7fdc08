"""Whatever a client posts to a webhook, the answer is never a 500 nor a traceback."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

WEBHOOKS = [
    "/webhooks/at/ussd",
    "/webhooks/at/ussd/events",
    "/webhooks/at/sms",
    "/webhooks/at/delivery",
    "/webhooks/at/optout",
    "/webhooks/twilio/messages",
    "/webhooks/twilio/status",
    "/webhooks/whatsapp",
]
FIELDS = [
    "from", "to", "text", "date", "id", "linkId", "status", "phoneNumber", "sessionId",
    "serviceCode", "failureReason", "MessageSid", "AccountSid", "From", "To", "Body",
    "NumMedia", "MediaUrl0", "Latitude", "Longitude", "MessageStatus", "ErrorCode",
]  # fmt: skip

forms = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=20),
    st.text(max_size=200) | st.sampled_from(["+2290197123456", "97123456", "2017-05-03 06:04:45"]),
    max_size=12,
)
bodies = st.binary(max_size=2000)
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _check(response) -> None:
    assert response.status_code < 500 or response.status_code == 503
    assert b"Traceback" not in response.get_data()


@pytest.mark.parametrize("path", WEBHOOKS)
@SETTINGS
@given(form=forms)
def test_arbitrary_forms(client, path, form) -> None:
    _check(client.post(path, data=form))


@pytest.mark.parametrize("path", WEBHOOKS)
@SETTINGS
@given(
    body=bodies,
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "application/json",
            "text/plain",
            "multipart/form-data",
        ]
    ),
)
def test_arbitrary_bytes(client, path, body, content_type) -> None:
    _check(client.post(path, data=body, content_type=content_type))


@SETTINGS
@given(payload=json_bodies)
def test_arbitrary_json_to_meta_is_always_200(client, payload) -> None:
    response = client.post("/webhooks/whatsapp", json=payload)
    assert response.status_code == 200


@pytest.mark.parametrize("path", WEBHOOKS)
@SETTINGS
@given(query=st.dictionaries(st.text(max_size=15), st.text(max_size=40), max_size=4))
def test_arbitrary_queries_on_get(client, path, query) -> None:
    _check(client.get(path, query_string=query))
