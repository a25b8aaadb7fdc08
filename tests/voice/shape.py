"""Africa's Talking voice XML as its documentation and SDKs build it: the only shape we emit.

Root `Response`; actions `Say` (text; voice, playBeep), `Play` (url), `GetDigits`
(numDigits, timeout, finishOnKey, callbackUrl; Say/Play inside) and `Record`
(finishOnKey, maxLength, timeout, trimSilence, playBeep, callbackUrl; Say/Play
inside). Anything else, or any other attribute, fails the check.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
ATTRIBUTES = {
    "Say": {"voice", "playBeep"},
    "Play": {"url"},
    "GetDigits": {"numDigits", "timeout", "finishOnKey", "callbackUrl"},
    "Record": {"finishOnKey", "maxLength", "timeout", "trimSilence", "playBeep", "callbackUrl"},
}
PROMPTS = {"Say", "Play"}
BOOLEANS = {"true", "false"}
KEYS = set("0123456789*#")


def _absolute(url: str) -> bool:
    return url.startswith(("https://", "http://")) and " " not in url


def _positive(value: str) -> bool:
    return value.isdigit() and int(value) > 0


def _check(element: ET.Element, allowed: set[str]) -> None:
    tag = element.tag
    assert tag in allowed, f"<{tag}> not allowed here"
    extra = set(element.attrib) - ATTRIBUTES[tag]
    assert not extra, f"<{tag}> has undocumented attributes {extra}"
    assert not (element.tail or "").strip(), f"text after <{tag}>"
    attrib = element.attrib
    if tag == "Say":
        assert (element.text or "").strip(), "<Say> is empty"
        assert len(element) == 0
        assert attrib.get("voice", "woman") in ("man", "woman")
        assert attrib.get("playBeep", "false") in BOOLEANS
        return
    if tag == "Play":
        assert _absolute(attrib["url"]) and len(element) == 0 and not (element.text or "").strip()
        return
    assert len(element) >= 1, f"<{tag}> needs a <Say> or <Play> inside"
    assert not (element.text or "").strip()
    assert _absolute(attrib["callbackUrl"])
    assert attrib.get("finishOnKey", "#") in KEYS
    for name in ("numDigits", "timeout", "maxLength"):
        assert name not in attrib or _positive(attrib[name]), f"{tag} {name}={attrib[name]!r}"
    for name in ("trimSilence", "playBeep"):
        assert attrib.get(name, "false") in BOOLEANS
    for child in element:
        _check(child, PROMPTS)


def check(body: bytes) -> ET.Element:
    """Parse and check one answer; the root element, for the test to read."""
    assert body.startswith(DECLARATION), body[:60]
    root = ET.fromstring(body)
    assert root.tag == "Response" and not root.attrib
    assert not (root.text or "").strip()
    for action in root:
        _check(action, set(ATTRIBUTES))
    return root


def said(element: ET.Element) -> str:
    """Everything the element says, in order."""
    return " ".join((say.text or "") for say in element.iter("Say"))
