"""Case tables for the Twilio adapter tests: forms as Twilio posts them, and what they become."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from bot.channels.base import Location, Media
from bot.models.enums import Channel, MessageStatus

TOKEN = "tw-auth-token-5e3f9b2c1d7a4e60"
ACCOUNT = "ACb1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6"
SID = "SM5c1d9e7f3a2b4c6d8e0f1a2b3c4d5e6f"
PUBLIC = "https://civic.example.bj"
INTERNAL = "http://10.0.0.5:8000"
MESSAGES_PATH = "/webhooks/twilio/messages"
STATUS_PATH = "/webhooks/twilio/status"
URL = PUBLIC + MESSAGES_PATH
CITIZEN = "+2290196554433"
OUR_NUMBER = "+2290121300400"
MEDIA_URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME{}"


def form(**fields: str | None) -> dict[str, str]:
    """An inbound SMS form; a field given as None is left out."""
    base: dict[str, str | None] = {
        "MessageSid": SID,
        "AccountSid": ACCOUNT,
        "From": CITIZEN,
        "To": OUR_NUMBER,
        "Body": "Bonjour mairie",
        "NumMedia": "0",
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


def wa_form(**fields: str | None) -> dict[str, str]:
    whatsapp = {"From": f"whatsapp:{CITIZEN}", "To": f"whatsapp:{OUR_NUMBER}", "WaId": CITIZEN[1:]}
    return form(**{**whatsapp, **fields})


# (id, form, expected attributes of the InboundMessage)
INBOUND_VALID: list[Any] = [
    pytest.param(
        form(),
        {"channel": Channel.SMS, "sender_e164": CITIZEN, "recipient": OUR_NUMBER},
        id="sms",
    ),
    pytest.param(
        wa_form(ProfileName="Afi"),
        {"channel": Channel.WHATSAPP, "sender_e164": CITIZEN, "recipient": OUR_NUMBER},
        id="whatsapp-prefixes-stripped",
    ),
    pytest.param(
        form(From="+22997123456"),
        {"sender_e164": "+2290197123456"},
        id="legacy-8-digit-benin",
    ),
    pytest.param(
        wa_form(From="whatsapp:+22997123456"),
        {"sender_e164": "+2290197123456", "channel": Channel.WHATSAPP},
        id="whatsapp-legacy-8-digit",
    ),
    pytest.param(form(From="+33612345678"), {"sender_e164": "+33612345678"}, id="international"),
    pytest.param(
        wa_form(From="whatsapp:BJ.1234abcd"),
        {"sender_e164": "BJ.1234abcd", "channel": Channel.WHATSAPP},
        id="whatsapp-id-not-a-number-kept",
    ),
    pytest.param(form(To="7722"), {"recipient": "7722"}, id="short-code-recipient"),
    pytest.param(
        form(
            Body="",
            NumMedia="2",
            MediaUrl0=MEDIA_URL.format(0),
            MediaContentType0="image/jpeg",
            MediaUrl1=MEDIA_URL.format(1),
        ),
        {
            "text": "",
            "media": (Media(MEDIA_URL.format(0), "image/jpeg"), Media(MEDIA_URL.format(1))),
        },
        id="two-media-no-body",
    ),
    pytest.param(
        wa_form(
            Body="",
            Latitude="6.3654",
            Longitude="2.4183",
            Address="Place de l'Étoile Rouge, Cotonou",
            Label="Mairie",
        ),
        {
            "text": "",
            "location": Location(6.3654, 2.4183, "Mairie", "Place de l'Étoile Rouge, Cotonou"),
        },
        id="location",
    ),
    pytest.param(
        wa_form(Body="", ButtonText="Oui, m'abonner", ButtonPayload="SUBSCRIBE_YES"),
        {"text": "SUBSCRIBE_YES", "channel": Channel.WHATSAPP},
        id="button-reply-payload",
    ),
    pytest.param(
        wa_form(Body=None, ButtonText="Oui"), {"text": "Oui"}, id="button-reply-text-only"
    ),
    pytest.param(
        wa_form(Body="Oui", ButtonText="Oui", ButtonPayload="SUBSCRIBE_YES"),
        {"text": "Oui"},
        id="button-with-body-keeps-body",
    ),
    pytest.param(form(Body=""), {"text": "", "media": (), "location": None}, id="empty-message"),
    pytest.param(form(Body=None, NumMedia=None), {"text": "", "media": ()}, id="no-body-field"),
    pytest.param(form(Body="  AIDE \n"), {"text": "  AIDE \n"}, id="body-kept-as-sent"),
]

# (id, form, the field the BadRequest names)
INBOUND_MALFORMED: list[Any] = [
    pytest.param(form(MessageSid=None), "MessageSid", id="missing-MessageSid"),
    pytest.param(form(MessageSid=""), "MessageSid", id="empty-MessageSid"),
    pytest.param(form(MessageSid="SM" + "a" * 63), "MessageSid", id="MessageSid-too-long"),
    pytest.param(form(MessageSid="SM1/../x"), "MessageSid", id="MessageSid-punctuation"),
    pytest.param(form(AccountSid=None), "AccountSid", id="missing-AccountSid"),
    pytest.param(form(AccountSid="AC" + "0" * 32), "AccountSid", id="wrong-AccountSid"),
    pytest.param(form(From=None), "From", id="missing-From"),
    pytest.param(form(From=" "), "From", id="blank-From"),
    pytest.param(form(From="mairie"), "From", id="From-not-a-number"),
    pytest.param(form(From="+229123"), "From", id="From-too-short"),
    pytest.param(wa_form(From="whatsapp:"), "From", id="whatsapp-From-empty"),
    pytest.param(form(To=None), "To", id="missing-To"),
    pytest.param(form(Body="a\x00b"), "Body", id="nul-in-Body"),
    pytest.param(form(NumMedia="x"), "NumMedia", id="NumMedia-not-a-number"),
    pytest.param(form(NumMedia="-1"), "NumMedia", id="NumMedia-negative"),
    pytest.param(form(NumMedia="11"), "NumMedia", id="NumMedia-over-10"),
    pytest.param(
        form(NumMedia="2", MediaUrl0=MEDIA_URL.format(0)), "MediaUrl1", id="missing-MediaUrl1"
    ),
    pytest.param(form(Latitude="north", Longitude="2.4"), "Latitude", id="Latitude-text"),
    pytest.param(form(Latitude="91", Longitude="2.4"), "Latitude", id="Latitude-over-90"),
    pytest.param(form(Latitude="6.3", Longitude="-180.5"), "Longitude", id="Longitude-range"),
    pytest.param(form(Latitude="6.3", Longitude="nan"), "Longitude", id="Longitude-nan"),
    pytest.param(form(Latitude="inf", Longitude="2.4"), "Latitude", id="Latitude-inf"),
    pytest.param(form(Latitude="6.3"), "Longitude", id="Longitude-missing"),
]

# Every Twilio message status and what it becomes.
STATUS_MAPPING: list[Any] = [
    pytest.param(twilio, ours, id=twilio)
    for twilio, ours in [
        ("accepted", MessageStatus.SENT),
        ("scheduled", MessageStatus.SENT),
        ("queued", MessageStatus.SENT),
        ("sending", MessageStatus.SENT),
        ("sent", MessageStatus.SENT),
        ("delivered", MessageStatus.DELIVERED),
        ("partially_delivered", MessageStatus.DELIVERED),
        ("read", MessageStatus.READ),
        ("undelivered", MessageStatus.FAILED),
        ("failed", MessageStatus.FAILED),
        ("canceled", MessageStatus.FAILED),
    ]
]

# (id, form, the field the BadRequest names)
STATUS_MALFORMED: list[Any] = [
    pytest.param({"MessageStatus": "sent"}, "MessageSid", id="missing-MessageSid"),
    pytest.param({"MessageSid": SID}, "MessageStatus", id="missing-MessageStatus"),
    pytest.param({"MessageSid": SID, "MessageStatus": ""}, "MessageStatus", id="empty-status"),
    pytest.param(
        {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "21610"},
        "To",
        id="opt-out-without-To",
    ),
    pytest.param(
        {"MessageSid": SID, "MessageStatus": "failed", "ErrorCode": "21610", "To": "abc"},
        "To",
        id="opt-out-To-not-a-number",
    ),
    pytest.param(
        {"MessageSid": SID, "MessageStatus": "sent", "AccountSid": "AC" + "0" * 32},
        "AccountSid",
        id="wrong-AccountSid",
    ),
]

# (http status, body, failure, code) for failed sends.
SEND_ERRORS: list[Any] = [
    pytest.param(
        429, {"code": 20429, "message": "Too Many Requests"}, "retryable", "20429", id="429"
    ),
    pytest.param(429, "slow down", "retryable", "429", id="429-not-json"),
    pytest.param(500, {"code": 20500, "message": "Internal"}, "retryable", "20500", id="500"),
    pytest.param(503, "<html>unavailable</html>", "retryable", "503", id="503-html"),
    pytest.param(400, {"code": 21610, "message": "unsubscribed"}, "opted_out", "21610", id="21610"),
    pytest.param(
        400, {"code": 63016, "message": "outside window"}, "outside_window", "63016", id="63016"
    ),
    pytest.param(400, {"code": 21211, "message": "invalid To"}, "permanent", "21211", id="21211"),
    pytest.param(400, {"code": 21614, "message": "not mobile"}, "permanent", "21614", id="21614"),
    pytest.param(
        400, {"code": 21408, "message": "no permission"}, "permanent", "21408", id="21408"
    ),
    pytest.param(400, {"code": 21612, "message": "unreachable"}, "permanent", "21612", id="21612"),
    pytest.param(400, {"code": 63003, "message": "channel"}, "permanent", "63003", id="63003"),
    pytest.param(401, {"code": 20003, "message": "Authenticate"}, "permanent", "20003", id="401"),
    pytest.param(
        400,
        {"type": "https://x/e/21211", "title": "Invalid To", "status": 400, "code": 21211},
        "permanent",
        "21211",
        id="rfc9457-error",
    ),
]


SIGNED_FORM = MultiDict(form())


@dataclass(frozen=True)
class Signed:
    request_url: str  # what the app sees: origin, path, query
    signed_url: str  # what Twilio signed
    public_base_url: str | None = None
    sent: MultiDict = field(default_factory=lambda: MultiDict(SIGNED_FORM))
    header: str | None = "sign"  # "sign": computed; "tamper": computed then altered; None: absent
    token: str = TOKEN


# (what was signed and what was sent, whether verify accepts it)
SIGNATURES: list[Any] = [
    pytest.param(Signed(URL, URL), True, id="valid"),
    pytest.param(Signed(URL, "https://civic.example.bj:443" + MESSAGES_PATH), True, id="with-port"),
    pytest.param(
        Signed(
            URL, URL, sent=MultiDict([*SIGNED_FORM.items(multi=True), ("Tag", "a"), ("Tag", "b")])
        ),
        False,
        id="unsigned-repeated-keys-added",
    ),
    pytest.param(Signed(URL, URL, header=None), False, id="missing"),
    pytest.param(Signed(URL, URL, header=""), False, id="empty"),
    pytest.param(Signed(URL, URL, header="tamper"), False, id="tampered"),
    pytest.param(Signed(URL, URL, header="not base64 at all"), False, id="garbage"),
    pytest.param(Signed(URL, URL, token="another-account-token"), False, id="other-token"),
    pytest.param(Signed(URL, PUBLIC + STATUS_PATH), False, id="signed-for-other-path"),
    pytest.param(Signed(URL, "http://civic.example.bj" + MESSAGES_PATH), False, id="signed-http"),
    pytest.param(Signed(URL, URL + "?x=1"), False, id="signed-with-query-not-sent"),
    pytest.param(
        Signed(URL, URL, sent=MultiDict({**form(), "Body": "Bonjour mairie, envoyez 5000"})),
        False,
        id="replayed-with-altered-Body",
    ),
    pytest.param(
        Signed(URL, URL, sent=MultiDict({**form(), "NumSegments": "1"})), False, id="param-added"
    ),
    pytest.param(Signed(URL, URL, sent=MultiDict(form(NumMedia=None))), False, id="param-removed"),
    pytest.param(
        Signed(URL + "?commune=calavi&t=%C3%A9t%C3%A9", URL + "?commune=calavi&t=%C3%A9t%C3%A9"),
        True,
        id="query-kept-percent-encoded",
    ),
    pytest.param(Signed(INTERNAL + MESSAGES_PATH, URL, PUBLIC), True, id="public-base-url"),
    pytest.param(
        Signed(INTERNAL + MESSAGES_PATH, URL, PUBLIC + "/"), True, id="public-base-url-slash"
    ),
    pytest.param(
        Signed(INTERNAL + MESSAGES_PATH + "?a=1&b=2", URL + "?a=1&b=2", PUBLIC),
        True,
        id="public-base-url-with-query",
    ),
    pytest.param(
        Signed(INTERNAL + MESSAGES_PATH + "?a=1", URL, PUBLIC),
        False,
        id="public-base-url-signed-without-query",
    ),
    pytest.param(
        Signed(INTERNAL + MESSAGES_PATH, INTERNAL + MESSAGES_PATH, PUBLIC),
        False,
        id="public-base-url-signed-for-internal-url",
    ),
]


PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "civic.example.bj"}


# (forwarded headers, path and query, signed URL, expected HTTP status)
PROXIED_CASES: list[Any] = [
    pytest.param(PROXIED, MESSAGES_PATH, URL, 204, id="forwarded-proto-and-host"),
    pytest.param(PROXIED, MESSAGES_PATH + "?x=1", URL + "?x=1", 204, id="with-query"),
    pytest.param({}, MESSAGES_PATH, URL, 403, id="not-forwarded"),
    pytest.param({"X-Forwarded-Proto": "https"}, MESSAGES_PATH, URL, 403, id="proto-only"),
    pytest.param(
        PROXIED, MESSAGES_PATH, "http://civic.example.bj" + MESSAGES_PATH, 403, id="signed-http"
    ),
]
