"""The phone simulator in Chromium: USSD, SMS, WhatsApp and a broadcast, end to end.

Each test uses its own phone number: the server and worker are shared.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.broadcasts import compose, sending
from bot.db import get_session
from bot.simulator import relay
from tests.browser.conftest import LiveServer, expect


def _open(page: Any, phone: str, lang: str = "fr") -> None:
    page.goto(f"/simulator/?lang={lang}&phone={quote(phone)}")
    expect(page.locator("#current-phone")).to_have_text(phone)


def _answer(page: Any, keys: str) -> None:
    for key in keys:
        page.click(f'#keypad button[data-key="{key}"]')
    page.click("#ussd-call")


def test_ussd_session_on_the_keypad_reaches_the_sample_budget_of_cotonou(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    _open(page, "+2290197100001")
    screen = page.locator("#ussd-screen")
    expect(screen).to_contain_text(relay.service_code(live_server.app))

    _answer(page, relay.service_code(live_server.app))
    expect(screen).to_contain_text("1 Cotonou")
    expect(page.locator("#service-language")).to_have_text("français")
    _answer(page, "1")
    expect(screen).to_contain_text("1 Budget")
    # The keyboard works as well as the keypad.
    page.fill("#ussd-input", "1")
    page.press("#ussd-input", "Enter")
    expect(screen).to_contain_text("Budget (Données d'exemple)")
    expect(screen).to_contain_text("1 Recevoir par SMS")
    screenshot("simulator-ussd", docs=True)

    _answer(page, "1")
    expect(screen).to_have_attribute("data-state", "ended")
    expect(page.locator("#sms-inbox li.incoming")).to_contain_text("Cotonou", timeout=15_000)


def test_whatsapp_question_gets_the_budget_answer_in_the_chat(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    _open(page, "+2290197100002")
    page.fill("#chat-text", "budget cotonou")
    page.press("#chat-text", "Enter")
    expect(page.locator("#chat-log li.outgoing")).to_contain_text("budget cotonou")
    # The first message is the answer; the budget's chart follows as a second one.
    answer = page.locator("#chat-log li.incoming").first
    expect(answer).to_contain_text("Budget 2025 de Cotonou", timeout=15_000)
    # WhatsApp's *bold* shows bold, built as elements, not parsed HTML.
    expect(answer.locator("strong").first).to_contain_text("Budget")
    expect(page.locator("#chat-log li.incoming .body").first).not_to_contain_text("*Budget")
    screenshot("simulator-whatsapp", docs=True)


def test_sms_keyword_to_the_short_code_is_answered_in_the_inbox(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    _open(page, "+2290197100003")
    expect(page.locator("label[for=sms-text]")).to_contain_text(relay.short_code(live_server.app))
    page.fill("#sms-text", "BUDGET COTONOU")
    page.click("#sms-send")
    expect(page.locator("#sms-outbox li")).to_contain_text("BUDGET COTONOU")
    expect(page.locator("#sms-inbox li.incoming")).to_contain_text("Cotonou", timeout=15_000)
    expect(page.locator("#sms-inbox li.incoming")).to_contain_text("exemple")
    screenshot("simulator-sms", docs=True)


def test_a_citizen_who_subscribed_by_sms_sees_the_broadcast_arrive(
    page: Any, live_server: LiveServer, screenshot: Any
) -> None:
    _open(page, "+2290197100004")
    inbox = page.locator("#sms-inbox li.incoming")
    page.fill("#sms-text", "ABONNE COTONOU SESSIONS")
    page.click("#sms-send")
    expect(inbox.last).to_contain_text("OUI", timeout=15_000)
    page.fill("#sms-text", "OUI")
    page.click("#sms-send")
    expect(inbox.last).to_contain_text("C'est fait", timeout=15_000)

    # Markup in a staff text must arrive as text, never as page elements.
    text = "Session du conseil de Cotonou jeudi a 10h <b>salle 3</b> (test navigateur)"
    with live_server.app.app_context():
        session = get_session()
        broadcast = compose.create(
            session,
            commune_slug="cotonou",
            topic="sessions",
            texts={"fr": text},
            channels=["sms"],
            urgent=True,
        )
        sending.request_start(session, broadcast)
        session.commit()

    alert = page.locator("#sms-inbox li.broadcast")
    expect(alert).to_contain_text("<b>salle 3</b>", timeout=20_000)
    expect(alert).to_contain_text("Alerte")
    expect(alert.locator("b")).to_have_count(0)
    screenshot("simulator-broadcast", docs=True)


def test_the_page_switches_to_english(page: Any, live_server: LiveServer) -> None:
    _open(page, "+2290197100005", lang="en")
    expect(page.locator("h1")).to_contain_text("Phone simulator")
    expect(page.locator("#ussd-call")).to_have_text("Call")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_contain_text("Simulateur de téléphone")
    expect(page.locator("#current-phone")).to_have_text("+2290197100005")
