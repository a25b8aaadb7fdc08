"""Feedback by voice: commune and category by keys, the message recorded, the ticket
filed only when the recording arrives."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from bot.models import Feedback
from bot.models.enums import Channel, FeedbackCategory, FeedbackStatus
from tests.voice.conftest import VoiceCall
from tests.voice.shape import said

PHONE = "+2290197123456"
RECORDING = "https://voice.africastalking.com/recordings/ATVId_1.mp3"


def _tickets(session) -> int:
    session.rollback()
    return session.scalar(select(func.count()).select_from(Feedback)) or 0


def _at_the_beep(client) -> VoiceCall:
    call = VoiceCall(client, PHONE)
    call.choose("Cotonou")
    call.choose("Participer")
    call.choose("Signaler un probleme")
    assert "De quoi s'agit-il" in call.heard
    call.choose("Voirie")
    assert call.records
    return call


def test_a_recorded_message_files_one_ticket_with_the_audio(client, session, loaded) -> None:
    call = _at_the_beep(client)
    [record] = call.xml
    assert record.attrib["finishOnKey"] == "#"
    assert record.attrib["playBeep"] == "true" and record.attrib["trimSilence"] == "true"
    assert record.attrib["callbackUrl"] == "http://localhost/webhooks/at/voice"
    assert "Après le bip" in said(record)
    assert _tickets(session) == 0  # nothing filed before the recording arrives

    call.record(RECORDING)
    assert call.says_goodbye
    [ticket] = session.scalars(select(Feedback)).all()
    assert ticket.channel is Channel.VOICE
    assert ticket.category is FeedbackCategory.VOIRIE
    assert ticket.status is FeedbackStatus.RECEIVED
    assert ticket.anonymous is False
    assert ticket.media == [{"url": RECORDING, "content_type": "audio/mpeg", "caption": None}]
    assert ticket.text.startswith("Message vocal")

    # The reference is read back character by character, never as one word.
    spelled = ", ".join(ticket.ref.replace("-", ""))
    words = said(call.xml)
    assert spelled in words, words
    assert ticket.ref not in words

    # AT's last request repeats the recording: it is not a second ticket.
    call.hang_up(recordingUrl=RECORDING)
    assert _tickets(session) == 1


def test_a_hang_up_mid_recording_files_nothing(client, session, loaded) -> None:
    call = _at_the_beep(client)
    # The caller hangs up while speaking: AT's last request carries what it recorded.
    call.hang_up(recordingUrl=RECORDING)
    assert _tickets(session) == 0
    # The call is forgotten: a late recording callback starts no ticket either.
    call.record(RECORDING)
    assert call.collects_digits
    assert _tickets(session) == 0


def test_an_empty_recording_is_asked_again_then_the_call_ends(client, session, loaded) -> None:
    call = _at_the_beep(client)
    call.post(recordingUrl="")
    assert call.records
    assert said(call.xml).startswith("Nous n'avons rien enregistré.")
    call.post()
    assert call.says_goodbye and "Rien n'a été envoyé" in said(call.xml)
    assert _tickets(session) == 0


def test_keys_pressed_at_the_beep_are_not_a_recording(client, session, loaded) -> None:
    call = _at_the_beep(client)
    call.press("1")
    assert call.records
    assert _tickets(session) == 0


def test_the_daily_limit_holds_by_voice_too(app, client, session, loaded) -> None:
    app.config["FEEDBACK_DAILY_LIMIT"] = 1
    _at_the_beep(client).record(RECORDING)
    assert _tickets(session) == 1
    call = VoiceCall(client, PHONE)
    call.choose("Participer")
    call.choose("Signaler un probleme")
    assert call.says_goodbye and re.search("plusieurs signalements", said(call.xml))
    assert _tickets(session) == 1
