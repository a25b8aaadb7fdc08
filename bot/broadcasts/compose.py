"""Writing a broadcast: checked before it is stored, priced before it goes.

What staff see before sending (the CLI now, the dashboard later): for each
channel and language the exact text that will go (transliterated to GSM-7 for
SMS, with the opt-out line), the characters that were replaced, the number of
SMS segments, the recipients and the estimated cost; WhatsApp recipients
outside the 24 h window, who need the approved template; and whether quiet
hours will hold it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from bot.broadcasts import audience
from bot.broadcasts.audience import WHATSAPP_WINDOW
from bot.broadcasts.quiet import QuietHours
from bot.content.cache import commune_id
from bot.gsm import estimate_cost_xof, non_gsm7_chars, segment_info, to_gsm7
from bot.i18n import SUPPORTED_LANGUAGES, t
from bot.models import Broadcast
from bot.models.enums import BroadcastKind, BroadcastStatus, Channel, Topic
from bot.models.types import utcnow

MAX_TEXT = 1000
"""Characters of staff text per language: 7 SMS segments, a long alert already."""

BROADCAST_CHANNELS = (Channel.SMS, Channel.WHATSAPP)

BROADCAST_TOPICS = tuple(topic for topic in Topic if topic is not Topic.DIGEST)
"""What staff may send to; the weekly digest is written by bot/participation/digest.py."""


class BroadcastInvalid(ValueError):
    """A broadcast that cannot be sent as given; names the field."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field
        self.why = why


def message_text(text: str, language: str, channel: Channel) -> str:
    """What a recipient reads: the text and how to stop, in GSM-7 for SMS."""
    full = f"{text.strip()}\n{t('broadcast.stop_hint', language)}"
    return to_gsm7(full) if channel is Channel.SMS else full


def price(text: str, channel: Channel, config: Mapping[str, Any]) -> tuple[int, int]:
    """(segments, estimated cost in XOF) of one message of `text` on `channel`."""
    if channel is Channel.SMS:
        return segment_info(text).segments, estimate_cost_xof(text, config["SMS_SEGMENT_COST_XOF"])
    return 1, config["WHATSAPP_MESSAGE_COST_XOF"]


def create(
    session: Session,
    *,
    commune_slug: str,
    topic: Topic | str,
    texts: Mapping[str, str],
    channels: Sequence[Channel | str],
    whatsapp_template: str | None = None,
    template_variables: Mapping[str, str] | None = None,
    scheduled_at: datetime | None = None,
    urgent: bool = False,
    kind: BroadcastKind = BroadcastKind.MANUAL,
    event_id: int | None = None,
    created_by_id: int | None = None,
) -> Broadcast:
    """A checked, stored draft; `sending.start` sends it (or schedules it)."""
    commune = commune_id(session, commune_slug)
    if commune is None:
        raise BroadcastInvalid("commune", f"unknown commune {commune_slug!r}")
    broadcast = Broadcast(
        commune_id=commune,
        topic=_topic(topic),
        kind=kind,
        event_id=event_id,
        text_by_language=_texts(texts),
        channels=[channel.value for channel in _channels(channels)],
        whatsapp_template=(whatsapp_template or "").strip() or None,
        whatsapp_template_variables=dict(template_variables or {}) or None,
        urgent=urgent,
        scheduled_at=_schedule(scheduled_at),
        status=BroadcastStatus.DRAFT,
        created_by_id=created_by_id,
    )
    session.add(broadcast)
    session.flush()
    return broadcast


def _topic(topic: Topic | str) -> Topic:
    if topic not in BROADCAST_TOPICS:
        raise BroadcastInvalid("topic", f"one of {', '.join(BROADCAST_TOPICS)}")
    return Topic(topic)


def _texts(texts: Mapping[str, str]) -> dict[str, str]:
    cleaned = {language: (text or "").strip() for language, text in texts.items()}
    cleaned = {language: text for language, text in cleaned.items() if text}
    if not cleaned:
        raise BroadcastInvalid("text", "a text in at least one language is needed")
    for language, text in cleaned.items():
        if language not in SUPPORTED_LANGUAGES:
            raise BroadcastInvalid("text", f"language {language!r} is not one of the catalogs")
        if len(text) > MAX_TEXT:
            raise BroadcastInvalid(f"text.{language}", f"at most {MAX_TEXT} characters")
    return cleaned


def _channels(channels: Sequence[Channel | str]) -> list[Channel]:
    found: list[Channel] = []
    for raw in channels:
        try:
            channel = Channel(raw)
        except ValueError:
            channel = None
        if channel not in BROADCAST_CHANNELS:
            names = ", ".join(c.value for c in BROADCAST_CHANNELS)
            raise BroadcastInvalid("channels", f"{raw!r} is not one of {names}")
        if channel not in found:
            found.append(channel)
    if not found:
        raise BroadcastInvalid("channels", "at least one channel is needed")
    return found


def _schedule(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise BroadcastInvalid("scheduled_at", "give a time with its time zone")
    return moment


@dataclass(frozen=True)
class Line:
    channel: Channel
    language: str
    text: str
    replaced: tuple[str, ...]  # characters that SMS cannot carry as written
    segments: int
    recipients: int
    cost_xof: int
    outside_window: int  # WhatsApp recipients who need the template


@dataclass(frozen=True)
class Estimate:
    lines: tuple[Line, ...]
    held_until: datetime | None  # quiet hours hold it until then

    @property
    def recipients(self) -> int:
        return sum(line.recipients for line in self.lines)

    @property
    def cost_xof(self) -> int:
        return sum(line.cost_xof for line in self.lines)


def estimate(session: Session, broadcast: Broadcast, now: datetime | None = None) -> Estimate:
    config = current_app.config
    now = now or utcnow()
    lines = []
    for group in audience.groups(broadcast, config["DEFAULT_LANGUAGE"]):
        source = broadcast.text_by_language[group.language]
        text = message_text(source, group.language, group.channel)
        count = audience.size(session, broadcast, group, now)
        segments, cost = price(text, group.channel, config)
        if group.channel is Channel.SMS:
            replaced = tuple(dict.fromkeys(non_gsm7_chars(source)))
            outside = 0
        else:
            replaced = ()
            outside = audience.outside_whatsapp_window(
                session, broadcast, group, now - WHATSAPP_WINDOW
            )
        lines.append(
            Line(
                channel=group.channel,
                language=group.language,
                text=text,
                replaced=replaced,
                segments=segments,
                recipients=count,
                cost_xof=count * cost,
                outside_window=outside,
            )
        )
    due = broadcast.scheduled_at or now
    held = QuietHours.from_config(config).release_time(max(due, now), broadcast.urgent)
    return Estimate(tuple(lines), held)
