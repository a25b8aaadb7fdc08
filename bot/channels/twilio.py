"""Twilio SMS and WhatsApp: signed form webhooks in, the official SDK out.

Twilio signs each webhook with the account auth token over the public URL it
called plus the POST params (`X-Twilio-Signature`). WhatsApp addresses carry a
`whatsapp:` prefix on both sides; everything past this module sees bare numbers.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Request
from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from bot.channels.base import (
    BadRequest,
    Forbidden,
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    SendError,
    SendFailure,
    SendResult,
    StatusUpdate,
)
from bot.channels.fields import optional, required
from bot.channels.transport import transport_error
from bot.models.enums import Channel, MessageStatus, Provider
from bot.phone import InvalidPhoneNumber, mask_in_text, normalize

log = logging.getLogger(__name__)

# The SDK logs every API call at INFO (URL with the account SID, all headers but
# Authorization, one set of lines per message): too much for broadcasts, and our
# secrets must not depend on which header the SDK remembers to skip.
logging.getLogger("twilio.http_client").setLevel(logging.WARNING)

WHATSAPP_PREFIX = "whatsapp:"
SIGNATURE_HEADER = "X-Twilio-Signature"
# Present when a Webhook Setting signs with a SharedKey instead of the auth token.
SHARED_KEY_HEADER = "X-Twilio-Webhooks-Signature-Settings"
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
MAX_MEDIA = 10
"""Twilio attaches at most 10 media to one message."""

# Twilio error codes (https://www.twilio.com/docs/api/errors).
OPTED_OUT_CODE = 21610  # the recipient replied STOP
OUTSIDE_WINDOW_CODE = 63016  # WhatsApp free-form message outside the 24 h window
TOO_MANY_REQUESTS_CODE = 20429

# accepted..sent all mean Twilio holds the message; our QUEUED/SENDING mean it does not yet.
# None: statuses of inbound messages, nothing of ours to update.
STATUSES: Mapping[str, MessageStatus | None] = {
    **dict.fromkeys(("accepted", "scheduled", "queued", "sending", "sent"), MessageStatus.SENT),
    **dict.fromkeys(("delivered", "partially_delivered"), MessageStatus.DELIVERED),
    "read": MessageStatus.READ,
    **dict.fromkeys(("undelivered", "failed", "canceled"), MessageStatus.FAILED),
    **dict.fromkeys(("receiving", "received"), None),
}

NO_CREDENTIALS = "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set"
BAD_BASE_URL = "TWILIO_API_BASE_URL is not a usable URL"

_SID = re.compile(r"[A-Za-z0-9]+")
_COUNT = re.compile(r"[0-9]{1,2}")
_BAD_BASE_URL = (MissingSchema, InvalidSchema, InvalidURL)


class TwilioAdapter:
    provider = Provider.TWILIO

    def __init__(self, config: Mapping[str, Any], *, timeout: float = 10.0) -> None:
        self._production = config.get("ENV") == "production"
        self._public_base_url = (config.get("PUBLIC_BASE_URL") or "").rstrip("/") or None
        self._account_sid: str | None = config.get("TWILIO_ACCOUNT_SID") or None
        self._auth_token: str | None = config.get("TWILIO_AUTH_TOKEN") or None
        self._sms_from: str | None = config.get("TWILIO_SMS_FROM") or None
        self._whatsapp_from: str | None = config.get("TWILIO_WHATSAPP_FROM") or None
        self._client = (
            _client(self._account_sid, self._auth_token, config.get("TWILIO_API_BASE_URL"), timeout)
            if self._account_sid and self._auth_token
            else None
        )

    def verify(self, request: Request) -> None:
        if not self._auth_token:
            if self._production:
                log.error("TWILIO_AUTH_TOKEN is not configured: Twilio webhook refused")
                raise Forbidden("Twilio auth token not configured")
            # The console-provider setup and the simulator post unsigned Twilio forms.
            log.warning("TWILIO_AUTH_TOKEN is not configured: unsigned Twilio webhook accepted")
            return
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if not signature:
            log.warning("Twilio webhook without %s refused", SIGNATURE_HEADER)
            raise Forbidden(f"missing {SIGNATURE_HEADER}")
        url = self._signed_url(request)
        # request.form is a MultiDict: repeated keys are all signed, as Twilio does.
        if not RequestValidator(self._auth_token).validate(url, request.form, signature):
            shared_key = (
                " (signed with a SharedKey)" if SHARED_KEY_HEADER in request.headers else ""
            )
            log.warning("Twilio signature does not match %s%s", url.partition("?")[0], shared_key)
            raise Forbidden(f"{SIGNATURE_HEADER} does not match")

    def parse_inbound(self, request: Request) -> Sequence[InboundMessage]:
        form = request.form
        external_id = _message_sid(form)
        self._check_account(required(form, "AccountSid", max_length=64))
        sender = required(form, "From")
        # A quick-reply button without a Body: its payload is ours, its text what the citizen saw.
        text = (
            optional(form, "Body", max_length=5000)
            or optional(form, "ButtonPayload")
            or optional(form, "ButtonText")
            or ""
        )
        return [
            InboundMessage(
                channel=Channel.WHATSAPP if _has_prefix(sender) else Channel.SMS,
                provider=self.provider,
                sender_e164=_address(sender, "From"),
                recipient=_strip_prefix(required(form, "To", max_length=64)),
                text=text,
                external_id=external_id,
                received_at=datetime.now(UTC),
                media=_media(form),
                location=_location(form),
                raw=form.to_dict(),
            )
        ]

    def parse_status(self, request: Request) -> Sequence[StatusUpdate]:
        form = request.form
        external_id = _message_sid(form)
        self._check_account(optional(form, "AccountSid", max_length=64))
        raw_status = required(form, "MessageStatus", max_length=64).strip().lower()
        if raw_status not in STATUSES:
            allowed = ", ".join(STATUSES)
            raise BadRequest(
                "MessageStatus", f"unknown status {raw_status!r}; expected one of: {allowed}"
            )
        status = STATUSES[raw_status]
        if status is None:
            return []
        error_code = (optional(form, "ErrorCode", max_length=16) or "").strip() or None
        opted_out = None
        if error_code == str(OPTED_OUT_CODE):
            opted_out = _address(required(form, "To"), "To")
        to = optional(form, "To", max_length=64)
        return [
            StatusUpdate(
                provider=self.provider,
                external_id=external_id,
                status=status,
                error_code=error_code,
                recipient=_optional_address(to),
                opted_out=opted_out is not None,
                opted_out_phone=opted_out,
            )
        ]

    def send(self, message: OutboundMessage) -> SendResult:
        if self._client is None:
            raise SendError(SendFailure.PERMANENT, "not_configured", NO_CREDENTIALS)
        params: dict[str, Any] = self._addresses(message)
        if self._public_base_url:
            params["status_callback"] = self._public_base_url + STATUS_CALLBACK_PATH
        if message.template is not None:
            # An approved template carries its own text: no Body goes with it.
            params["content_sid"] = message.template.name
            if message.template.variables:
                params["content_variables"] = json.dumps(dict(message.template.variables))
        else:
            body = message.text or (message.media.caption if message.media else None)
            if body:
                params["body"] = body
            if message.media is not None:
                params["media_url"] = [message.media.url]
        # `from None` throughout: a chained SDK error would carry the provider's raw text
        # into tracebacks, past the redaction of _safe.
        try:
            created = self._client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as error:
            raise self._classified(error) from None
        except _BAD_BASE_URL:
            raise SendError(SendFailure.PERMANENT, "not_configured", BAD_BASE_URL) from None
        except requests.RequestException as error:
            raise transport_error(error) from None
        except ValueError:  # a 2xx answer that is not JSON: a proxy or portal, not Twilio
            raise SendError(SendFailure.RETRYABLE, "unexpected_answer") from None
        if not created.sid:
            raise SendError(SendFailure.RETRYABLE, "unexpected_answer", "no message sid")
        return SendResult(external_id=created.sid, status=MessageStatus.SENT)

    def _signed_url(self, request: Request) -> str:
        """The URL Twilio called: the public origin when known, else what ProxyFix rebuilt."""
        base = self._public_base_url + request.path if self._public_base_url else request.base_url
        # The raw query string: request.url would decode %XX escapes Twilio signed encoded.
        query = request.query_string.decode("utf-8", "replace")
        return f"{base}?{query}" if query else base

    def _check_account(self, account: str | None) -> None:
        if account and self._account_sid and account.strip() != self._account_sid:
            raise BadRequest("AccountSid", "not this service's Twilio account")

    def _addresses(self, message: OutboundMessage) -> dict[str, Any]:
        if message.channel is Channel.SMS:
            sender, setting, to = self._sms_from, "TWILIO_SMS_FROM", message.to
        elif message.channel is Channel.WHATSAPP:
            sender, setting = self._whatsapp_from, "TWILIO_WHATSAPP_FROM"
            sender, to = sender and _with_prefix(sender), _with_prefix(message.to)
        else:
            raise SendError(SendFailure.PERMANENT, "unsupported_channel", message.channel.value)
        if not sender:
            raise SendError(SendFailure.PERMANENT, "not_configured", f"{setting} is not set")
        return {"to": to, "from_": sender}

    def _classified(self, error: TwilioRestException | TwilioServiceException) -> SendError:
        status, code = _as_int(error.status), _as_int(error.code)
        if isinstance(error, TwilioServiceException):
            detail = f"{error.title}: {error.detail}" if error.detail else error.title
        else:
            detail = error.msg
        code_text = str(code) if code is not None else f"http_{status}"
        if code == OPTED_OUT_CODE:
            failure = SendFailure.OPTED_OUT
        elif code == OUTSIDE_WINDOW_CODE:
            failure = SendFailure.OUTSIDE_WINDOW
        elif status == 429 or code == TOO_MANY_REQUESTS_CODE or (status or 0) >= 500:
            failure = SendFailure.RETRYABLE
        else:
            failure = SendFailure.PERMANENT
        return SendError(failure, code_text, self._safe(str(detail)))

    def _safe(self, text: str) -> str:
        """Error text fit for logs and the database: no token, numbers masked, short."""
        if self._auth_token:
            text = text.replace(self._auth_token, "[redacted]")
        return mask_in_text(text)[:500]


def _client(account_sid: str, auth_token: str, base_url: str | None, timeout: float) -> Client:
    client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
    if base_url:
        client.api.base_url = base_url.rstrip("/")
        # TWILIO_EDGE/TWILIO_REGION in the process environment would rewrite this host.
        client.edge = client.region = None
    return client


def _message_sid(form: Mapping[str, str]) -> str:
    sid = required(form, "MessageSid", max_length=64)
    if not _SID.fullmatch(sid):
        raise BadRequest("MessageSid", "letters and digits only")
    return sid


def _has_prefix(address: str) -> bool:
    return address.strip().lower().startswith(WHATSAPP_PREFIX)


def _strip_prefix(address: str) -> str:
    address = address.strip()
    return address[len(WHATSAPP_PREFIX) :] if _has_prefix(address) else address


def _with_prefix(address: str) -> str:
    return address if _has_prefix(address) else WHATSAPP_PREFIX + address


def _address(raw: str, field_name: str) -> str:
    """E.164; a WhatsApp address that is not a phone number is kept as given."""
    bare = _strip_prefix(raw)
    try:
        return normalize(bare)
    except InvalidPhoneNumber as error:
        if _has_prefix(raw) and bare:
            return bare
        raise BadRequest(field_name, error.reason) from None


def _optional_address(raw: str | None) -> str | None:
    try:
        return _address(raw, "To") if raw else None
    except BadRequest:
        return None


def _media(form: Mapping[str, str]) -> tuple[Media, ...]:
    raw = (optional(form, "NumMedia", max_length=8) or "0").strip()
    if not (_COUNT.fullmatch(raw) and int(raw) <= MAX_MEDIA):
        raise BadRequest("NumMedia", f"expected a whole number from 0 to {MAX_MEDIA}")
    count = int(raw)
    return tuple(
        Media(
            url=required(form, f"MediaUrl{n}", max_length=2048).strip(),
            content_type=optional(form, f"MediaContentType{n}", max_length=128),
        )
        for n in range(count)
    )


def _location(form: Mapping[str, str]) -> Location | None:
    if not (optional(form, "Latitude") or optional(form, "Longitude")):
        return None
    return Location(
        latitude=_coordinate(form, "Latitude", 90.0),
        longitude=_coordinate(form, "Longitude", 180.0),
        name=optional(form, "Label", max_length=1000),
        address=optional(form, "Address", max_length=1000),
    )


def _coordinate(form: Mapping[str, str], name: str, limit: float) -> float:
    raw = required(form, name, max_length=32)
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(name, "not a number") from None
    if not -limit <= value <= limit:  # also refuses nan and inf
        raise BadRequest(name, f"must be between {-limit:g} and {limit:g}")
    return value


def _as_int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None
