"""Writing, pricing and steering a broadcast from the dashboard (and the JSON API).

`preview` prices what staff typed without storing anything: the broadcast it
hands to `compose.estimate` is a transient object never added to the session.
`send` stores it through `compose.create` and asks it to go; `pause`, `resume`
and `cancel` steer it through `bot.broadcasts.sending`. Every write adds an
audit row; the caller commits. Bad values raise FormInvalid with a message per
field in the staff's language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.broadcasts import compose, sending
from bot.dashboard.event_edit import parse_local_datetime
from bot.dashboard.forms import FormInvalid, flag, text
from bot.dashboard.text import translate
from bot.models import Broadcast, Commune, StaffUser
from bot.models.enums import BroadcastKind, BroadcastStatus, Channel, Topic
from bot.models.types import utcnow

TEXT_FIELDS = {"fr": "text_fr", "en": "text_en"}
"""Form field of each language's text; French is required."""

MAX_TEMPLATE = Broadcast.__table__.c.whatsapp_template.type.length or 120
MAX_VARIABLES = 10
MAX_VARIABLE_VALUE = 200
_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_.:-]+")
_VARIABLE_KEY = re.compile(r"[A-Za-z0-9_]{1,40}")


@dataclass(frozen=True)
class Draft:
    """A broadcast as typed, checked: the arguments of `compose.create`."""

    topic: Topic
    texts: dict[str, str]
    channels: list[Channel]
    whatsapp_template: str | None
    template_variables: dict[str, str]
    scheduled_at: datetime | None  # None: now
    urgent: bool


def _error(key: str, **params: object) -> str:
    return translate(f"dashboard.broadcasts.error.{key}", **params)


def _channel_names(raw: object) -> list[str]:
    if isinstance(raw, str):
        return [part.strip() for part in raw.split(",") if part.strip()]
    if isinstance(raw, list | tuple):
        return [part.strip() for part in raw if isinstance(part, str) and part.strip()]
    return []


def _variables(raw: object) -> dict[str, str]:
    """`KEY=value` lines (a form's textarea), or a mapping (the API)."""
    if isinstance(raw, Mapping):
        pairs = [(str(key), str(value)) for key, value in raw.items()]
    elif isinstance(raw, str):
        pairs = [line.partition("=")[::2] for line in raw.splitlines() if line.strip()]
        if any("=" not in line for line in raw.splitlines() if line.strip()):
            raise ValueError("not KEY=value")
    else:
        pairs = []
    found = {key.strip(): value.strip() for key, value in pairs}
    if len(found) > MAX_VARIABLES or len(found) != len(pairs):
        raise ValueError("too many or repeated")
    if not all(_VARIABLE_KEY.fullmatch(key) for key in found):
        raise ValueError("bad key")
    if any(len(value) > MAX_VARIABLE_VALUE for value in found.values()):
        raise ValueError("value too long")
    return found


def check(values: Mapping[str, Any], now: datetime | None = None) -> Draft:
    """Check form or API values; FormInvalid names every bad field.

    Values: topic (one of compose.BROADCAST_TOPICS), text_fr (required), text_en, channels (a
    list, or "sms,whatsapp"), whatsapp_template, template_variables
    ("KEY=value" lines or a mapping), scheduled_at (local "YYYY-MM-DDTHH:MM",
    blank for now), urgent ("on"/"1"/"true": goes even in quiet hours).
    """
    errors: dict[str, str] = {}
    topic = Topic.ALL
    if text(values, "topic") in compose.BROADCAST_TOPICS:
        topic = Topic(text(values, "topic"))
    else:
        errors["topic"] = _error("topic")
    texts = {language: text(values, name) for language, name in TEXT_FIELDS.items()}
    if not texts["fr"]:
        errors["text_fr"] = _error("text_required")
    for language, name in TEXT_FIELDS.items():
        if len(texts[language]) > compose.MAX_TEXT:
            errors[name] = _error("too_long", limit=compose.MAX_TEXT)
    names = _channel_names(values.get("channels"))
    channels = [c for c in compose.BROADCAST_CHANNELS if c.value in names]
    if not channels or len(set(names)) != len(channels):
        errors["channels"] = _error("channels")
    template = text(values, "whatsapp_template") or None
    if template and (len(template) > MAX_TEMPLATE or not _TEMPLATE_NAME.fullmatch(template)):
        errors["whatsapp_template"] = _error("template")
    elif template and Channel.WHATSAPP not in channels:
        errors["whatsapp_template"] = _error("template_without_whatsapp")
    try:
        variables = _variables(values.get("template_variables"))
    except ValueError:
        variables = {}
        errors["template_variables"] = _error("variables", limit=MAX_VARIABLES)
    if variables and not template and "template_variables" not in errors:
        errors["template_variables"] = _error("variables_without_template")
    scheduled_at = None
    try:
        scheduled_at = parse_local_datetime(
            values.get("scheduled_at"), "scheduled_at", required=False
        )
    except FormInvalid as invalid:
        errors.update(invalid.errors)
    if scheduled_at is not None and scheduled_at <= (now or utcnow()):
        errors["scheduled_at"] = _error("past")
    if errors:
        raise FormInvalid(errors)
    return Draft(
        topic=topic,
        texts={language: text for language, text in texts.items() if text},
        channels=channels,
        whatsapp_template=template,
        template_variables=variables,
        scheduled_at=scheduled_at,
        urgent=flag(values, "urgent"),
    )


