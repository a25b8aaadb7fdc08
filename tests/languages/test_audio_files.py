"""Which uploads are recordings we can play: told by their bytes, never by their name."""

from __future__ import annotations

import pytest

from bot.content.audio import (
    MAX_AUDIO_BYTES,
    MP3,
    WAV,
    AudioRefused,
    audio_format,
    check,
    media_path,
    parse_media_name,
)
from tests.languages.conftest import mp3_bytes, wav_bytes

SHA = "ab12cd34" + "0" * 56


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (mp3_bytes(), MP3),
        (mp3_bytes(tagged=False), MP3),
        # An ID3 tag with a footer (flag 0x10) is 10 bytes longer.
        (b"ID3\x04\x00\x10\x00\x00\x00\x00" + bytes(10) + mp3_bytes(tagged=False), MP3),
        (wav_bytes(), WAV),
    ],
)
def test_recordings_are_recognised(data: bytes, expected) -> None:
    assert audio_format(data) == expected
    assert check(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(100),  # an image
        b"%PDF-1.7\n" + bytes(100),
        b"OggS\x00\x02" + bytes(100),  # Ogg: not promised by Africa's Talking
        b"\xff\xf1\x50\x80" + bytes(100),  # AAC (ADTS): same sync bits, no layer
        b"\xff\xfd\x90\x64" + bytes(100),  # MPEG layer II
        b"\xff\xfb\xf0\x64" + bytes(100),  # layer III with a forbidden bitrate
        b"\xff\xfb\x9c\x64" + bytes(100),  # layer III with a reserved sampling rate
        b"\xff\xeb\x90\x64" + bytes(100),  # a reserved MPEG version
        b"ID3\x04\x00\x00\x00\x00\x00\x0a" + bytes(10) + b"not audio at all",
        b"ID3\x04\x00\x00\x80\x00\x00\x00" + mp3_bytes(tagged=False),  # size not syncsafe
        b"ID3\x04",  # cut short
        b"RIFF\x24\x00\x00\x00AVI LIST",  # RIFF, but a video
        b"<html><body>audio.mp3</body></html>",
        b"Bonjour, ceci est un texte.",
    ],
)
def test_anything_else_is_refused(data: bytes) -> None:
    assert audio_format(data) is None
    with pytest.raises(AudioRefused) as refused:
        check(data)
    assert refused.value.reason == "not_audio"


def test_empty_and_too_large_are_refused_with_their_reason() -> None:
    with pytest.raises(AudioRefused) as empty:
        check(b"")
    assert empty.value.reason == "empty"
    assert check(mp3_bytes(MAX_AUDIO_BYTES)) == MP3
    with pytest.raises(AudioRefused) as large:
        check(mp3_bytes(MAX_AUDIO_BYTES + 1))
    assert large.value.reason == "too_large"


def test_media_paths_name_the_file_and_read_back() -> None:
    assert media_path(12, SHA, "audio/mpeg") == "/media/audio/12-ab12cd34.mp3"
    assert media_path(7, SHA, "audio/wav") == "/media/audio/7-ab12cd34.wav"
    assert parse_media_name("12-ab12cd34.mp3") == (12, "ab12cd34", "mp3")


@pytest.mark.parametrize(
    "name",
    [
        "12-ab12cd34.ogg",
        "12-AB12CD34.mp3",
        "12-ab12cd3.mp3",
        "x-ab12cd34.mp3",
        "12-ab12cd34.mp3.exe",
        "-1-ab12cd34.mp3",
        "9" * 19 + "-ab12cd34.mp3",
        "",
    ],
)
def test_other_media_names_are_not_recordings(name: str) -> None:
    assert parse_media_name(name) is None
