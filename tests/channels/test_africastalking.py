"""Africa's Talking webhooks as AT sends them: status, body and what gets recorded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import scoped_session, sessionmaker

from bot import models
from bot.channels.inbound import DEDUPE_SECONDS, STREAM, ingest
from bot.content.loader import load_content
from bot.gsm import is_gsm7
from bot.models.enums import Channel, MessageStatus, Provider
from bot.redis import get_redis

SMS = {
    "linkId": "41872630915502873364",
    "text": "Bonjour mairie",
    "to": "7722",
    "id": "5f0c2a91-7d3e-4b8a-9c61-2e4f8a7b3d10",
    "date": "2017-05-03T06:04:45Z",
    "from": "+2290196112233",
}


def _without(form: dict[str, str], name: str) -> dict[str, str]:
    return {k: v for k, v in form.items() if k != name}


def _inbound(session) -> list[models.InboundMessage]:
    return list(session.scalars(select(models.InboundMessage)))


@pytest.mark.parametrize(
    ("form", "received_at", "sender"),
    [
        pytest.param(SMS, datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC), "+2290196112233", id="iso"),
        pytest.param(
            {**SMS, "date": "2017-05-03 06:04:45"},
            datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC),
            "+2290196112233",
            id="space-date",
        ),
        pytest.param(
            {**SMS, "date": "2017-05-03T06:04:45.250Z"},
            datetime(2017, 5, 3, 6, 4, 45, 250000, tzinfo=UTC),
            "+2290196112233",
            id="fractional-seconds",
        ),
        pytest.param(
            {**SMS, "from": "+22997123456"},
            datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC),
            "+2290197123456",
            id="legacy-8-digit-benin",
        ),
        pytest.param(
            _without(SMS, "linkId"),
            datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC),
            "+2290196112233",
            id="no-linkId",
        ),
    ],
)
def test_inbound_sms_recorded(client, session, run_jobs, form, received_at, sender) -> None:
    response = client.post("/webhooks/at/sms", data=form)
    assert response.status_code == 200
    run_jobs()
    [row] = _inbound(session)
    assert (row.provider, row.channel, row.external_id) == (
        Provider.AFRICASTALKING,
        Channel.SMS,
        SMS["id"],
    )
    assert (row.sender, row.recipient, row.text) == (sender, "7722", "Bonjour mairie")
    assert row.received_at == received_at
    assert row.link_id == form.get("linkId")
    contact = session.get(models.Contact, row.contact_id)
    assert contact.phone_e164 == sender
    assert contact.language is None


@pytest.mark.parametrize(
    ("form", "field"),
    [
        pytest.param(_without(SMS, "from"), "from", id="missing-from"),
        pytest.param({**SMS, "from": ""}, "from", id="empty-from"),
        pytest.param({**SMS, "from": "mairie"}, "from", id="from-not-a-number"),
        pytest.param({**SMS, "from": "+229123"}, "from", id="from-too-short"),
        pytest.param(_without(SMS, "to"), "to", id="missing-to"),
        pytest.param(_without(SMS, "id"), "id", id="missing-id"),
        pytest.param({**SMS, "id": "   "}, "id", id="blank-id"),
        pytest.param({**SMS, "id": "x" * 500}, "id", id="oversized-id"),
        pytest.param(_without(SMS, "date"), "date", id="missing-date"),
        pytest.param({**SMS, "date": "03/05/2017 06:04"}, "date", id="bad-date"),
        pytest.param({**SMS, "date": "2017-13-03T06:04:45Z"}, "date", id="impossible-date"),
        pytest.param(_without(SMS, "text"), "text", id="missing-text"),
        pytest.param({**SMS, "text": "a\x00b"}, "text", id="nul-in-text"),
    ],
)
def test_malformed_inbound_sms_names_the_field(client, session, run_jobs, form, field) -> None:
    response = client.post("/webhooks/at/sms", data=form)
    assert response.status_code == 400
    assert response.get_json()["field"] == field
    run_jobs()
    assert _inbound(session) == []


def test_empty_text_is_accepted(client, session, run_jobs) -> None:
    assert client.post("/webhooks/at/sms", data={**SMS, "text": ""}).status_code == 200
    run_jobs()
    assert _inbound(session)[0].text == ""


def test_json_body_is_a_bad_request_not_a_crash(client) -> None:
    response = client.post("/webhooks/at/sms", json=SMS)
    assert response.status_code == 400
    assert response.get_json()["field"] == "from"


def test_non_utf8_body_never_crashes(client) -> None:
    body = b"from=%2B2290196112233&to=7722&id=x1&date=2017-05-03+06%3A04%3A45&text=caf\xe9"
    response = client.post(
        "/webhooks/at/sms", data=body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code in (200, 400)


def test_oversized_body_is_413(client) -> None:
    response = client.post("/webhooks/at/sms", data={**SMS, "text": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_retry_is_answered_200_and_stored_once(client, session, run_jobs) -> None:
    for _ in range(3):
        assert client.post("/webhooks/at/sms", data=SMS).status_code == 200
    assert get_redis().xlen(STREAM) == 1
    run_jobs()
    assert len(_inbound(session)) == 1
    ttl = get_redis().ttl(f"inbound:africastalking:{SMS['id']}")
    assert DEDUPE_SECONDS - 60 < ttl <= DEDUPE_SECONDS


def test_retry_after_redis_forgot_is_stopped_by_the_unique_index(client, session, run_jobs) -> None:
    assert client.post("/webhooks/at/sms", data=SMS).status_code == 200
    run_jobs()
    get_redis().delete(f"inbound:africastalking:{SMS['id']}")
    assert client.post("/webhooks/at/sms", data=SMS).status_code == 200
    run_jobs()
    assert len(_inbound(session)) == 1
    assert session.scalar(select(func.count(models.OutboundMessage.id))) == 1  # one reply


def test_a_crash_before_the_stream_is_trimmed_stores_nothing_twice(
    app, client, session, run_jobs
) -> None:
    client.post("/webhooks/at/sms", data=SMS)
    entries = get_redis().xrange(STREAM)
    run_jobs()
    # Replay the entry as if the worker died after committing, before XDEL.
    get_redis().xadd(STREAM, entries[0][1])
    with app.app_context():
        assert ingest() == 0
    assert len(_inbound(session)) == 1
    assert get_redis().xlen(STREAM) == 0


def test_messages_wait_in_redis_while_the_database_is_down(
    app, client, session, run_jobs, tmp_path
) -> None:
    working = app.extensions["db_session"]
    unreachable = create_engine(f"sqlite:///{tmp_path}/no/such/folder/communes.db")
    app.extensions["db_session"] = scoped_session(sessionmaker(bind=unreachable))
    try:
        assert client.post("/webhooks/at/sms", data=SMS).status_code == 200
        stop = client.post("/webhooks/at/sms", data={**SMS, "id": "stop-1", "text": "STOP"})
        assert stop.status_code == 503  # STOP must be obeyed before the 200: retry later
    finally:
        app.extensions["db_session"] = working
    run_jobs()
    assert [row.external_id for row in _inbound(session)] == [SMS["id"]]


def test_reply_goes_to_the_high_queue_and_out_through_the_console(
    client, session, run_jobs
) -> None:
    load_content(session)
    session.commit()
    client.post("/webhooks/at/sms", data=SMS)
    run_jobs()
    [reply] = session.scalars(select(models.OutboundMessage)).all()
    assert reply.provider == Provider.CONSOLE  # no AT credentials configured
    assert reply.status == MessageStatus.DELIVERED
    assert "BUDGET COTONOU" in reply.text  # "Bonjour mairie" is answered with what one can ask
    assert is_gsm7(reply.text)
    assert reply.segments <= 2


@pytest.mark.parametrize("word", ["STOP", "stop", " Stop. ", "ARRET", "Arrêt"])
def test_stop_opts_out_at_once_and_confirms(client, session, run_jobs, word) -> None:
    session.add(models.Contact(phone_e164="+2290196112233"))
    session.commit()
    client.post("/webhooks/at/sms", data={**SMS, "text": word})
    contact = session.scalar(select(models.Contact))
    session.refresh(contact)
    assert contact.opted_out_at is not None  # before any job ran
    run_jobs()
    [confirmation] = session.scalars(select(models.OutboundMessage)).all()
    assert "ne recevrez plus" in confirmation.text


@pytest.mark.parametrize(
    ("token_setting", "query", "status"),
    [
        (None, "", 200),
        ("s3cret", "", 403),
        ("s3cret", "?token=wrong", 403),
        ("s3cret", "?token=s3cret", 200),
    ],
)
def test_webhook_token(app, client, token_setting, query, status) -> None:
    app.config["AT_WEBHOOK_TOKEN"] = token_setting
    app.extensions.pop("senders", None)
    assert client.post(f"/webhooks/at/sms{query}", data=SMS).status_code == status
    assert (
        client.post(
            f"/webhooks/at/delivery{query}", data={"id": "x", "status": "Success"}
        ).status_code
        == status
    )


def _outbound(session, external_id: str = "ATXid_1", status=MessageStatus.SENT):
    contact = models.Contact(phone_e164="+2290197123456")
    session.add(contact)
    session.flush()
    row = models.OutboundMessage(
        contact_id=contact.id,
        channel=Channel.SMS,
        provider=Provider.AFRICASTALKING,
        text="Séance du conseil",
        status=status,
        external_id=external_id,
    )
    session.add(row)
    session.commit()
    return row


@pytest.mark.parametrize(
    ("at_status", "expected"),
    [
        ("Sent", MessageStatus.SENT),
        ("Submitted", MessageStatus.SENT),
        ("Buffered", MessageStatus.SENT),
        ("Success", MessageStatus.DELIVERED),
        ("Rejected", MessageStatus.FAILED),
        ("Failed", MessageStatus.FAILED),
        ("Expired", MessageStatus.FAILED),
    ],
)
def test_delivery_status_mapping(client, session, at_status, expected) -> None:
    row = _outbound(session, status=MessageStatus.SENDING)
    response = client.post("/webhooks/at/delivery", data={"id": "ATXid_1", "status": at_status})
    assert response.status_code == 200
    session.refresh(row)
    assert row.status == expected


def test_late_sent_never_overwrites_delivered(client, session) -> None:
    row = _outbound(session)
    client.post("/webhooks/at/delivery", data={"id": "ATXid_1", "status": "Success"})
    client.post("/webhooks/at/delivery", data={"id": "ATXid_1", "status": "Buffered"})
    client.post("/webhooks/at/delivery", data={"id": "ATXid_1", "status": "Sent"})
    session.refresh(row)
    assert row.status == MessageStatus.DELIVERED


def test_blacklisted_recipient_is_opted_out(client, session) -> None:
    row = _outbound(session)
    form = {
        "id": "ATXid_1",
        "status": "Failed",
        "failureReason": "UserInBlackList",
        "phoneNumber": "+2290197123456",
        "networkCode": "61601",
        "retryCount": "0",
    }
    assert client.post("/webhooks/at/delivery", data=form).status_code == 200
    session.refresh(row)
    contact = session.get(models.Contact, row.contact_id)
    session.refresh(contact)
    assert row.status == MessageStatus.FAILED
    assert row.error_code == "UserInBlackList"
    assert contact.opted_out_at is not None


@pytest.mark.parametrize(
    ("form", "field", "mentions"),
    [
        ({"status": "Success"}, "id", "missing"),
        ({"id": "ATXid_1"}, "status", "missing"),
        ({"id": "ATXid_1", "status": "Delivered"}, "status", "Success"),
        ({"id": "ATXid_1", "status": "success"}, "status", "Expired"),
    ],
)
def test_bad_delivery_report(client, form, field, mentions) -> None:
    response = client.post("/webhooks/at/delivery", data=form)
    assert response.status_code == 400
    body = response.get_json()
    assert body["field"] == field
    assert mentions in body["description"]


def test_delivery_report_for_unknown_message_is_ignored(client, session) -> None:
    response = client.post("/webhooks/at/delivery", data={"id": "nope", "status": "Success"})
    assert response.status_code == 200
    assert session.scalar(select(func.count(models.OutboundMessage.id))) == 0


def test_optout_notification(client, session) -> None:
    session.add(models.Contact(phone_e164="+2290197123456"))
    session.commit()
    form = {"senderId": "MAIRIE", "phoneNumber": "+22997123456"}
    assert client.post("/webhooks/at/optout", data=form).status_code == 200
    contact = session.scalar(select(models.Contact))
    session.refresh(contact)
    assert contact.opted_out_at is not None
    assert client.post("/webhooks/at/optout", data={"senderId": "X"}).status_code == 400
    unknown = {"senderId": "X", "phoneNumber": "+2290166000000"}
    assert client.post("/webhooks/at/optout", data=unknown).status_code == 200


USSD = {
    "sessionId": "ATUid_9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
    "serviceCode": "*202*22#",
    "phoneNumber": "+2290197123456",
    "networkCode": "99999",
    "text": "",
}


@pytest.fixture
def communes(session) -> None:
    load_content(session)
    session.commit()


def test_ussd_dial_shows_the_main_menu(client, communes) -> None:
    response = client.post("/webhooks/at/ussd", data=USSD)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    body = response.get_data(as_text=True)
    assert body.startswith("CON ")
    screen = body[4:]
    assert len(screen) <= 160
    assert is_gsm7(screen)
    assert "1 Cotonou" in screen and "3 Akpro-Missérété" in screen


def test_ussd_choice_opens_the_commune_menu(client, communes) -> None:
    client.post("/webhooks/at/ussd", data=USSD)
    body = client.post("/webhooks/at/ussd", data={**USSD, "text": "1"}).get_data(as_text=True)
    assert body.startswith("CON Communes+ Cotonou\n1 Budget")
    assert len(body) - 4 <= 160 and is_gsm7(body[4:])


@pytest.mark.parametrize("text", ["9", "abc", "1*", "*"])
def test_ussd_unknown_choice_shows_the_menu_again(client, communes, text) -> None:
    body = client.post("/webhooks/at/ussd", data={**USSD, "text": text}).get_data(as_text=True)
    assert body.startswith("CON ")


@pytest.mark.parametrize("field", ["sessionId", "serviceCode", "phoneNumber", "text"])
def test_ussd_missing_field(client, field) -> None:
    response = client.post("/webhooks/at/ussd", data=_without(USSD, field))
    assert response.status_code == 400
    assert response.get_json()["field"] == field


def test_ussd_events(client) -> None:
    event = {
        "sessionId": USSD["sessionId"],
        "serviceCode": "*202*22#",
        "phoneNumber": "+2290197123456",
        "status": "Incomplete",
        "networkCode": "99999",
        "durationInMillis": "30000",
        "hopsCount": "2",
        "input": "1",
        "cost": "XOF 0.0000",
    }
    assert client.post("/webhooks/at/ussd/events", data=event).status_code == 200
    response = client.post("/webhooks/at/ussd/events", data=_without(event, "status"))
    assert response.status_code == 400
    assert response.get_json()["field"] == "status"


def test_blacklisted_recipient_without_number_is_opted_out_through_the_message(
    client, session
) -> None:
    row = _outbound(session)
    form = {"id": "ATXid_1", "status": "Rejected", "failureReason": "UserInBlackList"}
    assert client.post("/webhooks/at/delivery", data=form).status_code == 200
    contact = session.get(models.Contact, row.contact_id)
    session.refresh(contact)
    assert contact.opted_out_at is not None
