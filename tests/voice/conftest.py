"""A phone on a voice call: posts what Africa's Talking posts, checks every answer's XML."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

import pytest
from flask.testing import FlaskClient

from bot.content.loader import load_content
from tests.voice.shape import check, said

OUR_NUMBER = "+2290121000000"
_CHOICE = re.compile(r"(?:Pour|For) (.+?), (?:tapez|press) (\d)\.")
_sessions = itertools.count(1)


class VoiceCall:
    """One call: the dial-in on creation, then keys, recordings and the hang-up."""

    def __init__(self, client: FlaskClient, phone: str, direction: str = "Inbound") -> None:
        self.client, self.phone, self.direction = client, phone, direction
        self.session_id = f"ATVId_{next(_sessions):08d}"
        self.xml = self.post()

    def post(self, *, status: int = 200, **fields: str) -> ET.Element:
        form = {
            "isActive": "1",
            "sessionId": self.session_id,
            "direction": self.direction,
            "callerNumber": self.phone,
            "destinationNumber": OUR_NUMBER,
            **fields,
        }
        response = self.client.post("/webhooks/at/voice", data=form)
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.content_type == "application/xml"
        self.xml = check(response.data)
        return self.xml

    def press(self, key: str) -> ET.Element:
        return self.post(dtmfDigits=key)

    def record(self, url: str = "https://voice.africastalking.com/rec/1.mp3") -> ET.Element:
        return self.post(recordingUrl=url)

    def hang_up(self, **fields: str) -> ET.Element:
        return self.post(isActive="0", durationInSeconds="42", **fields)

    @property
    def heard(self) -> str:
        """What the caller hears before pressing anything: the first action's words."""
        return said(self.xml[0]) if len(self.xml) else ""

    def choices(self) -> dict[str, str]:
        """The choices read in the first prompt: label -> key."""
        return {label: key for label, key in _CHOICE.findall(self.heard)}

    def choose(self, label: str) -> ET.Element:
        """Press the key of the choice whose label starts with `label`, paging with 8."""
        for _ in range(5):
            for shown, key in self.choices().items():
                if shown.startswith(label):
                    return self.press(key)
            assert "tapez 8" in self.heard or "press 8" in self.heard, (label, self.heard)
            self.press("8")
        raise AssertionError(f"{label!r} never offered")

    @property
    def collects_digits(self) -> bool:
        return [action.tag for action in self.xml] == ["GetDigits", "GetDigits", "Say"]

    @property
    def records(self) -> bool:
        return [action.tag for action in self.xml] == ["Record"]

    @property
    def says_goodbye(self) -> bool:
        words = said(self.xml)
        only_words = all(action.tag in ("Say", "Play") for action in self.xml)
        return only_words and ("Au revoir" in words or "Goodbye" in words)


@pytest.fixture
def loaded(session) -> None:
    load_content(session)
    session.commit()
