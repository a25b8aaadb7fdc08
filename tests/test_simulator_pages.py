"""The phone simulator's page and JSON endpoints, through the Flask test client."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bot import create_app
from bot.config import ConfigError
from bot.contacts import contact_for
from bot.content.loader import load_content
from bot.db import dispose_engines
from bot.models import OutboundMessage
from bot.models.enums import Channel, MessageStatus, Provider
from bot.simulator import access
from bot.simulator.views import SAMPLE_PHONE

PHONE = "+2290197200001"
SCRIPT = "<script>alert(1)</script>"
STATIC_JS = Path(__file__).resolve().parent.parent / "bot" / "simulator" / "static" / "simulator.js"


@pytest.fixture
def loaded(session: Session) -> None:
    load_content(session)
    session.commit()


@pytest.fixture
def make_app(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Callable[..., Flask]]:
    """An app with these settings on top of the test defaults (the console provider)."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / "instance"),
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": "test-secret",
                **settings,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        dispose_engines(app)


def _delivered(session: Session, phone: str, text: str, **fields: Any) -> OutboundMessage:
    row = OutboundMessage(
        contact_id=contact_for(session, phone, Channel.SMS).id,
        channel=fields.pop("channel", Channel.SMS),
        provider=Provider.CONSOLE,
        text=text,
        status=fields.pop("status", MessageStatus.DELIVERED),
        **fields,
    )
    session.add(row)
    session.commit()
    return row


