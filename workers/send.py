"""Sending one outbound message: at most once per row, retried with backoff.

A row is claimed by moving it from `queued` to `sending` in one UPDATE, so two
workers (or a job run twice) can never both send it. A row left in `sending`
by a crash or an unanswered request is the sweeper's business (see
workers/sweeper.py), never resent blindly here.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import update

from bot import models
from bot.channels.base import (
    Media,
    OutboundMessage,
    Sender,
    SendError,
    SendFailure,
    SendResult,
    Template,
)
from bot.channels.registry import sender
from bot.db import get_session
from bot.models.enums import MessageStatus, Provider
from bot.models.messaging import status_can_move
from bot.models.types import utcnow
from bot.optout import opt_out
from bot.redis import get_queue
from workers.context import job_context

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Attempts before a retryable failure is given up as `failed`."""

BACKOFF_SECONDS = 15
"""First retry delay; it doubles at each attempt (15 s, 30 s, 1 min, 2 min)."""

NO_PUBLIC_URL = "no_public_url"
"""Error code of a WhatsApp file whose URL a provider could not fetch."""


def send_outbound(message_id: int) -> str:
    """RQ job: send one `outbound_messages` row; returns what happened, for the job log."""
    with job_context():
        return deliver(message_id)


def _claim(message_id: int) -> bool:
    session = get_session()
    claimed = session.execute(
        update(models.OutboundMessage)
        .where(
            models.OutboundMessage.id == message_id,
            models.OutboundMessage.status == MessageStatus.QUEUED,
        )
        .values(status=MessageStatus.SENDING, attempts=models.OutboundMessage.attempts + 1)
    ).rowcount
    session.commit()
    return claimed == 1


def deliver(message_id: int) -> str:
    session = get_session()
    row = session.get(models.OutboundMessage, message_id)
    if row is None:
        return "unknown message"
    # Opted-out citizens still get answers to what they send (the STOP
    # confirmation first of all), never a broadcast.
    if row.broadcast_id is not None and row.contact.opted_out_at is not None:
        row.status = MessageStatus.SKIPPED
        session.commit()
        return "skipped: opted out"
    if not _claim(message_id):
        return f"not sent: already {row.status.value}"
    session.refresh(row)
    try:
        result = _send(row, _outgoing(row))
    except SendError as error:
        return _failed(row, error)
    row.external_id = result.external_id
    row.sent_at = utcnow()
    row.error_code = None
    # A delivery report may already have arrived for this id: never move back.
    row.status = (
        result.status if status_can_move(MessageStatus.SENDING, result.status) else row.status
    )
    session.commit()
    return f"sent: {result.external_id}"


def _outgoing(row: models.OutboundMessage) -> OutboundMessage:
    """What the provider gets: the text, or on WhatsApp a file with the text as its caption.

    The file is the row's `media` column alone: what the text says never makes a file.
    """
    outgoing = OutboundMessage(channel=row.channel, to=row.contact.phone_e164, text=row.text)
    if row.media is None:
        return outgoing
    media = Media(row.media["url"], row.media.get("content_type"), row.text or None)
    # Twilio and Meta fetch the file themselves: an app path means PUBLIC_BASE_URL is unset.
    if row.provider is not Provider.CONSOLE and not media.url.startswith(("https://", "http://")):
        raise SendError(SendFailure.PERMANENT, NO_PUBLIC_URL, "set PUBLIC_BASE_URL")
    return replace(outgoing, media=media)


def _send(row: models.OutboundMessage, outgoing: OutboundMessage) -> SendResult:
    return send_or_template(sender(row.provider), outgoing, _template_for(row))


def send_or_template(
    provider: Sender, outgoing: OutboundMessage, template: Template | None
) -> SendResult:
    """Send; outside the WhatsApp window, send the approved template instead when there is one."""
    try:
        return provider.send(outgoing)
    except SendError as error:
        if error.failure is not SendFailure.OUTSIDE_WINDOW or template is None:
            raise
        log.info("outside the WhatsApp window: resending as a template")
        return provider.send(replace(outgoing, template=template))


def _template_for(row: models.OutboundMessage) -> Template | None:
    broadcast = row.broadcast
    if broadcast is None:
        return None
    return template_for(broadcast, row.contact.language)


def template_for(broadcast: models.Broadcast, language: str | None) -> Template | None:
    if not broadcast.whatsapp_template:
        return None
    return Template(
        name=broadcast.whatsapp_template,
        language=language or "fr",
        variables=broadcast.whatsapp_template_variables or {},
    )


def _failed(row: models.OutboundMessage, error: SendError) -> str:
    session = get_session()
    row.error_code = error.code
    if error.failure is SendFailure.IN_DOUBT:
        # Left in `sending`: a delivery report or the sweeper settles it, a
        # blind retry could send it twice.
        session.commit()
        return f"in doubt: {error.code}"
    if error.failure is SendFailure.RETRYABLE and row.attempts < MAX_ATTEMPTS:
        row.status = MessageStatus.QUEUED
        session.commit()
        delay = timedelta(seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))
        get_queue("high" if row.broadcast_id is None else "bulk").enqueue_in(
            delay, send_outbound, row.id
        )
        return f"retry in {delay.total_seconds():.0f} s: {error.code}"
    if error.failure is SendFailure.OPTED_OUT:
        opt_out(session, row.contact, row.channel, reason=f"provider {error.code}")
    row.status = MessageStatus.FAILED
    session.commit()
    log.warning(
        "message failed",
        extra={"fields": {"id": row.id, "failure": error.failure.value, "code": error.code}},
    )
    return f"failed: {error.failure.value} {error.code}"