def preview(
    session: Session, commune: Commune, values: Mapping[str, Any], now: datetime | None = None
) -> compose.Estimate:
    """What the broadcast would send, to how many and at what cost; stores nothing."""
    draft = check(values, now)
    transient = Broadcast(
        commune_id=commune.id,
        topic=draft.topic,
        kind=BroadcastKind.MANUAL,
        text_by_language=draft.texts,
        channels=[channel.value for channel in draft.channels],
        whatsapp_template=draft.whatsapp_template,
        whatsapp_template_variables=draft.template_variables or None,
        urgent=draft.urgent,
        scheduled_at=draft.scheduled_at,
        status=BroadcastStatus.DRAFT,
    )
    return compose.estimate(session, transient, now)


def send(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    values: Mapping[str, Any],
    now: datetime | None = None,
) -> Broadcast:
    """Store the broadcast and ask it to go at its time, or now; its job is queued on commit."""
    draft = check(values, now)
    try:
        broadcast = compose.create(
            session,
            commune_slug=commune.slug,
            topic=draft.topic,
            texts=draft.texts,
            channels=draft.channels,
            whatsapp_template=draft.whatsapp_template,
            template_variables=draft.template_variables,
            scheduled_at=draft.scheduled_at,
            urgent=draft.urgent,
            created_by_id=staff.id,
        )
    except compose.BroadcastInvalid as invalid:
        # check() already refuses what create() refuses; this keeps the two from drifting apart.
        raise FormInvalid({invalid.field: _error("invalid")}) from None
    sending.request_start(session, broadcast)
    audit.record(
        session,
        staff,
        "send",
        "broadcast",
        broadcast.id,
        commune.id,
        after=audit.snapshot(broadcast),
    )
    return broadcast


def broadcast_of(session: Session, commune: Commune, broadcast_id: int) -> Broadcast | None:
    """The broadcast `broadcast_id` of `commune`; None when it is another commune's or unknown."""
    return session.scalar(
        select(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.commune_id == commune.id)
        # Workers move counters and status in other sessions: read them afresh.
        .execution_options(populate_existing=True)
    )


def _steer(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    broadcast: Broadcast,
    action: str,
    apply: Callable[[Session, Broadcast], object],
) -> object:
    if broadcast.commune_id != commune.id:
        raise ValueError(f"broadcast {broadcast.id} is not of commune {commune.slug}")
    before = {"status": broadcast.status.value}
    try:
        result = apply(session, broadcast)
    except sending.BroadcastStateError:
        label = translate(f"dashboard.broadcasts.status.{broadcast.status}")
        raise FormInvalid({"status": _error("state", status=label)}) from None
    after: dict[str, object] = {"status": broadcast.status.value}
    if isinstance(result, int):
        after["skipped"] = result
    audit.record(session, staff, action, "broadcast", broadcast.id, commune.id, before, after)
    return result


def pause(session: Session, staff: StaffUser, commune: Commune, broadcast: Broadcast) -> None:
    """Stop handing messages over; those already with the provider go on."""
    _steer(session, staff, commune, broadcast, "pause", sending.pause)


def resume(session: Session, staff: StaffUser, commune: Commune, broadcast: Broadcast) -> None:
    """Go on with a paused broadcast (its batches are queued on commit)."""
    _steer(session, staff, commune, broadcast, "resume", sending.resume)


def cancel(session: Session, staff: StaffUser, commune: Commune, broadcast: Broadcast) -> int:
    """Cancel; the messages not yet handed over are skipped. Returns how many."""
    skipped = _steer(session, staff, commune, broadcast, "cancel", sending.cancel)
    return skipped if isinstance(skipped, int) else 0
