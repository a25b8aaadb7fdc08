"""Appelez-moi: a citizen on USSD asks to be called, so the call costs them nothing.

The call is an `outbound_messages` row on the voice channel, sent like any
message (workers/send.py): claimed by one worker, retried with backoff when AT
refused it for now, and failed, not placed again, when AT's answer was lost
and the phone may have rung. Through Africa's Talking it rings from
AT_VOICE_NUMBER and, once answered, walks the voice menus (bot/voice.py);
without AT voice settings the console provider logs it. A number gets at most
one call per CALLBACK_INTERVAL_SECONDS, so a prank cannot run up the mairie's
bill, and an opted-out contact (STOP) is never called.
"""

from __future__ import annotations

from enum import StrEnum
from functools import partial

from flask import Flask, current_app
from sqlalchemy.orm import Session

from bot.db import after_commit
from bot.i18n import t
from bot.models import Contact
from bot.models.enums import Channel, Provider
from bot.outbox import new_message
from bot.redis import get_queue, get_redis

CALLBACK_INTERVAL_SECONDS = 600
"""At most one requested call per number in this many seconds."""
CALL_JOB = "workers.voice.place_call"


class CallRequest(StrEnum):
    QUEUED = "queued"
    TOO_SOON = "too_soon"  # a call was requested less than CALLBACK_INTERVAL_SECONDS ago
    OPTED_OUT = "opted_out"


def call_provider(app: Flask | None = None) -> Provider:
    """Africa's Talking when its voice settings are there, else the console provider."""
    config = (app or current_app).config
    if config["AT_USERNAME"] and config["AT_API_KEY"] and config["AT_VOICE_NUMBER"]:
        return Provider.AFRICASTALKING
    return Provider.CONSOLE


def _limit_key(contact_id: int) -> str:
    return f"voice:callback:{contact_id}"


def request_call(session: Session, contact_id: int) -> CallRequest:
    """Queue a call to the contact, once the session commits, unless it may not be made."""
    contact = session.get(Contact, contact_id)
    if contact is None or contact.opted_out_at is not None:
        return CallRequest.OPTED_OUT
    if not get_redis().set(_limit_key(contact_id), 1, nx=True, ex=CALLBACK_INTERVAL_SECONDS):
        return CallRequest.TOO_SOON
    text = t("voice.callme.record", contact.language)
    row = new_message(session, contact, Channel.VOICE, call_provider(), text)
    after_commit(session, partial(enqueue_call, row.id))
    return CallRequest.QUEUED


def enqueue_call(row_id: int) -> None:
    # `high`: the citizen is waiting for the phone to ring.
    get_queue("high").enqueue(CALL_JOB, row_id)
