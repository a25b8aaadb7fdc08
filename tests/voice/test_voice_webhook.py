"""The voice webhook as a provider endpoint: malformed requests get 400 naming the field,
a wrong token 403, hostile text is escaped, and nothing ever gives a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot import create_app
from bot.channels import voice_xml
from bot.flows.base import Option, Reply
from bot.models import Contact
from tests.voice.conftest import OUR_NUMBER, VoiceCall
from tests.voice.shape import check, said

PHONE = "+2290197123456"
CALL = {
    "isActive": "1",
    "sessionId": "ATVId_webhook",
    "direction": "Inbound",
    "callerNumber": PHONE,
    "destinationNumber": OUR_NUMBER,
}
URLS = voice_xml.Urls(
    callback="https://bot.example.bj/webhooks/at/voice", base="https://bot.example.bj"
)


def _post(client, form: dict, query: str = ""):
    return client.post(f"/webhooks/at/voice{query}", data=form)


@pytest.mark.parametrize("field", ["isActive", "sessionId", "callerNumber"])
def test_a_missing_field_is_named(client, field) -> None:
    form = {k: v for k, v in CALL.items() if k != field}
    response = _post(client, form)
    assert response.status_code == 400
    assert response.get_json()["field"] == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("isActive", "2"),
        ("isActive", "yes"),
        ("direction", "Sideways"),
        ("callerNumber", "not a number"),
        ("callerNumber", "+2290197123456" * 10),
        ("sessionId", "x" * 200),
        ("sessionId", "   "),
        ("dtmfDigits", "1" * 65),
        ("recordingUrl", "javascript:alert(1)"),
        ("recordingUrl", "https://x/" + "a" * 3000),
        ("durationInSeconds", "ten"),
    ],
)
def test_a_malformed_field_is_named(client, field, value) -> None:
    response = _post(client, {**CALL, field: value})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["field"] == field


def test_an_answered_call_we_placed_finds_the_citizen(app, client, session, loaded) -> None:
    # Should AT name our number as the caller of a call we placed, the citizen is the callee.
    app.config["AT_VOICE_NUMBER"] = OUR_NUMBER
    placed = {**CALL, "direction": "Outbound", "callerNumber": OUR_NUMBER}
    response = _post(client, {**placed, "destinationNumber": PHONE})
    assert response.status_code == 200
    assert "vous avez demandé à être appelé" in said(check(response.data))
    assert set(session.scalars(select(Contact.phone_e164))) == {PHONE}

    response = _post(client, {**placed, "destinationNumber": "nobody"})
    assert response.status_code == 400
    assert response.get_json()["field"] == "destinationNumber"


def test_the_token_is_checked_and_carried_into_the_callback_urls(app, client, loaded) -> None:
    app.config.update(AT_WEBHOOK_TOKEN="s3cret&x", PUBLIC_BASE_URL="https://bot.example.bj/")
    assert _post(client, CALL).status_code == 403
    assert _post(client, CALL, "?token=wrong").status_code == 403
    response = _post(client, CALL, "?token=s3cret%26x")
    assert response.status_code == 200
    first = check(response.data)[0]
    assert first.attrib["callbackUrl"] == (
        "https://bot.example.bj/webhooks/at/voice?token=s3cret%26x"
    )


def test_the_last_request_of_an_unknown_call_is_answered_empty(client) -> None:
    response = _post(client, {**CALL, "isActive": "0", "durationInSeconds": "0"})
    assert response.status_code == 200 and len(check(response.data)) == 0


def test_redis_down_answers_a_polite_sentence(tmp_path: Path, database_url: str) -> None:
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": database_url,
            "REDIS_URL": f"unix://{tmp_path}/nobody-listens.sock",
        }
    )
    response = app.test_client().post("/webhooks/at/voice", data=CALL)
    assert response.status_code == 200
    root = check(response.data)
    assert [a.tag for a in root] == ["Say"] and "indisponible" in said(root)


def test_hostile_text_is_escaped_and_audio_played_from_the_public_address() -> None:
    reply = Reply(
        title='Budget </Say><Reject/> & "co"',
        text="<script>alert(1)</script>\nÀ lire : https://example.bj/doc.pdf",
        options=(Option("a", "A & <b>"),),
        content=True,
    )
    root = check(voice_xml.menu(reply, reply.options, 0, "fr", URLS, root=False).encode())
    words = said(root)
    assert 'Budget </Say><Reject/> & "co".' in words and "<script>alert(1)</script>." in words
    assert "https://" not in words and "À lire" not in words  # the link is for the SMS copy
    assert "Pour A & <b>, tapez 1." in words
    assert [a.tag for a in root] == ["GetDigits", "GetDigits", "Say"]

    recorded = Reply(
        text="texte", title="Budget (Données d'exemple)", audio="/media/audio/12-ab.mp3"
    )
    root = check(voice_xml.farewell(recorded, "fr", URLS).encode())
    assert [a.tag for a in root] == ["Say", "Play", "Say"]
    assert root[0].text == "Budget (Données d'exemple)."  # the sample label, even with audio
    assert root[1].attrib["url"] == "https://bot.example.bj/media/audio/12-ab.mp3"


def test_a_long_menu_is_paged_with_the_same_keys() -> None:
    options = tuple(Option(str(n), f"Choix {n}") for n in range(1, 16))
    pages = [
        said(
            check(voice_xml.menu(Reply(text="Menu"), options, p, "fr", URLS, root=False).encode())[
                0
            ]
        )
        for p in range(voice_xml.pages(options))
    ]
    assert len(pages) == 3
    assert "Pour Choix 8, tapez 1." in pages[1] and "Pour Choix 15, tapez 1." in pages[2]
    assert all("tapez 8" in page and "tapez 9" in page and "étoile" in page for page in pages)
    assert voice_xml.picked("1", options, 2) == 14
    assert voice_xml.picked("2", options, 2) is None


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
FIELDS = [*CALL, "dtmfDigits", "recordingUrl", "durationInSeconds", "currencyCode", "amount"]


@SETTINGS
@given(
    form=st.dictionaries(
        st.sampled_from(FIELDS) | st.text(max_size=12),
        st.text(max_size=80) | st.sampled_from([PHONE, "1", "0", "*", "#", "https://a.b/c.mp3"]),
        max_size=10,
    )
)
def test_arbitrary_forms_never_give_a_500(client, form) -> None:
    response = _post(client, form)
    assert response.status_code in (200, 400), response.status_code
    if response.status_code == 200:
        check(response.data)


@SETTINGS
# Without NUL (a form field holding one is malformed and answered 400, see
# test_arbitrary_forms_never_give_a_500) nor lone surrogates, which no form can carry.
@given(
    digits=st.text(alphabet="0123456789*#", max_size=6)
    | st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
        max_size=6,
    )
)
def test_any_keys_on_a_live_call_get_valid_xml(client, loaded, digits) -> None:
    call = VoiceCall(client, PHONE)
    call.press(digits)
    call.press(digits)
    assert call.collects_digits or call.says_goodbye or call.records
