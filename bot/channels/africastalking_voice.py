"""Africa's Talking Voice: reading a call's callbacks and the call API's answer.

AT posts to the voice callback URL when a call starts (a citizen dials our
number, or answers a call we placed), after each `<GetDigits>` or `<Record>`
it was told to run, and once more with `isActive=0` when the call is over,
with its duration and cost. The fields are those of AT's "Handle calls" page:
`isActive, sessionId, direction, callerNumber, destinationNumber`, and
`dtmfDigits`, `recordingUrl`, `durationInSeconds` when they apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channels.base import BadRequest, SendError, SendFailure, SendResult
from bot.channels.fields import optional, required
from bot.models.enums import MessageStatus
from bot.phone import InvalidPhoneNumber, normalize

OUTBOUND = "outbound"
DIRECTIONS = frozenset({"inbound", OUTBOUND})
MAX_DIGITS = 64
"""Far more keys than a caller presses for one answer: anything longer is not a keypad."""
MAX_URL = 2048

# The call API answers one entry per number called.
CALL_QUEUED = "Queued"
RETRYABLE_CALL_STATUSES = frozenset({"InsufficientCredit"})


@dataclass(frozen=True)
class VoiceCallback:
    session_id: str
    # False on the last request of a call, sent once it is over.
    active: bool
    # The citizen on the line: the caller of a call to our number, the callee of one we placed.
    phone: str
    direction: str | None
    # The keys pressed after a <GetDigits>; None when the request carries none.
    digits: str | None
    # After a <Record>: where AT keeps the recording; None when nothing was recorded.
    recording_url: str | None
    duration_seconds: int | None


def _phone(raw: str, field_name: str) -> str:
    try:
        return normalize(raw)
    except InvalidPhoneNumber as error:
        raise BadRequest(field_name, error.reason) from None


def parse_voice_form(form: Mapping[str, str], own_number: str | None) -> VoiceCallback:
    """A voice callback; BadRequest naming the field for anything malformed.

    `own_number` (AT_VOICE_NUMBER) tells the citizen apart on a call we placed,
    should AT name our number as its caller there.
    """
    active = required(form, "isActive", max_length=8).strip()
    if active not in ("0", "1"):
        raise BadRequest("isActive", f"expected 0 or 1, got {active!r}")
    direction = optional(form, "direction", max_length=16)
    if direction is not None:
        direction = direction.strip().lower()
        if direction not in DIRECTIONS:
            raise BadRequest("direction", f"expected Inbound or Outbound, got {direction!r}")
    phone = _phone(required(form, "callerNumber", max_length=64), "callerNumber")
    destination = optional(form, "destinationNumber", max_length=64)
    if direction == OUTBOUND and destination and own_number and phone == _own(own_number):
        phone = _phone(destination, "destinationNumber")
    recording = optional(form, "recordingUrl", max_length=MAX_URL)
    if recording is not None and not recording.strip().startswith(("https://", "http://")):
        raise BadRequest("recordingUrl", "not an http(s) URL")
    duration = optional(form, "durationInSeconds", max_length=16)
    if duration is not None and not duration.strip().isdigit():
        raise BadRequest("durationInSeconds", f"not a whole number of seconds: {duration!r}")
    return VoiceCallback(
        session_id=required(form, "sessionId", max_length=128),
        active=active == "1",
        phone=phone,
        direction=direction,
        digits=optional(form, "dtmfDigits", max_length=MAX_DIGITS),
        recording_url=recording.strip() if recording else None,
        duration_seconds=int(duration) if duration else None,
    )


def _own(number: str) -> str | None:
    try:
        return normalize(number)
    except InvalidPhoneNumber:
        return None


def call_result(answer: Any) -> SendResult:
    """The call API's answer for one number: the call's session id, or a classified SendError.

    AT answers `{"entries": [{"phoneNumber", "status", "sessionId"}], "errorMessage"}`;
    an empty `entries` means the whole request was refused (a wrong caller id, say).
    """
    if not isinstance(answer, dict) or not isinstance(answer.get("entries"), list):
        raise SendError(SendFailure.RETRYABLE, "unexpected_answer")
    error = str(answer.get("errorMessage") or "")
    entries = [entry for entry in answer["entries"] if isinstance(entry, dict)]
    if not entries:
        raise SendError(SendFailure.PERMANENT, "refused", error)
    status = str(entries[0].get("status") or "")
    session_id = entries[0].get("sessionId")
    if status == CALL_QUEUED and session_id and session_id != "None":
        return SendResult(external_id=str(session_id), status=MessageStatus.SENT)
    if status in RETRYABLE_CALL_STATUSES:
        raise SendError(SendFailure.RETRYABLE, status, error)
    raise SendError(SendFailure.PERMANENT, status or "refused", error)
