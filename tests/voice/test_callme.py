"""Appelez-moi on USSD: a call queued, placed by a real RQ worker through AT's call API
(faked at the HTTP boundary with `responses`), once per number per interval, never to
a contact who opted out."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
import responses
from rq.registry import ScheduledJobRegistry
from sqlalchemy import select

from bot.models import Contact, OutboundMessage
from bot.models.enums import Channel, MessageStatus, Provider
from bot.models.types import utcnow
from bot.redis import get_queue, get_redis
from bot.voice_callback import CALLBACK_INTERVAL_SECONDS
from tests.participation.dialog import UssdPhone, option, sms

PHONE = "+2290197123456"
OTHER = "+2290196112233"
OUR_NUMBER = "+2290121000000"
CALL_API = "https://voice.africastalking.com/call"


def _queued(session_id: str, phone: str = PHONE) -> dict:
    entry = {"phoneNumber": phone, "status": "Queued", "sessionId": session_id}
    return {"entries": [entry], "errorMessage": "None"}


@pytest.fixture
def at_voice(app) -> None:
    app.config.update(
        AT_USERNAME="communes", AT_API_KEY="at-secret-key-0001", AT_VOICE_NUMBER=OUR_NUMBER
    )


@pytest.fixture
def at_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _ask_for_a_call(client, phone: str = PHONE, session_id: str = "ATUid_callme") -> str:
    ussd = UssdPhone(client, phone, session_id)
    if option(ussd.screen, "Cotonou"):  # a first call: the commune comes first
        ussd.choose("Cotonou")
    return ussd.choose("Appelez-moi")


def _calls(session) -> list[OutboundMessage]:
    session.rollback()
    return list(
        session.scalars(select(OutboundMessage).where(OutboundMessage.channel == Channel.VOICE))
    )


def test_call_me_queues_a_call_that_the_worker_places_through_at(
    client, session, loaded, run_jobs, at_voice, at_api
) -> None:
    at_api.add(responses.POST, CALL_API, json=_queued("ATVId_out1"), status=201)
    screen = _ask_for_a_call(client)
    assert screen.startswith("END ") and "va vous appeler" in screen

    [row] = _calls(session)
    assert row.status is MessageStatus.QUEUED and row.provider is Provider.AFRICASTALKING
    assert not at_api.calls  # placed by the worker, not by the USSD hop

    run_jobs()
    [sent] = at_api.calls
    assert parse_qs(sent.request.body) == {
        "username": ["communes"],
        "from": [OUR_NUMBER],
        "to": [PHONE],
    }
    assert sent.request.headers["apiKey"] == "at-secret-key-0001"
    [row] = _calls(session)
    assert row.status is MessageStatus.SENT
    assert row.external_id == "ATVId_out1" and row.attempts == 1
    assert not [m for m in session.scalars(select(OutboundMessage)) if m.channel is Channel.SMS]


def test_one_call_per_number_per_interval(
    app, client, session, loaded, run_jobs, at_voice, at_api
) -> None:
    at_api.add(responses.POST, CALL_API, json=_queued("ATVId_out1"), status=201)
    _ask_for_a_call(client)
    again = _ask_for_a_call(client, session_id="ATUid_callme_2")
    assert again.startswith("END ") and "deja ete demande" in again

    at_api.add(responses.POST, CALL_API, json=_queued("ATVId_out2", OTHER), status=201)
    assert "va vous appeler" in _ask_for_a_call(client, OTHER, "ATUid_other")
    run_jobs()
    assert [parse_qs(c.request.body)["to"] for c in at_api.calls] == [[PHONE], [OTHER]]
    assert len(_calls(session)) == 2

    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    with app.app_context():
        left = get_redis().ttl(f"voice:callback:{contact.id}")
    assert CALLBACK_INTERVAL_SECONDS - 5 <= left <= CALLBACK_INTERVAL_SECONDS


def test_an_opted_out_contact_is_never_called(
    client, session, loaded, run_jobs, at_voice, at_api
) -> None:
    session.add(Contact(phone_e164=PHONE, opted_out_at=utcnow()))
    session.commit()
    screen = _ask_for_a_call(client)
    assert screen.startswith("END ") and "STOP" in screen
    run_jobs()
    assert _calls(session) == [] and not at_api.calls


def test_a_stop_between_the_request_and_the_job_cancels_the_call(
    client, session, loaded, run_jobs, at_voice, at_api
) -> None:
    _ask_for_a_call(client)
    contact = session.scalar(select(Contact).where(Contact.phone_e164 == PHONE))
    contact.opted_out_at = utcnow()
    session.commit()
    run_jobs()
    [row] = _calls(session)
    assert row.status is MessageStatus.SKIPPED
    assert not at_api.calls


def test_without_at_voice_settings_the_console_provider_records_the_call(
    client, session, loaded, run_jobs, at_api
) -> None:
    _ask_for_a_call(client)
    run_jobs()
    [row] = _calls(session)
    assert row.provider is Provider.CONSOLE and row.status is MessageStatus.SENT
    assert row.external_id.startswith("console-call-")
    assert not at_api.calls  # nothing left the machine


def test_a_provider_error_is_retried_later_not_at_once(
    app, client, session, loaded, run_jobs, at_voice, at_api
) -> None:
    at_api.add(responses.POST, CALL_API, body="busy", status=503)
    _ask_for_a_call(client)
    run_jobs()
    [row] = _calls(session)
    assert row.status is MessageStatus.QUEUED and row.error_code == "http_503"
    assert len(at_api.calls) == 1
    with app.app_context():
        assert ScheduledJobRegistry(queue=get_queue("high")).count == 1


def test_call_me_is_offered_on_ussd_only(client, session, loaded, run_jobs) -> None:
    ussd = UssdPhone(client, PHONE)
    ussd.choose("Cotonou")
    assert "Appelez-moi" in "\n".join(ussd.pages())
    [menu] = sms(client, session, run_jobs, OTHER, "COTONOU")
    assert "Budget" in menu and "Appelez-moi" not in menu
