"""Africa's Talking: USSD, SMS in and out (bulk API), delivery reports, opt-outs, voice.

AT does not sign its callbacks; with AT_WEBHOOK_TOKEN set, each callback URL
must carry `?token=` (configured on the AT dashboard).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from africastalking.SMS import SMSService
from africastalking.Voice import VoiceService
from flask import Request

from bot.channels.africastalking_voice import VoiceCallback, call_result, parse_voice_form
from bot.channels.base import (
    BadRequest,
    Forbidden,
    InboundMessage,
    OutboundMessage,
    SendError,
    SendFailure,
    SendResult,
    StatusUpdate,
)
from bot.channels.fields import optional, required, typed_text
from bot.channels.transport import transport_error
from bot.models.enums import Channel, MessageStatus, Provider
from bot.phone import InvalidPhoneNumber, normalize

log = logging.getLogger(__name__)

# Delivery report statuses as AT documents and sends them.
DELIVERY_STATUSES: Mapping[str, MessageStatus] = {
    "Sent": MessageStatus.SENT,
    "Submitted": MessageStatus.SENT,
    "Buffered": MessageStatus.SENT,
    "Success": MessageStatus.DELIVERED,
    "Rejected": MessageStatus.FAILED,
    "Failed": MessageStatus.FAILED,
    "Expired": MessageStatus.FAILED,
}
OPT_OUT_REASON = "UserInBlackList"

# Per-recipient statusCode of the bulk SMS API.
SENT_CODES = {100, 101, 102}  # processed, sent, queued
RETRYABLE_CODES = {405, 500, 501}  # insufficient balance, internal and gateway errors
OPT_OUT_CODES = {406}  # user in blacklist
DATE_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%d %H:%M:%S")


@dataclass(frozen=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone: str
    network_code: str | None
    # Everything typed since the dial, `*`-joined by AT; empty on the dial.
    text: str


@dataclass(frozen=True)
class UssdEvent:
    session_id: str
    status: str  # Success, Incomplete or Failed
    phone: str
    error_message: str | None


def parse_date(raw: str, field_name: str = "date") -> datetime:
    for layout in DATE_FORMATS:
        try:
            return datetime.strptime(raw, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise BadRequest(field_name, f"not a date like 2017-05-03T06:04:45Z: {raw!r}")


def _phone(raw: str, field_name: str) -> str:
    try:
        return normalize(raw)
    except InvalidPhoneNumber as error:
        raise BadRequest(field_name, error.reason) from None


class _KeepsHttpStatus:
    """For the SDK's services: keep the HTTP status the SDK drops.

    The SDK raises one exception type with only the body text for any non-2xx
    answer; without the status a 429 or a 503 could not be told from a 401.
    """

    def _make_request(
        self,
        url: str,
        method: str,
        headers: dict,
        data: dict,
        params: dict | None,
        callback: Any = None,
        timeout: Any = None,
    ) -> Any:
        response = requests.request(
            method, url, headers=headers, data=data, params=params, timeout=timeout
        )
        if response.status_code == 429 or response.status_code >= 500:
            raise SendError(SendFailure.RETRYABLE, f"http_{response.status_code}")
        if response.status_code >= 400:
            raise SendError(SendFailure.PERMANENT, f"http_{response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise SendError(SendFailure.RETRYABLE, "unexpected_answer") from None


class _SMSService(_KeepsHttpStatus, SMSService):
    def __init__(self, username: str, api_key: str, base_url: str | None) -> None:
        super().__init__(username, api_key)
        if base_url:
            self._baseUrl = base_url.rstrip("/") + "/version1"


class _VoiceService(_KeepsHttpStatus, VoiceService):
    def __init__(self, username: str, api_key: str, base_url: str | None) -> None:
        super().__init__(username, api_key)
        if base_url:
            self._baseUrl = base_url.rstrip("/")


class AfricasTalkingAdapter:
    provider = Provider.AFRICASTALKING

    def __init__(self, config: Mapping[str, Any], timeout: float = 10.0) -> None:
        self._token = config.get("AT_WEBHOOK_TOKEN")
        self._sender_id = config.get("AT_SENDER_ID")
        self._timeout = (3.05, timeout)
        username, api_key = config.get("AT_USERNAME"), config.get("AT_API_KEY")
        self._sms = (
            _SMSService(username, api_key, config.get("AT_API_BASE_URL"))
            if username and api_key
            else None
        )
        # The number calls come from, and that citizens call.
        self._voice_number = config.get("AT_VOICE_NUMBER")
        self._voice = (
            _VoiceService(username, api_key, config.get("AT_VOICE_API_BASE_URL"))
            if username and api_key
            else None
        )

    def verify(self, request: Request) -> None:
        if not self._token:
            return
        given = request.args.get("token", "")
        if not hmac.compare_digest(given.encode(), self._token.encode()):
            raise Forbidden("missing or wrong token")

    def parse_ussd(self, request: Request) -> UssdRequest:
        form = request.form
        return UssdRequest(
            session_id=required(form, "sessionId", max_length=128),
            service_code=required(form, "serviceCode", max_length=64),
            phone=_phone(required(form, "phoneNumber"), "phoneNumber"),
            network_code=optional(form, "networkCode"),
            text=typed_text(form, "text", max_length=1000),
        )

    def parse_ussd_event(self, request: Request) -> UssdEvent:
        """AT's end-of-session notification: how the session ended."""
        form = request.form
        return UssdEvent(
            session_id=required(form, "sessionId", max_length=128),
            status=required(form, "status", max_length=32),
            phone=_phone(required(form, "phoneNumber"), "phoneNumber"),
            error_message=optional(form, "errorMessage", max_length=500),
        )

    def parse_voice(self, request: Request) -> VoiceCallback:
        """A voice call's callback (bot/channels/africastalking_voice.py)."""
        return parse_voice_form(request.form, self._voice_number)

    def parse_inbound(self, request: Request) -> Sequence[InboundMessage]:
        form = request.form
        return [
            InboundMessage(
                channel=Channel.SMS,
                provider=self.provider,
                sender_e164=_phone(required(form, "from"), "from"),
                recipient=required(form, "to", max_length=64),
                text=required(form, "text", allow_empty=True, max_length=5000),
                external_id=required(form, "id", max_length=128),
                received_at=parse_date(required(form, "date")),
                link_id=optional(form, "linkId", max_length=64),
                raw=form.to_dict(),
            )
        ]

    def parse_status(self, request: Request) -> Sequence[StatusUpdate]:
        form = request.form
        external_id = required(form, "id", max_length=128)
        raw_status = required(form, "status")
        if raw_status not in DELIVERY_STATUSES:
            allowed = ", ".join(DELIVERY_STATUSES)
            raise BadRequest("status", f"unknown status {raw_status!r}; expected one of: {allowed}")
        reason = optional(form, "failureReason", max_length=64)
        phone = optional(form, "phoneNumber")
        opted_out = _phone(phone, "phoneNumber") if phone and reason == OPT_OUT_REASON else None
        recipient = _optional_phone(phone)
        return [
            StatusUpdate(
                provider=self.provider,
                external_id=external_id,
                status=DELIVERY_STATUSES[raw_status],
                error_code=reason,
                recipient=recipient,
                opted_out=reason == OPT_OUT_REASON,
                opted_out_phone=opted_out,
            )
        ]

    def parse_optout(self, request: Request) -> str:
        """The phone number of a citizen who opted out of our sender id."""
        return _phone(required(request.form, "phoneNumber"), "phoneNumber")

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel is Channel.VOICE:
            return self.call(message.to)
        result = self.send_many(message.text, [message.to])[message.to]
        if isinstance(result, SendError):
            raise result
        return result

    def call(self, to: str) -> SendResult:
        """Place a call from AT_VOICE_NUMBER; once answered, AT asks /webhooks/at/voice
        what to say. The result's id is the call's session id."""
        if self._voice is None or not self._voice_number:
            raise SendError(
                SendFailure.PERMANENT,
                "not_configured",
                "AT_USERNAME/AT_API_KEY/AT_VOICE_NUMBER unset",
            )
        try:
            answer = self._voice.call(self._voice_number, [to], timeout=self._timeout)
        except requests.RequestException as error:
            failed = transport_error(error)
            if failed.failure is SendFailure.IN_DOUBT:
                # No report ever settles a call: a call that may have rung fails here
                # rather than wait for the sweeper to place it a second time.
                raise SendError(
                    SendFailure.PERMANENT, failed.code, "may have been placed"
                ) from None
            raise failed from None
        except ValueError as error:  # the SDK's own number check
            raise SendError(SendFailure.PERMANENT, "invalid_request", str(error)) from None
        return call_result(answer)

    def send_many(self, text: str, recipients: list[str]) -> dict[str, SendResult | SendError]:
        """One bulk API call; AT answers 200 even when some recipients failed."""
        if self._sms is None:
            raise SendError(SendFailure.PERMANENT, "not_configured", "AT_USERNAME/AT_API_KEY unset")
        try:
            answer = self._sms.send(text, recipients, self._sender_id, timeout=self._timeout)
        except requests.RequestException as error:
            raise transport_error(error) from None
        except ValueError as error:  # the SDK's own number check, or a non-JSON body
            raise SendError(SendFailure.PERMANENT, "invalid_request", str(error)) from None
        try:
            listed = answer["SMSMessageData"]["Recipients"]
        except (KeyError, TypeError):
            raise SendError(SendFailure.RETRYABLE, "unexpected_answer") from None
        results: dict[str, SendResult | SendError] = {}
        for entry in listed:
            results[_recipient_number(entry, recipients)] = _recipient_result(entry)
        for number in recipients:
            results.setdefault(number, SendError(SendFailure.PERMANENT, "not_in_answer"))
        return results


def _optional_phone(raw: str | None) -> str | None:
    """A report's phone number when it reads as one; a report is never refused for it."""
    try:
        return normalize(raw) if raw else None
    except InvalidPhoneNumber:
        return None


def _recipient_number(entry: Mapping[str, Any], recipients: list[str]) -> str:
    number = str(entry.get("number", ""))
    try:
        normalized = normalize(number)
    except InvalidPhoneNumber:
        return number
    return next((r for r in recipients if r == normalized), normalized)


def _recipient_result(entry: Mapping[str, Any]) -> SendResult | SendError:
    try:
        code = int(entry.get("statusCode", 0))
    except (TypeError, ValueError):
        code = 0
    status = str(entry.get("status", ""))
    if code in SENT_CODES and entry.get("messageId"):
        return SendResult(external_id=str(entry["messageId"]), cost=entry.get("cost"))
    if code in OPT_OUT_CODES:
        return SendError(SendFailure.OPTED_OUT, str(code), status)
    if code in RETRYABLE_CODES:
        return SendError(SendFailure.RETRYABLE, str(code), status)
    return SendError(SendFailure.PERMANENT, str(code), status)
