"""Meta WhatsApp Cloud API: signed JSON webhooks in, Graph API sends out.

One webhook POST may batch several messages and statuses across entries and
changes; the readers return all of them. Inbound media come as ids, not URLs:
`meta-media:<id>` is fetched later with the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Request

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
from bot.channels.transport import transport_error
from bot.models.enums import Channel, MessageStatus, Provider
from bot.phone import InvalidPhoneNumber, normalize

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v21.0"
WEBHOOK_OBJECT = "whatsapp_business_account"
MEDIA_URL_PREFIX = "meta-media:"
CONNECT_TIMEOUT = 3.0
"""Seconds to open a connection to the Graph API; the read timeout is the adapter's."""

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# The inbound_messages columns these go to; longer does not fit in PostgreSQL.
MAX_ID_LENGTH = 128
MAX_ADDRESS_LENGTH = 64
_UNIX_SECONDS = re.compile(r"[0-9]{1,11}")  # 11 digits stay below datetime's year 9999
_STATUSES = {name: MessageStatus(name) for name in ("sent", "delivered", "read", "failed")}
_MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})
_REPLY_TYPES = frozenset({"button_reply", "list_reply"})

# Graph API error codes: developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes
OPTED_OUT_CODE = 131050  # the user stopped marketing messages from this business
OUTSIDE_WINDOW_CODE = 131047  # re-engagement: over 24 h since the user's last message
# Throttling (4, 80007, 130429, 131048, 131056) and trouble at Meta (1, 2, 131000, 131016).
RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056})
# Undeliverable, bad parameter, template problems, blocked sender: retrying never helps,
# even when Meta wraps them in a 5xx.
PERMANENT_CODES = frozenset({100, 131026, 131051, 133010, *range(132000, 133000)})


