"""The provider requests of shared/conformance, replayed byte for byte."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot import models
from bot.content.loader import load_content
from bot.gsm import is_gsm7
from bot.models.enums import Channel, MessageStatus, Provider
from bot.phone import normalize
from tests import conformance

PROVIDERS = {"africastalking": Provider.AFRICASTALKING, "twilio": Provider.TWILIO}


@pytest.fixture
def conformance_app(app, session):
    secrets = conformance.SPEC["secrets"]
    app.config.update(
        PUBLIC_BASE_URL=conformance.SPEC["conventions"]["base_url"],
        TWILIO_AUTH_TOKEN=secrets["twilio_auth_token"],
        WHATSAPP_APP_SECRET=secrets["meta_app_secret"],
        WHATSAPP_VERIFY_TOKEN=secrets["meta_verify_token"],
    )
    load_content(session)
    session.commit()
    return app


def _send(client, request: dict):
    path = request["path"] + (f"?{request['query']}" if request.get("query") else "")
    if request["method"] == "GET":
        return client.get(path, headers=request["headers"])
    return client.post(
        path,
        data=request["body"].encode("utf-8"),
        content_type=request["content_type"],
        headers=request["headers"],
    )


def _seed_outbound(session, case: dict) -> models.OutboundMessage:
    contact = models.Contact(phone_e164="+2290197000000")
    session.add(contact)
    session.flush()
    row = models.OutboundMessage(
        contact_id=contact.id,
        channel=Channel.SMS,
        provider=PROVIDERS[case["provider"]],
        text="Séance du conseil",
        status=MessageStatus.SENT,
        external_id=case["expect"]["effect"]["external_id"],
    )
    session.add(row)
    session.commit()
    return row


@pytest.mark.parametrize("case", conformance.cases(lambda _case: True))
def test_conformance_case(conformance_app, client, session, run_jobs, case) -> None:
    expect = case["expect"]
    effect = expect.get("effect", {})
    seeded = _seed_outbound(session, case) if effect.get("type") == "status_update" else None

    response = _send(client, case["request"])

    allowed = expect.get("status_any_of", [expect["status"]])
    assert response.status_code in allowed, response.get_data(as_text=True)
    body = response.get_data(as_text=True)
    shape = expect.get("response", {})
    if "content_type" in shape:
        assert response.content_type.startswith(shape["content_type"])
    if "body_prefix_any_of" in shape:
        assert body[:4] in shape["body_prefix_any_of"]
        display = body[4:]
        assert len(display) <= shape.get("recommended_max_display_chars", 160)
        assert is_gsm7(display)
    if "body_contains" in shape:
        assert shape["body_contains"] in body
    if "body_equals" in shape:
        assert body == shape["body_equals"]

    if effect.get("type") == "inbound_message":
        run_jobs()
        [row] = session.scalars(select(models.InboundMessage)).all()
        assert row.channel.value == effect["channel"]
        assert row.provider.value == effect["provider"]
        assert row.text == effect["text"]
        assert row.external_id == effect["external_id"]
        sender = effect["sender"] if "+" in effect["sender"] else "+" + effect["sender"]
        assert row.sender == normalize(sender)
        if "recipient" in effect:
            assert row.recipient == effect["recipient"]
        if "received_at" in effect:
            expected = datetime.fromisoformat(effect["received_at"].replace("Z", "+00:00"))
            assert row.received_at == expected
        if "link_id" in effect:
            assert row.link_id == effect["link_id"]
        assert row.media == effect.get("attachments", [])
    if seeded is not None:
        session.refresh(seeded)
        assert seeded.status.value == effect["status"]
