"""What every fuzzed answer must satisfy, and the strategies the suites share."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from urllib.parse import quote

from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.fuzz.targets import Route

TRACEBACK_MARKERS = (b"Traceback", b'File "')
JSON_TYPES = ("application/json",)

# Content-Length is left to the lying-length tests: a length longer than the body makes
# the server wait for bytes that never come, which a test client turns into a 400.
header_names = st.sampled_from(
    [
        "Content-Type",
        "Transfer-Encoding",
        "Content-Encoding",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "X-Twilio-Signature",
        "X-Twilio-Webhooks-Signature-Settings",
        "X-Hub-Signature-256",
        "X-Hub-Signature",
        "X-CSRF-Token",
        "Authorization",
        "Cookie",
        "Accept",
        "Accept-Language",
        "User-Agent",
    ]
) | st.text(
    string.ascii_letters + string.digits + "-_!#$%&'*+.^`|~", min_size=1, max_size=40
).filter(lambda name: name.lower() != "content-length")
# WSGI hands header values over as latin-1 text; servers drop CR and LF before the app.
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=300,
) | st.sampled_from(["", "-1", "0", "abc", "1e9", "9" * 30, "chunked", "gzip", "bearer"])
headers = st.dictionaries(header_names, header_values, max_size=6)
huge_header = st.sampled_from(["Authorization", "Cookie", "X-Twilio-Signature", "X-Junk"]).map(
    lambda name: {name: "Bearer " + "x" * 64 * 1024}
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
content_types = st.sampled_from(
    [
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "application/json; charset=utf-16",
        "text/plain",
        "text/xml",
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/octet-stream",
        "",
    ]
)


def assert_no_crash(response: TestResponse) -> None:
    """Never a 5xx for what a client sent, never a traceback in the body."""
    body = response.get_data()
    assert response.status_code < 500, (response.status_code, body[:300])
    for marker in TRACEBACK_MARKERS:
        assert marker not in body, body[:300]


def json_error(response: TestResponse) -> dict:
    """The JSON error body the contract promises for a refused request."""
    assert response.mimetype in JSON_TYPES, (response.status_code, response.mimetype)
    payload = json.loads(response.get_data())
    assert isinstance(payload, dict) and "error" in payload, payload
    return payload


_VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")
SIMPLE_VALUES = {"commune": "cotonou"}
"""Values for `build_path` that name something that exists."""


def build_path(route: Route, values: Mapping[str, object]) -> str:
    """The rule with each variable part replaced by its value, percent-encoded.

    A part without a value gets one the route accepts: 1, or the first of its choices.
    """
    defaults = {a.name: a.choices[0] if a.choices else 1 for a in route.arguments}

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(str(values.get(name, defaults[name])), safe="")

    return _VARIABLE.sub(value, route.rule)


def paths(route: Route, **given: st.SearchStrategy) -> st.SearchStrategy[str]:
    """Paths matching `route`: ids in and out of range, any text where text goes."""
    parts: dict[str, st.SearchStrategy] = {}
    for argument in route.arguments:
        if argument.name in given:
            parts[argument.name] = given[argument.name]
        elif argument.kind == "int":
            # Past 2**31 - 1 an INTEGER key overflows: that must be a 404, not a crash.
            parts[argument.name] = st.integers(1, 3) | st.integers(0, 10**30)
        elif argument.kind == "any":
            parts[argument.name] = st.sampled_from(argument.choices)
        else:
            parts[argument.name] = st.text(min_size=1, max_size=30)
    return st.fixed_dictionaries(parts).map(lambda values: build_path(route, values))
