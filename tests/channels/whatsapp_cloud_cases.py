"""Case tables for the Meta WhatsApp Cloud adapter: notifications as Meta posts them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.channels.base import (
    InboundMessage,
    Location,
    Media,
    OutboundMessage,
    SendFailure,
    StatusUpdate,
    Template,
)
from bot.models.enums import Channel, MessageStatus, Provider
from tests.fakes.provider import Answer

PHONE_NUMBER_ID = "106540352242922"
WA_ID = "2290197445566"
SENDER = "+2290197445566"
TIMESTAMP = "1763720000"
RECEIVED_AT = datetime(2025, 11, 21, 10, 13, 20, tzinfo=UTC)


def notification(*values: dict[str, Any], field_name: str = "messages") -> dict[str, Any]:
    changes = [{"value": value, "field": field_name} for value in values]
    return {"object": "whatsapp_business_account", "entry": [{"id": "8856996", "changes": changes}]}


def value(
    messages: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22921300400", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages is not None:
        found["contacts"] = [{"profile": {"name": "Afiavi Dossou"}, "wa_id": WA_ID}]
        found["messages"] = messages
    if statuses is not None:
        found["statuses"] = statuses
    return found


def message(kind: str, part: Any, **overrides: Any) -> dict[str, Any]:
    found = {"from": WA_ID, "id": "wamid.IN1", "timestamp": TIMESTAMP, "type": kind, kind: part}
    return {**found, **overrides}


def text(body: str, **overrides: Any) -> dict[str, Any]:
    return message("text", {"body": body}, **overrides)


def status(name: str, errors: list[dict[str, Any]] | None = None, **over: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": "wamid.OUT1",
        "status": name,
        "timestamp": TIMESTAMP,
        "recipient_id": WA_ID,
    }
    if errors is not None:
        found["errors"] = errors
    return {**found, **over}


def encoded(body: Any) -> bytes:
    return json.dumps(body).encode()


def inbound(**fields: Any) -> InboundMessage:
    defaults: dict[str, Any] = {
        "channel": Channel.WHATSAPP,
        "provider": Provider.META,
        "sender_e164": SENDER,
        "recipient": PHONE_NUMBER_ID,
        "text": "",
        "external_id": "wamid.IN1",
        "received_at": RECEIVED_AT,
    }
    return InboundMessage(**{**defaults, **fields})


@dataclass(frozen=True)
class InboundCase:
    id: str
    body: dict[str, Any]
    expected: list[InboundMessage]
    statuses: int = 0


INBOUND_CASES = [
    InboundCase(
        "text",
        notification(value([text("Bonjour mairie")])),
        [inbound(text="Bonjour mairie")],
    ),
    InboundCase(
        "two_messages_one_post",
        notification(value([text("un", id="wamid.A"), text("deux", id="wamid.B")])),
        [inbound(text="un", external_id="wamid.A"), inbound(text="deux", external_id="wamid.B")],
    ),
    InboundCase(
        "messages_across_entries_and_changes",
        {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": "1", "changes": [{"field": "messages", "value": value([text("a")])}]},
                {
                    "id": "2",
                    "changes": [
                        {"field": "messages", "value": value([text("b", id="wamid.B")])},
                        {"field": "messages", "value": value([text("c", id="wamid.C")])},
                    ],
                },
            ],
        },
        [
            inbound(text="a"),
            inbound(text="b", external_id="wamid.B"),
            inbound(text="c", external_id="wamid.C"),
        ],
    ),
    InboundCase("status_only", notification(value(statuses=[status("sent")])), [], statuses=1),
    InboundCase(
        "mixed_messages_and_statuses",
        notification(
            value([text("salut")], statuses=[status("delivered")]),
            value(statuses=[status("read", id="wamid.OUT2")]),
        ),
        [inbound(text="salut")],
        statuses=2,
    ),
    InboundCase(
        "image_with_caption",
        notification(
            value(
                [
                    message(
                        "image",
                        {"id": "1479", "mime_type": "image/jpeg", "sha256": "x", "caption": "Nid"},
                    )
                ]
            )
        ),
        [inbound(text="Nid", media=(Media("meta-media:1479", "image/jpeg", "Nid"),))],
    ),
    InboundCase(
        "document",
        notification(
            value(
                [
                    message(
                        "document",
                        {"id": "88", "mime_type": "application/pdf", "filename": "pv.pdf"},
                    )
                ]
            )
        ),
        [inbound(media=(Media("meta-media:88", "application/pdf"),))],
    ),
    InboundCase(
        "audio_voice_note",
        notification(
            value(
                [
                    message(
                        "audio", {"id": "77", "mime_type": "audio/ogg; codecs=opus", "voice": True}
                    )
                ]
            )
        ),
        [inbound(media=(Media("meta-media:77", "audio/ogg; codecs=opus"),))],
    ),
    InboundCase(
        "location",
        notification(
            value(
                [
                    message(
                        "location",
                        {
                            "latitude": 6.3654,
                            "longitude": 2.4183,
                            "name": "Mairie de Cotonou",
                            "address": "Rue 108",
                        },
                    )
                ]
            )
        ),
        [inbound(location=Location(6.3654, 2.4183, "Mairie de Cotonou", "Rue 108"))],
    ),
    InboundCase(
        "template_quick_reply_button",
        notification(value([message("button", {"payload": "STOP_ALERTS", "text": "Arrêter"})])),
        [inbound(text="STOP_ALERTS")],
    ),
    InboundCase(
        "button_without_payload_uses_text",
        notification(value([message("button", {"text": "Oui"})])),
        [inbound(text="Oui")],
    ),
    InboundCase(
        "interactive_button_reply",
        notification(
            value(
                [
                    message(
                        "interactive",
                        {
                            "type": "button_reply",
                            "button_reply": {"id": "budget", "title": "Budget"},
                        },
                    )
                ]
            )
        ),
        [inbound(text="budget")],
    ),
    InboundCase(
        "interactive_list_reply",
        notification(
            value(
                [
                    message(
                        "interactive",
                        {
                            "type": "list_reply",
                            "list_reply": {"id": "2", "title": "Sessions", "description": "..."},
                        },
                    )
                ]
            )
        ),
        [inbound(text="2")],
    ),
    InboundCase(
        "reaction_skipped",
        notification(value([message("reaction", {"message_id": "wamid.OUT1", "emoji": "👍"})])),
        [],
    ),
    InboundCase(
        "contacts_card_skipped",
        notification(value([message("contacts", [{"name": {"formatted_name": "X"}}])])),
        [],
    ),
    InboundCase(
        "unsupported_skipped_text_kept",
        notification(
            value(
                [message("unsupported", None, errors=[{"code": 131051}]), text("ok", id="wamid.2")]
            )
        ),
        [inbound(text="ok", external_id="wamid.2")],
    ),
    InboundCase(
        "non_messages_field_ignored",
        notification({"event": "APPROVED"}, field_name="message_template_status_update"),
        [],
    ),
    InboundCase(
        "wa_id_not_a_number_kept_as_given",
        notification(value([text("hi", **{"from": "12345"})])),
        [inbound(text="hi", sender_e164="12345")],
    ),
    InboundCase(
        "legacy_8_digit_benin_wa_id",
        notification(value([text("hi", **{"from": "22997123456"})])),
        [inbound(text="hi", sender_e164="+2290197123456")],
    ),
    InboundCase(
        "foreign_number",
        notification(value([text("hi", **{"from": "33612345678"})])),
        [inbound(text="hi", sender_e164="+33612345678")],
    ),
    InboundCase(
        "integer_timestamp",
        notification(value([text("hi", timestamp=1763720000)])),
        [inbound(text="hi")],
    ),
]


def _body(*messages: dict[str, Any]) -> bytes:
    return encoded(notification(value(list(messages))))


def _without(key: str) -> bytes:
    return _body({k: v for k, v in text("x").items() if k != key})


def _envelope(*entries: Any) -> bytes:
    return encoded({"object": "whatsapp_business_account", "entry": list(entries)})


M0 = "entry[0].changes[0].value.messages[0]"
LOCATION = f"{M0}.location"
BAD_INBOUND_CASES = [
    pytest.param(b"<xml/>", "body", id="not_json"),
    pytest.param(b"\xff\xfe", "body", id="not_utf8"),
    pytest.param(b"[]", "body", id="json_array"),
    pytest.param(encoded({"object": "page", "entry": []}), "object", id="wrong_object"),
    pytest.param(encoded({"object": "whatsapp_business_account"}), "entry", id="no_entry"),
    pytest.param(_envelope("x"), "entry[0]", id="entry_not_object"),
    pytest.param(_envelope({}), "entry[0].changes", id="no_changes"),
    pytest.param(
        _envelope({"changes": [{"field": "messages"}]}),
        "entry[0].changes[0].value",
        id="no_value",
    ),
    pytest.param(
        encoded(notification({"metadata": {"phone_number_id": "1"}, "messages": {}})),
        "entry[0].changes[0].value.messages",
        id="messages_not_list",
    ),
    pytest.param(
        encoded(notification({"messages": [text("x")]})),
        "entry[0].changes[0].value.metadata",
        id="no_metadata",
    ),
    pytest.param(_without("id"), f"{M0}.id", id="missing_message_id"),
    pytest.param(_body(text("x", id="")), f"{M0}.id", id="empty_message_id"),
    pytest.param(_without("from"), f"{M0}.from", id="missing_from"),
    pytest.param(_without("type"), f"{M0}.type", id="missing_type"),
    pytest.param(_without("timestamp"), f"{M0}.timestamp", id="missing_timestamp"),
    pytest.param(_body(text("x", timestamp="hier")), f"{M0}.timestamp", id="bad_timestamp"),
    pytest.param(_body(text("x", timestamp="-5")), f"{M0}.timestamp", id="negative_timestamp"),
    pytest.param(_body(text("x", timestamp="9" * 15)), f"{M0}.timestamp", id="huge_timestamp"),
    pytest.param(_body(text("x", timestamp=True)), f"{M0}.timestamp", id="boolean_timestamp"),
    pytest.param(_body(message("text", {})), f"{M0}.text.body", id="text_without_body"),
    pytest.param(_body(message("image", {})), f"{M0}.image.id", id="image_without_id"),
    pytest.param(_body(message("audio", "77")), f"{M0}.audio", id="audio_not_object"),
    pytest.param(
        _body(message("location", {"latitude": 91, "longitude": 2})),
        f"{LOCATION}.latitude",
        id="latitude_out_of_range",
    ),
    pytest.param(
        _body(message("location", {"latitude": 6, "longitude": "east"})),
        f"{LOCATION}.longitude",
        id="longitude_not_number",
    ),
    pytest.param(
        _body(message("location", {"longitude": 2})), f"{LOCATION}.latitude", id="no_latitude"
    ),
    pytest.param(_body(message("button", {"payload": ""})), f"{M0}.button.text", id="empty_button"),
    pytest.param(
        _body(message("interactive", {"type": "list_reply", "list_reply": {"title": "x"}})),
        f"{M0}.interactive.list_reply.id",
        id="list_reply_without_id",
    ),
    pytest.param(
        _body(text("a"), {k: v for k, v in text("b").items() if k != "id"}),
        "entry[0].changes[0].value.messages[1].id",
        id="second_message_without_id",
    ),
]


@dataclass(frozen=True)
class StatusCase:
    id: str
    statuses: list[dict[str, Any]]
    expected: list[StatusUpdate]


def update(state: MessageStatus, **fields: Any) -> StatusUpdate:
    fields.setdefault("recipient", SENDER)
    return StatusUpdate(Provider.META, fields.pop("external_id", "wamid.OUT1"), state, **fields)


STATUS_CASES = [
    StatusCase("sent", [status("sent")], [update(MessageStatus.SENT)]),
    StatusCase("delivered", [status("delivered")], [update(MessageStatus.DELIVERED)]),
    StatusCase("read", [status("read")], [update(MessageStatus.READ)]),
    StatusCase(
        "failed_undeliverable",
        [status("failed", [{"code": 131026, "title": "Message undeliverable"}])],
        [update(MessageStatus.FAILED, error_code="131026")],
    ),
    StatusCase(
        "failed_131050_opted_out",
        [status("failed", [{"code": 131050, "title": "User stopped marketing messages"}])],
        [update(MessageStatus.FAILED, error_code="131050", opted_out_phone=SENDER, opted_out=True)],
    ),
    StatusCase(
        "failed_131050_legacy_recipient",
        [status("failed", [{"code": 131050}], recipient_id="22997123456")],
        [
            update(
                MessageStatus.FAILED,
                error_code="131050",
                recipient="+2290197123456",
                opted_out_phone="+2290197123456",
                opted_out=True,
            )
        ],
    ),
    StatusCase(
        "several_in_order",
        [status("delivered", id="wamid.A"), status("read", id="wamid.B")],
        [
            update(MessageStatus.DELIVERED, external_id="wamid.A"),
            update(MessageStatus.READ, external_id="wamid.B"),
        ],
    ),
]

S0 = "entry[0].changes[0].value.statuses[0]"
BAD_STATUS_CASES = [
    pytest.param(
        [status("deleted")], f"{S0}.status", "sent, delivered, read, failed", id="unknown_status"
    ),
    pytest.param([{"status": "sent"}], f"{S0}.id", "missing", id="missing_id"),
    pytest.param(["sent"], S0, "not an object", id="status_not_object"),
    pytest.param(
        [{"id": "wamid.OUT1", "status": "failed", "errors": [{"code": 131050}]}],
        f"{S0}.recipient_id",
        "missing",
        id="opt_out_without_recipient",
    ),
]


@dataclass(frozen=True)
class SendCase:
    id: str
    message: OutboundMessage
    expected_json: dict[str, Any]


BASE_JSON = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID}
SEND_CASES = [
    SendCase(
        "text",
        OutboundMessage(Channel.WHATSAPP, SENDER, "Séance du conseil lundi"),
        {
            **BASE_JSON,
            "type": "text",
            "text": {"body": "Séance du conseil lundi", "preview_url": True},
        },
    ),
    SendCase(
        "template_variables_in_numeric_order",
        OutboundMessage(
            Channel.WHATSAPP,
            SENDER,
            "",
            template=Template(
                "rappel_session", "fr", {"2": "lundi", "10": "Cotonou", "1": "Afiavi"}
            ),
        ),
        {
            **BASE_JSON,
            "type": "template",
            "template": {
                "name": "rappel_session",
                "language": {"code": "fr"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Afiavi"},
                            {"type": "text", "text": "lundi"},
                            {"type": "text", "text": "Cotonou"},
                        ],
                    }
                ],
            },
        },
    ),
    SendCase(
        "template_without_variables",
        OutboundMessage(Channel.WHATSAPP, SENDER, "", template=Template("bienvenue")),
        {
            **BASE_JSON,
            "type": "template",
            "template": {"name": "bienvenue", "language": {"code": "fr"}},
        },
    ),
    SendCase(
        "image",
        OutboundMessage(
            Channel.WHATSAPP,
            SENDER,
            "",
            media=Media("https://civic.example.bj/m/affiche.png", "image/png", "Affiche"),
        ),
        {
            **BASE_JSON,
            "type": "image",
            "image": {"link": "https://civic.example.bj/m/affiche.png", "caption": "Affiche"},
        },
    ),
    SendCase(
        "document_with_filename_and_text_as_caption",
        OutboundMessage(
            Channel.WHATSAPP,
            SENDER,
            "Budget primitif 2025",
            media=Media("https://civic.example.bj/docs/budget-2025.pdf?v=2", "application/pdf"),
        ),
        {
            **BASE_JSON,
            "type": "document",
            "document": {
                "link": "https://civic.example.bj/docs/budget-2025.pdf?v=2",
                "caption": "Budget primitif 2025",
                "filename": "budget-2025.pdf",
            },
        },
    ),
]


def graph_error(code: int, message: str = "(#0) error", subcode: int = 2494010) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_subcode": subcode,
            "fbtrace_id": "AbCdEf",
        }
    }


def failure(case_id: str, http_status: int, body: Any, expected: SendFailure, code: str) -> Any:
    content_type = "text/html" if isinstance(body, str) else "application/json"
    answer = Answer(http_status, body, content_type=content_type)
    return pytest.param(answer, expected, code, id=case_id)


RETRYABLE, PERMANENT = SendFailure.RETRYABLE, SendFailure.PERMANENT
FAILURE_CASES = [
    failure("http_429", 429, graph_error(4, "(#4) Application request limit"), RETRYABLE, "4"),
    failure("http_429_not_json", 429, "slow down", RETRYABLE, "http_429"),
    failure("rate_limit_130429", 400, graph_error(130429), RETRYABLE, "130429"),
    failure("pair_rate_131056", 400, graph_error(131056), RETRYABLE, "131056"),
    failure("spam_rate_131048", 400, graph_error(131048), RETRYABLE, "131048"),
    failure("throughput_80007", 400, graph_error(80007), RETRYABLE, "80007"),
    failure("http_500_code_1", 500, graph_error(1, "An unknown error occurred"), RETRYABLE, "1"),
    failure("http_500_code_2", 500, graph_error(2), RETRYABLE, "2"),
    failure("http_503_no_code", 503, {"error": {}}, RETRYABLE, "http_503"),
    failure("generic_131000", 400, graph_error(131000), RETRYABLE, "131000"),
    failure("unavailable_131016", 400, graph_error(131016), RETRYABLE, "131016"),
    failure("html_502", 502, "<html><body>Bad Gateway</body></html>", RETRYABLE, "http_502"),
    failure("re_engagement_131047", 400, graph_error(131047), SendFailure.OUTSIDE_WINDOW, "131047"),
    failure("opted_out_131050", 400, graph_error(131050), SendFailure.OPTED_OUT, "131050"),
    failure("undeliverable_131026", 400, graph_error(131026), PERMANENT, "131026"),
    failure("unsupported_type_131051", 400, graph_error(131051), PERMANENT, "131051"),
    failure("invalid_parameter_100", 400, graph_error(100), PERMANENT, "100"),
    failure("template_missing_132001", 400, graph_error(132001), PERMANENT, "132001"),
    failure("template_error_in_5xx_not_retried", 500, graph_error(132000), PERMANENT, "132000"),
    failure("blocked_sender_133010", 400, graph_error(133010), PERMANENT, "133010"),
    failure("unknown_4xx", 403, graph_error(200, "(#200) Permissions error"), PERMANENT, "200"),
    failure("non_json_4xx", 400, "oops", PERMANENT, "http_400"),
    failure(
        "string_code", 400, {"error": {"code": "131047"}}, SendFailure.OUTSIDE_WINDOW, "131047"
    ),
    failure("ok_without_id", 200, {"messaging_product": "whatsapp"}, PERMANENT, "bad_response"),
    failure("ok_not_json", 200, "<html>ok</html>", PERMANENT, "bad_response"),
]
