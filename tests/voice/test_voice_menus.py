"""Every menu a caller can reach in two keys from the main menu, in French and English:
each answer is AT's XML shape (checked on every post by VoiceCall), and each is a
menu with keys, a recording or a goodbye, never a dead end."""

from __future__ import annotations

import itertools

import pytest

from bot.models import Contact
from tests.voice.conftest import VoiceCall

_numbers = itertools.count(1)


def _new_caller(session, lang: str) -> str:
    phone = f"+22901970{next(_numbers):05d}"
    session.add(Contact(phone_e164=phone, language=lang))
    session.commit()
    return phone


def _call(client, session, lang: str, keys: tuple[str, ...]) -> VoiceCall:
    call = VoiceCall(client, _new_caller(session, lang))
    call.press("1")  # the first commune
    for key in keys:
        call.press(key)
    return call


def _keys(call: VoiceCall) -> list[str]:
    keys = list(call.choices().values())
    return [*keys, "8"] if ("tapez 8" in call.heard or "press 8" in call.heard) else keys


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_screen_two_keys_deep_is_valid_voice_xml(client, session, loaded, lang) -> None:
    main = _call(client, session, lang, ())
    assert main.collects_digits
    screens = 0
    for first in _keys(main):
        call = _call(client, session, lang, (first,))
        screens += 1
        assert call.collects_digits or call.records or call.says_goodbye, call.heard
        if not call.collects_digits:
            continue
        for second in _keys(call):
            after = _call(client, session, lang, (first, second))
            screens += 1
            assert after.collects_digits or after.records or after.says_goodbye
    assert screens > 30


def test_a_caller_reaches_the_recording_in_four_keys(client, session, loaded) -> None:
    call = _call(client, session, "fr", ())
    call.choose("Participer")
    call.choose("Signaler")
    call.choose("Eau")
    assert call.records
