"""Charts and documents on WhatsApp, through the real webhooks, worker and provider SDKs.

Twilio and Meta are fake servers on loopback; everything of ours is real.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import models
from bot.channels import render
from bot.channels.base import Media
from bot.charts import chart_path
from bot.flows.base import Attachment, Reply
from bot.i18n import t
from bot.models.enums import Channel, DocumentType, MessageStatus, Provider
from bot.models.types import utcnow
from bot.outbox import enqueue_send, new_message
from tests.fakes.provider import Answer, FakeProvider
from tests.participation.dialog import message
from workers.send import deliver
from workers.sweeper import sweep

PUBLIC = "https://communes.example.org"
ACCOUNT = "AC" + "0" * 32
TOKEN = "twilio-token-0001"
CITIZEN = "+2290197445566"
OUR_WHATSAPP = "+2290121300400"
_ids = itertools.count(1)


def _created(_request) -> Answer:
    return Answer(201, {"sid": f"SM{next(_ids):032d}", "status": "queued"})


@pytest.fixture
def twilio(app: Flask) -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        fake.answer("/Messages.json", _created)
        app.config.update(
            TWILIO_ACCOUNT_SID=ACCOUNT,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_WHATSAPP_FROM=OUR_WHATSAPP,
            TWILIO_API_BASE_URL=fake.url,
            PUBLIC_BASE_URL=PUBLIC,
        )
        yield fake


def ask_on_whatsapp(client, run_jobs, text: str) -> None:
    """A WhatsApp message as Twilio posts it, signed, then the worker's turn."""
    form = {
        "MessageSid": f"SM{next(_ids):032d}",
        "AccountSid": ACCOUNT,
        "From": f"whatsapp:{CITIZEN}",
        "To": f"whatsapp:{OUR_WHATSAPP}",
        "Body": text,
        "NumMedia": "0",
    }
    signature = RequestValidator(TOKEN).compute_signature(
        PUBLIC + "/webhooks/twilio/messages", form
    )
    response = client.post(
        "/webhooks/twilio/messages", data=form, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 200
    run_jobs()


def test_a_budget_answer_on_whatsapp_sends_the_chart_by_its_public_url(
    client, communes, run_jobs, twilio
) -> None:
    ask_on_whatsapp(client, run_jobs, "Quel est le budget de Cotonou en 2025 ?")
    text, chart = (r.form for r in twilio.requests_to("/Messages.json"))
    assert "MediaUrl" not in text and "Budget 2025 de Cotonou" in text["Body"]
    assert chart["MediaUrl"] == PUBLIC + chart_path("cotonou", 2025, "fr")
    assert chart["To"] == f"whatsapp:{CITIZEN}"
    assert "Budget 2025 de Cotonou" in chart["Body"]
    assert f"({t('sample.label', 'fr')})" in chart["Body"]
    # What Twilio will fetch at that URL: the chart itself.
    served = client.get(chart["MediaUrl"].removeprefix(PUBLIC))
    assert served.status_code == 200
    assert Image.open(io.BytesIO(served.data)).format == "PNG"


def test_the_chart_follows_the_year_and_language_asked(
    client, session, communes, run_jobs, twilio
) -> None:
    session.add(models.Contact(phone_e164=CITIZEN, language="en"))
    session.commit()
    ask_on_whatsapp(client, run_jobs, "budget cotonou 2024")
    media = [
        r.form["MediaUrl"] for r in twilio.requests_to("/Messages.json") if "MediaUrl" in r.form
    ]
    assert media == [PUBLIC + chart_path("cotonou", 2024, "en")]


def _real_compte_administratif(session, communes) -> str:
    """A compte administratif of Cotonou that is not sample content; its URL."""
    url = "https://mairie-cotonou.bj/documents/compte-administratif-2026.pdf"
    session.add(
        models.Document(
            commune_id=communes["cotonou"].id,
            type=DocumentType.COMPTE_ADMINISTRATIF,
            fiscal_year=2026,
            title="Compte administratif 2026",
            url=url,
            is_sample=False,
        )
    )
    session.commit()
    return url


def test_a_real_compte_administratif_goes_as_a_document(
    app, client, session, communes, run_jobs, twilio
) -> None:
    url = _real_compte_administratif(session, communes)
    ask_on_whatsapp(client, run_jobs, "compte administratif cotonou 2026")
    text, document = (r.form for r in twilio.requests_to("/Messages.json"))
    assert url in text["Body"] and "MediaUrl" not in text
    assert (document["MediaUrl"], document["Body"]) == (url, "Compte administratif 2026")


def test_a_sample_document_stays_a_link(client, communes, run_jobs, twilio) -> None:
    ask_on_whatsapp(client, run_jobs, "compte administratif cotonou 2025")
    [answer] = (r.form for r in twilio.requests_to("/Messages.json"))
    assert "MediaUrl" not in answer
    assert (
        "https://example.org/communes-plus/sample/cotonou/compte-administratif-2025.pdf"
        in (answer["Body"])
    )


def test_the_pta_link_is_added_on_whatsapp_only(client, session, communes, run_jobs) -> None:
    pta = session.scalar(
        select(models.Document).where(
            models.Document.commune_id == communes["cotonou"].id,
            models.Document.type == DocumentType.PTA,
            models.Document.fiscal_year == 2025,
        )
    )
    [whatsapp] = message(client, session, run_jobs, CITIZEN, "pta cotonou", Channel.WHATSAPP)
    assert t("whatsapp_media.document.link", "fr", caption=pta.title, url=pta.url) in whatsapp
    sms = message(client, session, run_jobs, "+2290197445567", "pta cotonou", Channel.SMS)
    assert all(pta.url not in reply for reply in sms)


def test_sms_gets_the_budget_without_a_chart(client, session, communes, run_jobs) -> None:
    [reply] = message(client, session, run_jobs, CITIZEN, "budget cotonou", Channel.SMS)
    assert "/media/charts" not in reply
    [row] = session.scalars(select(models.OutboundMessage)).all()
    assert row.media is None


def test_without_a_public_url_the_text_goes_and_the_chart_is_failed_not_sent(
    app, client, session, communes, run_jobs, twilio
) -> None:
    app.config["PUBLIC_BASE_URL"] = None
    form = {"MessageSid": f"SM{next(_ids):032d}", "AccountSid": ACCOUNT,
            "From": f"whatsapp:{CITIZEN}", "To": f"whatsapp:{OUR_WHATSAPP}",
            "Body": "budget cotonou", "NumMedia": "0"}  # fmt: skip
    # Without PUBLIC_BASE_URL, Twilio signed the URL it called: the one of this request.
    signature = RequestValidator(TOKEN).compute_signature(
        "http://localhost/webhooks/twilio/messages", form
    )
    client.post("/webhooks/twilio/messages", data=form, headers={"X-Twilio-Signature": signature})
    run_jobs()
    [sent] = twilio.requests_to("/Messages.json")
    assert "MediaUrl" not in sent.form
    rows = session.scalars(select(models.OutboundMessage).order_by(models.OutboundMessage.id)).all()
    assert [(r.status, r.error_code) for r in rows] == [
        (MessageStatus.SENT, None),
        (MessageStatus.FAILED, "no_public_url"),
    ]
    # Kept as it was to be sent, for staff to see why: caption in the text, file in media.
    assert "Budget 2025 de Cotonou" in rows[1].text and "/media/" not in rows[1].text
    assert rows[1].media == {"url": chart_path("cotonou", 2025, "fr"), "content_type": "image/png"}


def _meta_message(text: str) -> bytes:
    message = {"from": CITIZEN.lstrip("+"), "id": f"wamid.{next(_ids)}",
               "timestamp": "1763720000", "type": "text", "text": {"body": text}}  # fmt: skip
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22921300400", "phone_number_id": "106540352242922"},
        "messages": [message],
    }
    change = {"value": value, "field": "messages"}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}
    ).encode()