class WhatsAppCloudAdapter:
    provider = Provider.META

    def __init__(self, config: Mapping[str, Any], timeout: float = 10.0) -> None:
        self.timeout = timeout
        self._development = config.get("ENV") == "development"
        self._token: str | None = config.get("WHATSAPP_TOKEN")
        self._phone_number_id: str | None = config.get("WHATSAPP_PHONE_NUMBER_ID")
        self._app_secret: str | None = config.get("WHATSAPP_APP_SECRET")
        self._verify_token: str | None = config.get("WHATSAPP_VERIFY_TOKEN")
        self._base_url = (config.get("WHATSAPP_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/")
        self._session = requests.Session()

    def verify(self, request: Request) -> None:
        if not self._app_secret:
            # Fail closed unless explicitly in development, where the simulator posts unsigned.
            if not self._development:
                raise Forbidden("WHATSAPP_APP_SECRET is not set")
            log.warning("WHATSAPP_APP_SECRET unset: accepting an unsigned webhook (development)")
            return
        match = _SIGNATURE.fullmatch(request.headers.get("X-Hub-Signature-256", ""))
        if match is None:
            raise Forbidden("missing or malformed X-Hub-Signature-256")
        expected = hmac.new(self._app_secret.encode(), request.get_data(), hashlib.sha256)
        if not hmac.compare_digest(expected.hexdigest(), match.group(1).lower()):
            raise Forbidden("X-Hub-Signature-256 does not match the body")

    def handshake(self, args: Mapping[str, str]) -> str | None:
        """The challenge to echo when Meta subscribes with our verify token, else None."""
        challenge = args.get("hub.challenge")
        if not self._verify_token or not challenge or args.get("hub.mode") != "subscribe":
            return None
        given = args.get("hub.verify_token", "").encode()
        return challenge if hmac.compare_digest(given, self._verify_token.encode()) else None

    def parse_inbound(self, request: Request) -> list[InboundMessage]:
        found: list[InboundMessage] = []
        for at, value in _message_values(request):
            items = _optional_list(value, "messages", at)
            recipient = _recipient(value, at) if items else ""
            names = _profile_names(value)
            for index, item in enumerate(items):
                message = _message(item, f"{at}.messages[{index}]", recipient, names)
                found.extend([message] if message else [])
        return found

    def parse_status(self, request: Request) -> list[StatusUpdate]:
        return [
            _status(item, f"{at}.statuses[{index}]")
            for at, value in _message_values(request)
            for index, item in enumerate(_optional_list(value, "statuses", at))
        ]

    def send(self, message: OutboundMessage) -> SendResult:
        if not self._token or not self._phone_number_id:
            detail = "WHATSAPP_TOKEN and WHATSAPP_PHONE_NUMBER_ID are required"
            raise SendError(SendFailure.PERMANENT, "not_configured", detail)
        try:
            response = self._session.post(
                f"{self._base_url}/{self._phone_number_id}/messages",
                json=_payload(message),
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=(CONNECT_TIMEOUT, self.timeout),
            )
        # `from None`: requests exceptions carry the prepared request, Authorization included.
        except requests.RequestException as error:
            raise transport_error(error) from None
        body = _json_or_none(response.content)
        if response.ok:
            return SendResult(external_id=_sent_id(body))
        raise self._failure(response.status_code, body)

    def _failure(self, http_status: int, body: Any) -> SendError:
        found = body.get("error") if isinstance(body, dict) else None
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        given = error.get("code")
        code = int(given) if isinstance(given, int | str) and str(given).isdecimal() else None
        failure = _classify(http_status, code)
        detail = f"HTTP {http_status}"
        message = error.get("message")
        if isinstance(message, str):
            # Graph messages do not echo the token today; make sure they never do.
            detail += ": " + message.replace(self._token or "[token]", "[token]")[:200]
        fields = {"http_status": http_status, "code": code, "failure": failure.value}
        log.warning("whatsapp send failed", extra={"fields": fields})
        return SendError(failure, str(code) if code is not None else f"http_{http_status}", detail)


def _classify(http_status: int, code: int | None) -> SendFailure:
    if code == OUTSIDE_WINDOW_CODE:
        return SendFailure.OUTSIDE_WINDOW
    if code == OPTED_OUT_CODE:
        return SendFailure.OPTED_OUT
    if code in RETRYABLE_CODES:
        return SendFailure.RETRYABLE
    if code not in PERMANENT_CODES and (http_status == 429 or http_status >= 500):
        return SendFailure.RETRYABLE
    return SendFailure.PERMANENT


def _payload(message: OutboundMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    payload["to"] = message.to.removeprefix("whatsapp:").lstrip("+")
    if message.template is not None:
        variables = message.template.variables
        template: dict[str, Any] = {
            "name": message.template.name,
            "language": {"code": message.template.language},
        }
        if variables:
            values = [variables[key] for key in sorted(variables, key=_variable_order)]
            parameters = [{"type": "text", "text": value} for value in values]
            template["components"] = [{"type": "body", "parameters": parameters}]
        return payload | {"type": "template", "template": template}
    if message.media is not None:
        media = message.media
        kind = "image" if (media.content_type or "").startswith("image/") else "document"
        part: dict[str, Any] = {"link": media.url}
        if media.caption or message.text:
            part["caption"] = media.caption or message.text
        filename = media.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        if kind == "document" and "." in filename:
            part["filename"] = filename  # else WhatsApp shows the document as "Untitled"
        return payload | {"type": kind, kind: part}
    return payload | {"type": "text", "text": {"body": message.text, "preview_url": True}}


def _variable_order(key: str) -> tuple[bool, int, str]:
    # Numeric keys in numeric order, so {{10}} comes after {{2}}; other names after, sorted.
    return (not key.isdecimal(), int(key) if key.isdecimal() else 0, key)


def _sent_id(body: Any) -> str:
    messages = body.get("messages") if isinstance(body, dict) else None
    first = messages[0] if isinstance(messages, list) and messages else None
    if isinstance(first, dict) and isinstance(first.get("id"), str) and first["id"]:
        return first["id"]
    # Meta took the request: retrying could send the message twice.
    raise SendError(SendFailure.PERMANENT, "bad_response", "2xx without messages[0].id")


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        return None


def _message_values(request: Request) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, value) of every `messages` change in the notification."""
    body = _json_or_none(request.get_data())
    if not isinstance(body, dict):
        raise BadRequest("body", "not a JSON object")
    if any(_UNSTORABLE.search(text) for text in _strings(body)):
        # JSON escapes can spell what no database text column takes: one such message
        # would stop the ingest job, and every message behind it, for good.
        raise BadRequest("body", "a string holds a NUL or an unpaired surrogate")
    if body.get("object") != WEBHOOK_OBJECT:
        raise BadRequest("object", f"expected {WEBHOOK_OBJECT!r}")
    for i, entry in enumerate(_list(body, "entry", "")):
        for j, change in enumerate(_list(_object(entry, f"entry[{i}]"), "changes", f"entry[{i}]")):
            at = f"entry[{i}].changes[{j}]"
            # Other fields (account_update, message_template_status_update...) are not chats.
            if _object(change, at).get("field") == "messages":
                yield f"{at}.value", _object(change.get("value"), f"{at}.value")


def _message(item: Any, at: str, recipient: str, names: Mapping[str, str]) -> InboundMessage | None:
    item = _object(item, at)
    kind = _text(item, "type", at)
    text, media, location = "", (), None
    part = item.get(kind)
    if kind == "text":
        text = _text(_object(part, f"{at}.text"), "body", f"{at}.text", allow_empty=True)
    elif kind in _MEDIA_TYPES:
        part, caption = _object(part, f"{at}.{kind}"), _optional(part, "caption")
        url = MEDIA_URL_PREFIX + _text(part, "id", f"{at}.{kind}")
        media, text = (Media(url, _optional(part, "mime_type"), caption),), caption or ""
    elif kind == "location":
        location = _location(_object(part, f"{at}.location"), f"{at}.location")
    elif kind == "button":
        part = _object(part, f"{at}.button")
        text = _optional(part, "payload") or _text(part, "text", f"{at}.button")
    elif kind == "interactive" and isinstance(part, dict) and part.get("type") in _REPLY_TYPES:
        reply_at = f"{at}.interactive.{part['type']}"
        # The reply id is the option key we sent; the title stays in raw.
        text = _text(_object(part.get(part["type"]), reply_at), "id", reply_at)
    else:
        # Reactions, contact cards (other people's numbers), system notices, other
        # interactive kinds and unsupported types hold nothing a flow answers: not stored.
        log.info("whatsapp message skipped", extra={"fields": {"type": kind}})
        return None
    wa_id = _text(item, "from", at, max_length=MAX_ADDRESS_LENGTH)
    # The contact's profile name lives beside the message; raw keeps it for the record.
    raw = item | ({"profile_name": names[wa_id]} if wa_id in names else {})
    return InboundMessage(
        channel=Channel.WHATSAPP,
        provider=Provider.META,
        sender_e164=_phone(wa_id),
        recipient=recipient,
        text=text,
        external_id=_text(item, "id", at, max_length=MAX_ID_LENGTH),
        received_at=_timestamp(item.get("timestamp"), f"{at}.timestamp"),
        media=media,
        location=location,
        raw=raw,
    )


def _status(item: Any, at: str) -> StatusUpdate:
    item = _object(item, at)
    name = _text(item, "status", at)
    if name not in _STATUSES:
        raise BadRequest(f"{at}.status", f"{name!r} is not one of {', '.join(_STATUSES)}")
    errors = item.get("errors") if isinstance(item.get("errors"), list) else []
    codes = [str(e["code"]) for e in errors if isinstance(e, dict) and e.get("code") is not None]
    opted_out = str(OPTED_OUT_CODE) in codes
    return StatusUpdate(
        provider=Provider.META,
        external_id=_text(item, "id", at),
        status=_STATUSES[name],
        error_code=codes[0] if codes else None,
        recipient=_phone(recipient)
        if isinstance(recipient := item.get("recipient_id"), str)
        else None,
        opted_out=opted_out,
        opted_out_phone=_phone(_text(item, "recipient_id", at)) if opted_out else None,
    )


def _location(part: dict[str, Any], at: str) -> Location:
    latitude = _coordinate(part.get("latitude"), f"{at}.latitude", 90)
    longitude = _coordinate(part.get("longitude"), f"{at}.longitude", 180)
    return Location(latitude, longitude, _optional(part, "name"), _optional(part, "address"))


def _coordinate(value: Any, at: str, limit: int) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        raise BadRequest(at, "missing or not a number") from None
    if not -limit <= number <= limit:  # also refuses NaN and booleans
        raise BadRequest(at, f"not a number in -{limit}..{limit}")
    return number


def _timestamp(value: Any, at: str) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _UNIX_SECONDS.fullmatch(value):
        raise BadRequest(at, "expected unix seconds")
    return datetime.fromtimestamp(int(value), UTC)


def _phone(wa_id: str) -> str:
    """E.164 when the wa_id is a phone number; otherwise kept as given."""
    try:
        return normalize("+" + wa_id.lstrip("+"))
    except InvalidPhoneNumber:
        return wa_id


def _recipient(value: dict[str, Any], at: str) -> str:
    # The phone_number_id is what a reply is sent from; display numbers are for people.
    metadata = _object(value.get("metadata"), f"{at}.metadata")
    recipient = _optional(metadata, "phone_number_id") or _optional(
        metadata, "display_phone_number"
    )
    if recipient is None:
        raise BadRequest(f"{at}.metadata.phone_number_id", "missing")
    if len(recipient) > MAX_ADDRESS_LENGTH:
        raise BadRequest(f"{at}.metadata.phone_number_id", "too long")
    return recipient


def _profile_names(value: dict[str, Any]) -> dict[str, str]:
    contacts = value.get("contacts") if isinstance(value.get("contacts"), list) else []
    profiles = [(c.get("wa_id"), c.get("profile")) for c in contacts if isinstance(c, dict)]
    return {
        str(wa_id): profile["name"]
        for wa_id, profile in profiles
        if isinstance(profile, dict) and isinstance(profile.get("name"), str)
    }


def _strings(value: Any) -> Iterator[str]:
    """Every string in a parsed JSON document, keys included."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _object(value: Any, at: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(at, "missing or not an object")
    return value


def _list(container: dict[str, Any], key: str, at: str) -> list[Any]:
    if not isinstance(container.get(key), list):
        raise BadRequest(f"{at}.{key}" if at else key, "missing or not a list")
    return container[key]


def _optional_list(container: dict[str, Any], key: str, at: str) -> list[Any]:
    return _list(container, key, at) if key in container else []


def _text(
    container: dict[str, Any],
    key: str,
    at: str,
    allow_empty: bool = False,
    max_length: int | None = None,
) -> str:
    value = container.get(key)
    if not isinstance(value, str) or not (value or allow_empty):
        raise BadRequest(f"{at}.{key}", "missing, empty or not a string")
    if max_length is not None and len(value) > max_length:
        raise BadRequest(f"{at}.{key}", f"longer than {max_length} characters")
    return value


def _optional(container: Any, key: str) -> str | None:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, str) and value else None
