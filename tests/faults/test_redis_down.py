"""Redis down: every webhook answers at once (USSD with a polite END, the others 503 with
Retry-After so the provider retries), nothing half-recorded, and the same app serves again
as soon as Redis is back; a hung Redis (accepts, never answers) costs one client timeout."""

from __future__ import annotations

from sqlalchemy import func, select

from bot import models
from bot.gsm import is_gsm7
from bot.i18n import t
from bot.models.enums import Provider
from bot.redis import REDIS_TIMEOUT_SECONDS
from tests.faults.conftest import (
    POLITE_END,
    QUICK_SECONDS,
    USSD_DEADLINE_SECONDS,
    Timed,
    at_sms_form,
    meta_body,
    timed_get,
    timed_post,
    twilio_form,
    ussd_form,
)


def _messages(client) -> dict[str, Timed]:
    """One inbound message per provider and channel, each from its own citizen."""
    return {
        "at-sms": timed_post(
            client,
            "/webhooks/at/sms",
            data=at_sms_form("+2290197100001", "BUDGET COTONOU", "at-redis-1"),
        ),
        "twilio-sms": timed_post(
            client,
            "/webhooks/twilio/messages",
            data=twilio_form("+2290197100002", "PTA CALAVI", "SMredis1", whatsapp=False),
        ),
        "twilio-whatsapp": timed_post(
            client,
            "/webhooks/twilio/messages",
            data=twilio_form("+2290197100003", "budget akpro", "SMredis2", whatsapp=True),
        ),
        "meta": timed_post(
            client,
            "/webhooks/whatsapp",
            data=meta_body("+2290197100004", "agenda cotonou", "wamid.redis1"),
            content_type="application/json",
        ),
    }


def _stored(session) -> dict[tuple[Provider, str], int]:
    rows = session.execute(
        select(
            models.InboundMessage.provider, models.InboundMessage.external_id, func.count()
        ).group_by(models.InboundMessage.provider, models.InboundMessage.external_id)
    ).all()
    return {(provider, external_id): count for provider, external_id, count in rows}


def _answered_contacts(session) -> set[str]:
    return set(
        session.scalars(
            select(models.Contact.phone_e164)
            .join(models.OutboundMessage, models.OutboundMessage.contact_id == models.Contact.id)
            .distinct()
        )
    )


def test_redis_stopped_every_webhook_answers_at_once(
    client, communes, redis_under_test, session
) -> None:
    assert client.post("/webhooks/at/ussd", data=ussd_form("+2290197100000")).text.startswith(
        "CON "
    )
    redis_under_test.stop()

    dial = timed_post(client, "/webhooks/at/ussd", data=ussd_form("+2290197100009"))
    assert (dial.status, dial.text) == (200, POLITE_END)
    assert len(dial.text) - 4 <= 160 and is_gsm7(dial.text)
    assert dial.seconds < QUICK_SECONDS
    # Mid-session: the state is in Redis, the citizen gets the same polite END.
    hop = timed_post(client, "/webhooks/at/ussd", data=ussd_form("+2290197100000", "1"))
    assert (hop.status, hop.text) == (200, POLITE_END)

    for name, answer in _messages(client).items():
        # Meta too: its contract is 200 for anything it sent, but a 200 here would lose
        # the message; Meta retries a 503 (for days) and the retry is deduplicated.
        assert answer.status == 503, name
        assert answer.response.headers["Retry-After"] == "30", name
        assert answer.response.get_json()["error"] == "unavailable", name
        assert answer.seconds < QUICK_SECONDS, name
    session_end = timed_post(
        client,
        "/webhooks/at/ussd/events",
        data={"sessionId": "x", "phoneNumber": "+2290197100000", "status": "Success"},
    )
    assert (session_end.status, session_end.seconds < QUICK_SECONDS) == (503, True)

    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json() == {"database": "up", "redis": "down", "status": "degraded"}
    assert _stored(session) == {}


def test_redis_back_the_same_app_serves_and_retries_are_stored_once(
    client, communes, redis_under_test, run_jobs, session
) -> None:
    redis_under_test.stop()
    refused = _messages(client)
    assert {answer.status for answer in refused.values()} == {503}

    redis_under_test.start()
    assert client.post("/webhooks/at/ussd", data=ussd_form("+2290197100009")).text.startswith(
        "CON "
    )
    assert client.get("/healthz").status_code == 200
    # The providers retry what got a 503, and a provider may retry twice.
    for _attempt in range(2):
        retried = _messages(client)
        assert {name: answer.status for name, answer in retried.items()} == dict.fromkeys(
            refused, 200
        )
    run_jobs()
    assert _stored(session) == {
        (Provider.AFRICASTALKING, "at-redis-1"): 1,
        (Provider.TWILIO, "SMredis1"): 1,
        (Provider.TWILIO, "SMredis2"): 1,
        (Provider.META, "wamid.redis1"): 1,
    }
    assert _answered_contacts(session) >= {
        "+2290197100001",
        "+2290197100002",
        "+2290197100003",
        "+2290197100004",
    }


def test_stop_is_obeyed_while_redis_is_down_and_confirmed_once(
    client, communes, redis_under_test, run_jobs, session
) -> None:
    phone = "+2290197100005"
    redis_under_test.stop()
    stop = timed_post(client, "/webhooks/at/sms", data=at_sms_form(phone, "STOP", "at-stop-1"))
    assert stop.status == 503
    contact = session.scalar(select(models.Contact).where(models.Contact.phone_e164 == phone))
    assert contact is not None and contact.opted_out_at is not None  # obeyed before the 503

    redis_under_test.start()
    retry = timed_post(client, "/webhooks/at/sms", data=at_sms_form(phone, "STOP", "at-stop-1"))
    assert retry.status == 200
    run_jobs()
    confirmations = session.scalars(
        select(models.OutboundMessage.text).where(models.OutboundMessage.contact_id == contact.id)
    ).all()
    assert confirmations == [t("optout.confirmed", "fr")]


def test_hung_redis_costs_one_client_timeout_then_recovers(
    client, communes, redis_under_test
) -> None:
    bound = REDIS_TIMEOUT_SECONDS + QUICK_SECONDS
    sms = at_sms_form("+2290197100007", "AIDE", "at-hung-1")
    redis_under_test.freeze()
    try:
        dial = timed_post(client, "/webhooks/at/ussd", data=ussd_form("+2290197100006"))
        refused = timed_post(client, "/webhooks/at/sms", data=sms)
        health = timed_get(client, "/healthz")
    finally:
        redis_under_test.thaw()
    assert (dial.status, dial.text) == (200, POLITE_END)
    assert dial.seconds < min(bound, USSD_DEADLINE_SECONDS)
    assert (refused.status, refused.seconds < bound) == (503, True)
    assert (health.status, health.seconds < bound) == (503, True)

    retried = timed_post(client, "/webhooks/at/sms", data=sms)
    assert (retried.status, retried.seconds < QUICK_SECONDS) == (200, True)
    assert client.post("/webhooks/at/ussd", data=ussd_form("+2290197100006")).text.startswith(
        "CON "
    )