def test_meta_gets_an_image_message_then_a_document_message(
    app, client, session, communes, run_jobs
) -> None:
    url = _real_compte_administratif(session, communes)
    with FakeProvider() as meta:
        meta.answer(
            "/messages", lambda _r: Answer(200, {"messages": [{"id": f"wamid.{next(_ids)}"}]})
        )
        app.config.update(
            WHATSAPP_TOKEN="meta-token",
            WHATSAPP_PHONE_NUMBER_ID="106540352242922",
            WHATSAPP_API_BASE_URL=meta.url,
            PUBLIC_BASE_URL=PUBLIC,
        )
        for text in ("budget cotonou", "compte administratif cotonou 2026"):
            response = client.post(
                "/webhooks/whatsapp", data=_meta_message(text), content_type="application/json"
            )
            assert response.status_code == 200
            run_jobs()
        sent = [r.json for r in meta.requests_to("/messages")]
    assert [m["type"] for m in sent] == ["text", "image", "text", "document"]
    assert sent[1]["image"]["link"] == PUBLIC + chart_path("cotonou", 2025, "fr")
    assert "Budget 2025 de Cotonou" in sent[1]["image"]["caption"]
    assert sent[3]["document"] == {
        "link": url,
        "caption": "Compte administratif 2026",
        "filename": "compte-administratif-2026.pdf",
    }
    rows = session.scalars(select(models.OutboundMessage)).all()
    assert {r.provider for r in rows} == {Provider.META}


def test_a_reply_gives_its_files_with_their_caption_and_a_link_for_the_rest() -> None:
    reply = Reply(
        text="Le budget",
        attachments=(
            Attachment("/media/charts/cotonou/2025/fr.png", "Budget 2025", "image/png"),
            Attachment("https://example.org/pta.pdf", "PTA 2025"),
        ),
    )
    assert render.whatsapp_files(reply, PUBLIC) == [
        Media(PUBLIC + "/media/charts/cotonou/2025/fr.png", "image/png", "Budget 2025")
    ]
    # Without a public URL the app path stays: the sender then fails it, never guesses.
    [bare] = render.whatsapp_files(reply, None)
    assert bare.url == "/media/charts/cotonou/2025/fr.png"
    assert "PTA 2025 : https://example.org/pta.pdf" in render.whatsapp(reply, "fr")


