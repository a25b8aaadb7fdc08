"""What every provider adapter takes and gives: normalized types, errors, the Protocol.

Provider quirks stay inside each adapter module; everything past this boundary
sees only these frozen types.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from flask import Request

from bot.models.enums import Channel, MessageStatus, Provider


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: Channel
    provider: Provider
    # E.164, or a WhatsApp id kept as given when it is not a phone number.
    sender_e164: str
    recipient: str
    text: str
    external_id: str
    received_at: datetime
    media: tuple[Media, ...] = ()
    location: Location | None = None
    session_id: str | None = None
    # AT premium SMS: the id a reply must quote so the citizen is not charged.
    link_id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class StatusUpdate:
    provider: Provider
    external_id: str
    status: MessageStatus
    error_code: str | None = None
    # The recipient as the report names it (E.164), when it does: a report for
    # a message whose handover a crash left in doubt is matched by it.
    recipient: str | None = None
    # The number of a recipient who refuses our messages, when the report carries it.
    opted_out_phone: str | None = None
    # The provider tells us this recipient refuses our messages (each adapter
    # knows its own codes, and a report may not carry the number).
    opted_out: bool = False


@dataclass(frozen=True)
class Template:
    """An approved WhatsApp template: Twilio ContentSid or Meta template name."""

    name: str
    language: str = "fr"
    variables: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    channel: Channel
    to: str
    text: str
    template: Template | None = None
    media: Media | None = None


@dataclass(frozen=True)
class SendResult:
    external_id: str
    status: MessageStatus = MessageStatus.SENT
    cost: str | None = None


class BadRequest(Exception):
    """A provider request we cannot read: answered 400 naming the field."""

    def __init__(self, field_name: str, why: str) -> None:
        super().__init__(f"{field_name}: {why}")
        self.field = field_name
        self.why = why


class Forbidden(Exception):
    """A request whose signature or token does not check out: answered 403."""


class SendFailure(StrEnum):
    RETRYABLE = "retryable"  # timeouts, 5xx, 429 and throttling: try again later
    PERMANENT = "permanent"  # bad number, rejected content: never retry
    OPTED_OUT = "opted_out"  # the recipient refuses our messages: mark the contact
    OUTSIDE_WINDOW = "outside_window"  # WhatsApp 24 h window closed: use a template
    # The request left but no answer came back (read timeout, connection cut):
    # the provider may have taken it, so resending could send it twice.
    IN_DOUBT = "in_doubt"


class SendError(Exception):
    """A send that did not go through, with what to do about it."""

    def __init__(self, failure: SendFailure, code: str, detail: str = "") -> None:
        super().__init__(f"{failure.value} ({code}): {detail}" if detail else f"{failure} ({code})")
        self.failure = failure
        self.code = code
        self.detail = detail


class Sender(Protocol):
    provider: Provider

    def send(self, message: OutboundMessage) -> SendResult:
        """Raise SendError, classified, when the provider does not take the message."""


class Adapter(Sender, Protocol):
    """A provider that also calls our webhooks."""

    def verify(self, request: Request) -> None:
        """Raise Forbidden unless the request really comes from the provider."""

    def parse_inbound(self, request: Request) -> Sequence[InboundMessage]:
        """Raise BadRequest(field, why) for anything malformed."""

    def parse_status(self, request: Request) -> Sequence[StatusUpdate]:
        """Delivery reports; raise BadRequest for anything malformed."""
