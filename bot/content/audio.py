"""Recorded readings of content: which files are accepted, where they are served, which exist.

Staff upload one recording per content item and language on the dashboard
(bot/dashboard/content_audio.py). A content screen about one document or one
session carries the path of its recording (`Reply.audio`, filled in
bot/flows/info_common.py from the commune snapshot), and bot/media.py serves the
bytes publicly: Africa's Talking fetches them for a voice call's <Play>.

Only MP3 and WAV are accepted: Africa's Talking records calls as MP3 and its
documentation names no other format for <Play> (Ogg is not promised, so a
recording that could stay silent on a call is refused at upload). A file is
recognised by its first bytes, never by its name or the type the browser sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Base
from bot.models import ContentAudio, Document, Event

MAX_AUDIO_BYTES = 5 * 1024 * 1024
"""Bytes of one recording: minutes of speech in MP3, fetched whole by each call."""


@dataclass(frozen=True)
class AudioFormat:
    content_type: str
    extension: str


MP3 = AudioFormat("audio/mpeg", "mp3")
WAV = AudioFormat("audio/wav", "wav")
FORMATS: dict[str, AudioFormat] = {f.content_type: f for f in (MP3, WAV)}

RECORDABLE: dict[str, type[Base]] = {"documents": Document, "events": Event}
"""Kinds (as the dashboard names them) that a content screen can be about one of: a
compte administratif, a council or accountability session. Projects, contracts, the
agenda and good practices are read as lists, which no single recording stands for."""

RecordingKey = tuple[str, int, str]
"""(kind, item id, language)"""

_MEDIA_NAME = re.compile(r"(\d{1,18})-([0-9a-f]{8})\.(mp3|wav)")
_SYNCSAFE_BYTE = 0x80
_ID3_HEADER = 10
_ID3_FOOTER_FLAG = 0x10


class AudioRefused(ValueError):
    """An upload that is not a recording we can play; `reason` names why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "empty", "too_large" or "not_audio"


def check(data: bytes) -> AudioFormat:
    """The format of an uploaded recording; AudioRefused when it is empty, too big or
    neither MP3 nor WAV."""
    if not data:
        raise AudioRefused("empty")
    if len(data) > MAX_AUDIO_BYTES:
        raise AudioRefused("too_large")
    found = audio_format(data)
    if found is None:
        raise AudioRefused("not_audio")
    return found


def audio_format(data: bytes) -> AudioFormat | None:
    """WAV (a RIFF file of type WAVE) or MP3 (an MPEG layer III frame, after an ID3 tag
    if there is one), read from the first bytes; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return WAV
    start = 0
    if data[:3] == b"ID3":
        size = data[6:_ID3_HEADER]
        if len(size) < 4 or any(byte & _SYNCSAFE_BYTE for byte in size):
            return None
        # ID3v2 sizes are "syncsafe": 7 bits in each of 4 bytes.
        start = _ID3_HEADER + ((size[0] << 21) | (size[1] << 14) | (size[2] << 7) | size[3])
        if data[5] & _ID3_FOOTER_FLAG:
            start += _ID3_HEADER
    return MP3 if _is_layer3_frame(data[start : start + 4]) else None


def _is_layer3_frame(header: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a known version, layer III, a real
    bitrate and sampling rate (an AAC stream shares the sync bits, not the layer)."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return False
    version = (header[1] >> 3) & 0b11
    layer = (header[1] >> 1) & 0b11
    bitrate = header[2] >> 4
    sampling = (header[2] >> 2) & 0b11
    return version != 0b01 and layer == 0b01 and bitrate not in (0, 0b1111) and sampling != 0b11


def media_path(audio_id: int, sha256: str, content_type: str) -> str:
    """The public path of a recording: a new file gets a new path, so it may be cached forever."""
    return f"/media/audio/{audio_id}-{sha256[:8]}.{FORMATS[content_type].extension}"


def parse_media_name(name: str) -> tuple[int, str, str] | None:
    """(id, first 8 hex digits of the SHA-256, extension) of "12-ab12cd34.mp3"; None otherwise."""
    found = _MEDIA_NAME.fullmatch(name)
    if found is None:
        return None
    return int(found.group(1)), found.group(2), found.group(3)


def recordings(session: Session, commune_id: int) -> dict[RecordingKey, str]:
    """The paths of a commune's recordings by (kind, item id, language), bytes left unread."""
    rows = session.execute(
        select(
            ContentAudio.kind,
            ContentAudio.item_id,
            ContentAudio.language,
            ContentAudio.id,
            ContentAudio.sha256,
            ContentAudio.content_type,
        ).where(ContentAudio.commune_id == commune_id)
    )
    return {
        (kind, item_id, language): media_path(audio_id, sha256, content_type)
        for kind, item_id, language, audio_id, sha256, content_type in rows
    }