def _queued(session, text: str, media: Media | None = None, provider=Provider.TWILIO):
    contact = session.scalar(select(models.Contact).where(models.Contact.phone_e164 == CITIZEN))
    if contact is None:
        contact = models.Contact(phone_e164=CITIZEN)
        session.add(contact)
        session.flush()
    row = new_message(session, contact, Channel.WHATSAPP, provider, text, media=media)
    session.commit()
    return row


@pytest.mark.parametrize(
    "text",
    [
        "Réunion du conseil samedi.\n📎 https://x/y.png",
        "📎 https://communes.example.org/media/charts/cotonou/2025/fr.png",
        "Affiche jointe\n📎 /media/charts/cotonou/2025/fr.png",
    ],
)
def test_a_text_that_looks_like_a_file_line_is_sent_as_that_text(
    app, session, twilio, text: str
) -> None:
    row = _queued(session, text)
    with app.app_context():
        assert deliver(row.id).startswith("sent: SM")
    [sent] = twilio.requests_to("/Messages.json")
    assert "MediaUrl" not in sent.form and sent.form["Body"] == text
    session.refresh(row)
    assert (row.status, row.media, row.text) == (MessageStatus.SENT, None, text)


def test_meta_sends_a_file_looking_text_as_a_text_message(app, session) -> None:
    text = "Budget voté.\n📎 https://x/y.png"
    with FakeProvider() as meta:
        meta.answer("/messages", Answer(200, {"messages": [{"id": "wamid.plain"}]}))
        app.config.update(
            WHATSAPP_TOKEN="meta-token",
            WHATSAPP_PHONE_NUMBER_ID="106540352242922",
            WHATSAPP_API_BASE_URL=meta.url,
        )
        row = _queued(session, text, provider=Provider.META)
        with app.app_context():
            assert deliver(row.id) == "sent: wamid.plain"
        [sent] = [r.json for r in meta.requests_to("/messages")]
    assert sent["type"] == "text" and sent["text"]["body"] == text


def test_a_file_is_sent_again_whole_when_the_provider_asks_for_a_retry(
    app, session, twilio
) -> None:
    twilio.answer("/Messages.json", Answer(503, {"message": "busy"}), _created)
    chart = Media(PUBLIC + chart_path("cotonou", 2025, "fr"), "image/png")
    row = _queued(session, "Budget 2025 de Cotonou (exemple)", chart)
    with app.app_context():
        assert deliver(row.id).startswith("retry in 15 s")
        # The retry job re-reads the row: its file is there, not in a text to parse.
        assert deliver(row.id).startswith("sent: SM")
    first, second = (r.form for r in twilio.requests_to("/Messages.json"))
    assert first == second
    assert second["MediaUrl"] == chart.url
    assert second["Body"] == "Budget 2025 de Cotonou (exemple)"


def test_a_file_message_whose_job_was_lost_goes_with_its_file(
    app, session, twilio, run_jobs
) -> None:
    chart = Media(PUBLIC + chart_path("cotonou", 2024, "en"), "image/png")
    row = _queued(session, "Cotonou budget 2024 (sample)", chart)
    later = utcnow() + timedelta(seconds=app.config["SWEEP_STALE_SECONDS"] + 1)
    assert sweep(session, now=later).requeued == 1
    run_jobs()
    [sent] = twilio.requests_to("/Messages.json")
    assert (sent.form["MediaUrl"], sent.form["Body"]) == (chart.url, row.text)


def test_a_file_cannot_be_queued_as_an_sms(session) -> None:
    contact = models.Contact(phone_e164=CITIZEN)
    session.add(contact)
    session.flush()
    chart = Media(PUBLIC + chart_path("cotonou", 2025, "fr"), "image/png")
    with pytest.raises(ValueError, match="sms"):
        new_message(session, contact, Channel.SMS, Provider.AFRICASTALKING, "Budget", media=chart)


def test_the_simulator_shows_a_file_as_its_caption_and_link(client, session, run_jobs) -> None:
    chart = Media(chart_path("cotonou", 2025, "fr"), "image/png")
    text_only = _queued(session, "Affiche\n📎 https://x/y.png", provider=Provider.CONSOLE)
    captioned = _queued(session, "Budget 2025", chart, provider=Provider.CONSOLE)
    bare = _queued(session, "", chart, provider=Provider.CONSOLE)
    for row in (text_only, captioned, bare):
        enqueue_send(row.id, "high")
    run_jobs()
    shown = client.get(f"/simulator/api/messages?phone={CITIZEN}").json["messages"]
    assert [m["text"] for m in shown] == [
        "Affiche\n📎 https://x/y.png",
        "Budget 2025\n📎 " + chart.url,
        "📎 " + chart.url,
    ]
