"""Per-number limits: inbound floods (bot/channels/flood.py) and feedback tickets per day.

What exists and is per number: the inbound limit below and FEEDBACK_DAILY_LIMIT.
The send rates of bot/broadcasts/ratelimit.py are per provider (the provider's
own limit), and the dashboard's login limits are per email and per IP
(tests/dashboard/test_ratelimit.py): neither is about one citizen's number.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from bot.config import ConfigError, load_settings
from bot.gsm import is_gsm7, segment_info, to_gsm7
from bot.i18n import t
from bot.models import Contact, Feedback, InboundMessage, OutboundMessage
from bot.models.enums import Channel, FeedbackCategory
from bot.optout import is_stop
from bot.participation import feedback as tickets
from tests.participation.dialog import sms

FLOODER = "+2290197333333"
NEIGHBOUR = "+2290197444444"
LIMIT = 5
FLOOD_FR = t("inbound.flood", "fr")
_ids = iter(range(1, 10_000))


@pytest.fixture
def limited(app):
    app.config["INBOUND_RATE_PER_MINUTE"] = LIMIT
    return app


def _at_sms(client, phone: str, text: str, at: str = "2026-11-22 10:00:30") -> None:
    form = {"from": phone, "to": "7722", "text": text, "date": at, "id": f"flood-{next(_ids)}"}
    assert client.post("/webhooks/at/sms", data=form).status_code == 200


def _meta(client, phone: str, text: str, timestamp: int) -> None:
    message = {
        "from": phone.lstrip("+"),
        "id": f"wamid.flood{next(_ids)}",
        "timestamp": str(timestamp),
        "type": "text",
        "text": {"body": text},
    }
    value = {"metadata": {"phone_number_id": "106540352242922"}, "messages": [message]}
    change = {"value": value, "field": "messages"}
    body = {"object": "whatsapp_business_account", "entry": [{"changes": [change]}]}
    response = client.post(
        "/webhooks/whatsapp", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200


def _sent_to(session, phone: str) -> list[str]:
    session.expire_all()
    return list(
        session.scalars(
            select(OutboundMessage.text)
            .join(Contact, Contact.id == OutboundMessage.contact_id)
            .where(Contact.phone_e164 == phone)
            .order_by(OutboundMessage.id)
        )
    )


def _stored(session, phone: str) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count()).select_from(InboundMessage).where(InboundMessage.sender == phone)
    )


def _answers_to_one_message(client, session, run_jobs, phone: str) -> int:
    _at_sms(client, phone, "AIDE", at="2026-11-22 09:00:00")
    run_jobs()
    return len(_sent_to(session, phone))


def test_a_flooding_number_is_recorded_and_told_once(limited, client, session, run_jobs) -> None:
    per_message = _answers_to_one_message(client, session, run_jobs, NEIGHBOUR)
    for _ in range(LIMIT + 7):
        _at_sms(client, FLOODER, "AIDE")
    _at_sms(client, NEIGHBOUR, "AIDE")  # someone else, the same minute
    run_jobs()

    assert _stored(session, FLOODER) == LIMIT + 7  # every message kept
    sent = _sent_to(session, FLOODER)
    notices = [text for text in sent if text == to_gsm7(FLOOD_FR)]
    assert len(notices) == 1
    assert len(sent) == LIMIT * per_message + 1  # answered up to the limit, then one notice
    assert len(_sent_to(session, NEIGHBOUR)) == 2 * per_message  # not held back by the flood


def test_the_next_minute_is_answered_again(limited, client, session, run_jobs) -> None:
    for _ in range(LIMIT + 2):
        _at_sms(client, FLOODER, "AIDE", at="2026-11-22 10:00:10")
    run_jobs()
    before = len(_sent_to(session, FLOODER))
    _at_sms(client, FLOODER, "AIDE", at="2026-11-22 10:01:05")
    run_jobs()
    assert len(_sent_to(session, FLOODER)) > before


def test_a_backlog_is_counted_by_when_it_was_sent(limited, client, session, run_jobs) -> None:
    """Messages a minute apart, stored in one go (as after an outage): all answered."""
    for minute in range(LIMIT + 3):
        _at_sms(client, FLOODER, "AIDE", at=f"2026-11-22 10:{minute:02d}:00")
    run_jobs()
    assert to_gsm7(FLOOD_FR) not in _sent_to(session, FLOODER)
    assert len(_sent_to(session, FLOODER)) >= LIMIT + 3


def test_stop_is_obeyed_and_confirmed_past_the_limit(limited, client, session, run_jobs) -> None:
    for _ in range(LIMIT + 3):
        _at_sms(client, FLOODER, "AIDE")
    _at_sms(client, FLOODER, "STOP")
    run_jobs()
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == FLOODER))
    assert contact.opted_out_at is not None
    assert t("optout.confirmed", "fr") in _sent_to(session, FLOODER)


def test_whatsapp_floods_are_limited_too(limited, client, session, run_jobs) -> None:
    for _ in range(LIMIT + 4):
        _meta(client, FLOODER, "aide", timestamp=1_763_720_000)
    run_jobs()
    assert _stored(session, FLOODER) == LIMIT + 4
    sent = _sent_to(session, FLOODER)
    assert sent.count(FLOOD_FR) == 1  # WhatsApp keeps the cedilla


def test_ussd_needs_no_limit(limited, client) -> None:
    """A USSD session is synchronous: every hop is answered, however many."""
    for hop in range(LIMIT * 4):
        form = {
            "sessionId": f"ATUid_{hop}",
            "serviceCode": "*202*22#",
            "phoneNumber": FLOODER,
            "text": "",
        }
        response = client.post("/webhooks/at/ussd", data=form)
        assert response.get_data(as_text=True).startswith("CON ")


def test_the_flood_notice_fits_one_sms_in_both_languages() -> None:
    for language in ("fr", "en"):
        text = to_gsm7(t("inbound.flood", language))
        assert is_gsm7(text) and segment_info(text).segments == 1
    assert not is_stop(FLOOD_FR)


def test_the_limit_is_a_setting(tmp_path) -> None:
    assert load_settings({}, tmp_path)["INBOUND_RATE_PER_MINUTE"] == 20
    assert load_settings({"INBOUND_RATE_PER_MINUTE": "7"}, tmp_path)["INBOUND_RATE_PER_MINUTE"] == 7
    for bad in ("0", "-1", "lots"):
        with pytest.raises(ConfigError, match="INBOUND_RATE_PER_MINUTE"):
            load_settings({"INBOUND_RATE_PER_MINUTE": bad}, tmp_path)


def test_feedback_tickets_per_number_per_day(app, client, session, run_jobs, communes) -> None:
    """FEEDBACK_DAILY_LIMIT: past it, a polite refusal and no ticket; others still may file."""
    app.config["FEEDBACK_DAILY_LIMIT"] = 2
    contact = Contact(phone_e164=FLOODER)
    session.add(contact)
    session.commit()
    for n in range(2):
        tickets.file(
            session,
            tickets.Draft(
                commune_slug="cotonou",
                contact_id=contact.id,
                text=f"Caniveau bouche {n}",
                category=FeedbackCategory.ASSAINISSEMENT,
                channel=Channel.SMS,
                draft_id=f"limit-{n}",
            ),
        )
    [refusal] = sms(client, session, run_jobs, FLOODER, "AVIS la route est coupee")
    assert "demain" in refusal
    assert session.scalar(select(func.count()).select_from(Feedback)) == 2
    [other] = sms(client, session, run_jobs, NEIGHBOUR, "AVIS la route est coupee")
    assert "demain" not in other
