"""Shared by the language tests: a catalog directory to add a language to, audio files."""

from __future__ import annotations

import io
import shutil
import wave
from pathlib import Path

import pytest

from bot import i18n


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped catalogs, in use for the test: adding a file adds a language."""
    copy = tmp_path / "catalogs"
    shutil.copytree(i18n.CATALOG_DIR, copy)
    monkeypatch.setattr(i18n, "CATALOG_DIR", copy)
    return copy


def mp3_bytes(size: int = 4096, *, tagged: bool = True) -> bytes:
    """An MP3 as encoders write it: an ID3v2 tag (with padding), then MPEG-1 layer III
    frames (128 kbit/s, 44.1 kHz: 417 bytes each)."""
    tag = b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 if tagged else b""
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    body = tag + frame * (size // len(frame) + 1)
    return body[:size]


def wav_bytes(seconds: float = 0.1) -> bytes:
    """A real WAV file: mono, 8 kHz, 16-bit, silence."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(bytes(int(8000 * seconds) * 2))
    return buffer.getvalue()