def test_page_shows_both_phones_the_codes_and_a_sample_number_in_french(
    client: FlaskClient,
) -> None:
    response = client.get("/simulator/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr">' in html
    assert 'id="basic-phone"' in html and 'id="whatsapp"' in html
    assert "*202*22#" in html and "Message au 7722" in html
    assert SAMPLE_PHONE in html
    assert 'id="service-language">français<' in html


def test_page_sets_a_strict_policy_and_has_no_inline_script(client: FlaskClient) -> None:
    response = client.get("/simulator/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    for tag in re.findall(r"<script[^>]*>", response.get_data(as_text=True)):
        assert "src=" in tag or 'type="application/json"' in tag


def test_english_switch_keeps_the_number(client: FlaskClient) -> None:
    html = client.get(f"/simulator/?lang=en&phone={PHONE}").get_data(as_text=True)
    assert '<html lang="en">' in html and "Phone simulator" in html
    assert re.search(r'id="lang-switch" href="[^"]*lang=fr[^"]*"', html)
    assert f'id="current-phone">{PHONE}<' in html


def test_service_language_is_the_contacts_choice(client: FlaskClient, session: Session) -> None:
    contact_for(session, PHONE, Channel.SMS).language = "en"
    session.commit()
    html = client.get(f"/simulator/?phone={PHONE}").get_data(as_text=True)
    assert 'id="service-language">anglais<' in html
    assert client.get(f"/simulator/api/messages?phone={PHONE}").json["language"] == "en"


def test_a_bad_number_on_the_page_is_refused_and_echoed_escaped(client: FlaskClient) -> None:
    response = client.get("/simulator/", query_string={"phone": SCRIPT})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert SCRIPT not in html
    assert "&lt;script&gt;" in html
    assert SAMPLE_PHONE in html  # the page still works, on the sample number


@pytest.mark.parametrize(
    "settings",
    [
        {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t"},
        {"AT_USERNAME": "communes", "AT_API_KEY": "k"},
        {"WHATSAPP_TOKEN": "w", "WHATSAPP_PHONE_NUMBER_ID": "1"},
        {"AT_WEBHOOK_TOKEN": "secret"},
        {"ENV": "production"},
        {"SIMULATOR_ENABLED": "false"},
    ],
    ids=["twilio", "africastalking", "meta", "at-token", "production", "flag-off"],
)
def test_not_found_unless_console_only_or_enabled(
    make_app: Callable[..., Flask], settings: dict[str, str]
) -> None:
    client = make_app(**settings).test_client()
    assert client.get("/simulator/").status_code == 404
    assert client.get("/simulator/static/simulator.js").status_code == 404
    assert client.get(f"/simulator/api/messages?phone={PHONE}").status_code == 404
    assert client.post("/simulator/api/sms", json={"phone": PHONE, "text": "x"}).status_code == 404


def test_the_flag_turns_it_on_with_providers_and_the_relay_passes_their_checks(
    make_app: Callable[..., Flask], loaded: None
) -> None:
    app = make_app(
        SIMULATOR_ENABLED="true",
        TWILIO_ACCOUNT_SID="AC" + "2" * 32,
        TWILIO_AUTH_TOKEN="twilio-token",
        TWILIO_WHATSAPP_FROM="+2290121300400",
        AT_WEBHOOK_TOKEN="at-token",
    )
    client = app.test_client()
    assert client.get("/simulator/").status_code == 200
    # The webhooks do check: unsigned or tokenless requests are refused...
    unsigned = {"From": f"whatsapp:{PHONE}", "To": "whatsapp:+2290121300400", "Body": "x"}
    assert client.post("/webhooks/twilio/messages", data=unsigned).status_code == 403
    assert client.post("/webhooks/at/sms", data={"from": PHONE}).status_code == 403
    # ...and the relay's pass them: signed like Twilio, with AT's token.
    whatsapp = client.post("/simulator/api/whatsapp", json={"phone": PHONE, "text": "budget"})
    assert whatsapp.status_code == 200, whatsapp.json
    assert client.post("/simulator/api/sms", json={"phone": PHONE, "text": "aide"}).json == {
        "ok": True,
        "to": "7722",
    }
    dial = client.post("/simulator/api/ussd", json={"phone": PHONE, "text": ""})
    assert dial.status_code == 200 and "1 Cotonou" in dial.json["screen"]


def test_a_mistyped_flag_stops_the_app_at_start(make_app: Callable[..., Flask]) -> None:
    with pytest.raises(ConfigError, match="SIMULATOR_ENABLED"):
        make_app(SIMULATOR_ENABLED="maybe")


def test_automatic_choice_follows_the_provider_settings() -> None:
    assert access.enabled({"ENV": "development"})
    assert not access.enabled({"ENV": "development", "TWILIO_AUTH_TOKEN": "t"})
    assert not access.enabled({"ENV": "production"})
    assert access.enabled({"ENV": "production", "SIMULATOR_ENABLED": "true"})
    assert access.enabled({"ENV": "development", "SIMULATOR_ENABLED": ""})


def test_ussd_relay_plays_a_session_with_the_whole_history(
    client: FlaskClient, loaded: None
) -> None:
    dial = client.post("/simulator/api/ussd", json={"phone": PHONE, "text": ""})
    assert dial.status_code == 200
    assert dial.json["end"] is False and "1 Cotonou" in dial.json["screen"]
    session_id = dial.json["session_id"]
    budget = client.post(
        "/simulator/api/ussd", json={"phone": PHONE, "session_id": session_id, "text": "1*1"}
    )
    assert budget.json["session_id"] == session_id
    assert budget.json["screen"].startswith("Budget (Données d'exemple)")
    copy = client.post(
        "/simulator/api/ussd", json={"phone": PHONE, "session_id": session_id, "text": "1*1*1"}
    )
    assert copy.json["end"] is True
    ended = {"phone": PHONE, "session_id": session_id, "completed": True}
    assert client.post("/simulator/api/ussd/end", json=ended).status_code == 200


def test_replies_show_once_the_worker_sent_them(
    client: FlaskClient, loaded: None, run_jobs: Callable[[], None]
) -> None:
    sent = client.post("/simulator/api/whatsapp", json={"phone": PHONE, "text": "budget cotonou"})
    assert sent.status_code == 200
    assert client.get(f"/simulator/api/messages?phone={PHONE}").json["messages"] == []
    run_jobs()
    poll = client.get(f"/simulator/api/messages?phone={PHONE}&after=0").json
    reply, chart = poll["messages"]
    assert reply["channel"] == "whatsapp" and "Budget 2025 de Cotonou" in reply["text"]
    assert reply["broadcast"] is False
    # The budget's chart follows, as its link: the page is on the app's own host.
    assert chart["text"].endswith("\n📎 /media/charts/cotonou/2025/fr.png")
    assert poll["cursor"] == chart["id"]
    again = client.get(f"/simulator/api/messages?phone={PHONE}&after={poll['cursor']}").json
    assert again["messages"] == []


def test_cursor_stops_before_a_message_not_yet_handed_over(
    client: FlaskClient, session: Session
) -> None:
    waiting = _delivered(session, PHONE, "alerte", status=MessageStatus.QUEUED)
    reply = _delivered(session, PHONE, "réponse")
    poll = client.get(f"/simulator/api/messages?phone={PHONE}").json
    assert [m["text"] for m in poll["messages"]] == ["réponse"]
    assert poll["cursor"] == 0
    waiting.status = MessageStatus.DELIVERED
    session.commit()
    poll = client.get(f"/simulator/api/messages?phone={PHONE}&after=0").json
    assert [m["id"] for m in poll["messages"]] == [waiting.id, reply.id]
    assert poll["cursor"] == reply.id


def test_other_numbers_messages_are_not_shown(client: FlaskClient, session: Session) -> None:
    _delivered(session, "+2290197200002", "pas pour vous")
    assert client.get(f"/simulator/api/messages?phone={PHONE}").json["messages"] == []


def test_message_text_is_data_never_markup(client: FlaskClient, session: Session) -> None:
    _delivered(session, PHONE, SCRIPT)
    response = client.get(f"/simulator/api/messages?phone={PHONE}")
    assert response.content_type == "application/json"
    assert response.json["messages"][0]["text"] == SCRIPT
    # The page builds messages with textContent only.
    assert "innerHTML" not in STATIC_JS.read_text(encoding="utf-8")


BAD_INPUTS = [
    ("post", "/simulator/api/sms", {"data": "phone=x"}, 415),
    ("post", "/simulator/api/sms", {"data": "{", "content_type": "application/json"}, 400),
    ("post", "/simulator/api/sms", {"json": ["a", "list"]}, 400),
    ("post", "/simulator/api/sms", {"json": {"text": "budget"}}, 400),
    ("post", "/simulator/api/sms", {"json": {"phone": 229, "text": "budget"}}, 400),
    ("post", "/simulator/api/sms", {"json": {"phone": "hello", "text": "budget"}}, 400),
    ("post", "/simulator/api/sms", {"json": {"phone": PHONE, "text": ["budget"]}}, 400),
    ("post", "/simulator/api/sms", {"json": {"phone": PHONE, "text": "   "}}, 400),
    ("post", "/simulator/api/sms", {"json": {"phone": PHONE, "text": "x" * 5001}}, 400),
    ("post", "/simulator/api/whatsapp", {"json": {"phone": "+1", "text": "budget"}}, 400),
    ("post", "/simulator/api/whatsapp", {"json": {"phone": PHONE}}, 400),
    ("post", "/simulator/api/ussd", {"json": {"phone": PHONE, "text": 1}}, 400),
    ("post", "/simulator/api/ussd", {"json": {"phone": PHONE, "text": "1" * 1001}}, 400),
    ("post", "/simulator/api/ussd", {"json": {"phone": PHONE, "session_id": "a b"}}, 400),
    ("post", "/simulator/api/ussd", {"json": {"phone": PHONE, "session_id": 7}}, 400),
    ("post", "/simulator/api/ussd/end", {"json": {"phone": PHONE, "completed": True}}, 400),
    (
        "post",
        "/simulator/api/ussd/end",
        {"json": {"phone": PHONE, "session_id": "ATUid_1", "completed": "yes"}},
        400,
    ),
    ("get", "/simulator/api/sms", {}, 405),
    ("get", "/simulator/api/messages", {}, 400),
    ("get", "/simulator/api/messages?phone=%00", {}, 400),
    ("get", f"/simulator/api/messages?phone={PHONE}&after=-1", {}, 400),
    ("get", f"/simulator/api/messages?phone={PHONE}&after=abc", {}, 400),
    ("get", f"/simulator/api/messages?phone={PHONE}&after={'9' * 40}", {}, 400),
    ("get", f"/simulator/?phone={'9' * 5000}", {}, 400),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), BAD_INPUTS)
def test_bad_input_gets_a_4xx_naming_the_problem(
    client: FlaskClient, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    if path.startswith("/simulator/api/"):
        assert response.is_json and response.json["error"]
