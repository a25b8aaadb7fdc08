"""Broadcast pages: compose with a priced preview that stores nothing, send, follow, steer."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.broadcasts.compose import message_text
from bot.gsm import segment_info
from bot.i18n import LOCAL_TIMEZONE
from bot.models import AuditLog, Broadcast, Contact, OutboundMessage, Subscription
from bot.models.enums import BroadcastStatus, Channel, MessageStatus, Topic
from bot.models.types import utcnow
from bot.redis import QUEUE_NAMES, get_queue
from tests.dashboard.conftest import csrf_from, login

TEXT = "Séance du conseil : œuvre commune, ticket 5€ 🏛️ demain à la mairie."
_numbers = itertools.count(1)


@pytest.fixture
def quiet_off(app) -> None:
    app.config["QUIET_HOURS"] = "00:00-00:00"


@pytest.fixture
def subscribe(session, communes):
    def make(
        commune: str = "cotonou",
        topic=Topic.BUDGET,
        channel=Channel.SMS,
        language: str | None = None,
        whatsapp_last_inbound_at: datetime | None = None,
    ) -> Contact:
        contact = Contact(
            phone_e164=f"+22901972{next(_numbers):05d}",
            language=language,
            whatsapp_last_inbound_at=whatsapp_last_inbound_at,
        )
        session.add(contact)
        session.flush()
        session.add(
            Subscription(
                contact_id=contact.id, commune_id=communes[commune].id, topic=topic, channel=channel
            )
        )
        session.commit()
        return contact

    return make


@pytest.fixture
def editor(client, make_staff):
    make_staff("editor@cotonou.example", roles={"cotonou": "editor"})
    login(client, "editor@cotonou.example")
    return client


def _token(client) -> str:
    return csrf_from(client.get("/dashboard/cotonou/broadcasts/new").get_data(as_text=True))


def _fields(**overrides) -> dict:
    return {
        "topic": "budget",
        "text_fr": TEXT,
        "text_en": "",
        "channels": ["sms", "whatsapp"],
        "whatsapp_template": "",
        "template_variables": "",
        "scheduled_at": "",
        **overrides,
    }


def _compose(client, action: str = "preview", **overrides):
    data = {"csrf_token": _token(client), "action": action, **_fields(**overrides)}
    return client.post("/dashboard/cotonou/broadcasts/new", data=data)


def _stored(session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Broadcast)),
        session.scalar(select(func.count()).select_from(OutboundMessage)),
        session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.entity == "broadcast")
        ),
    )


def _line(html: str, line_id: str) -> str:
    return html.split(f'id="preview-{line_id}"', 1)[1].split("</section>", 1)[0]


def test_preview_highlights_what_sms_cannot_carry_and_counts_segments(
    app, editor, session, subscribe, quiet_off
) -> None:
    subscribe(), subscribe(), subscribe(language="en")
    subscribe(channel=Channel.WHATSAPP)
    subscribe("abomey-calavi")
    response = _compose(editor, text_en="Council <b>session</b> tomorrow")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    sms_fr = _line(html, "sms-fr")
    # é and € are GSM-7; œ and the emoji are not: only they are marked.
    assert "<mark>œ</mark>" in sms_fr and "<mark>🏛️</mark>" in sms_fr
    assert "<mark>é" not in sms_fr and "<mark>€" not in sms_fr
    with app.test_request_context():
        sent = message_text(TEXT, "fr", Channel.SMS)
    assert "oeuvre commune, ticket 5€ demain" in sent
    assert f'<pre class="preview-text">{sent.replace(chr(39), "&#39;")}</pre>' in sms_fr
    assert segment_info(sent).segments == 1
    assert 'data-segments="1"' in sms_fr and 'data-recipients="2"' in sms_fr
    assert "UCS-2, 2 segment(s)" in sms_fr
    assert "remplacés ou supprimés" in sms_fr  # the emoji is dropped, not replaced
    assert "40 F CFA" in sms_fr  # 2 recipients × 1 segment × 20 F CFA
    sms_en = _line(html, "sms-en")
    assert 'data-recipients="1"' in sms_en and "<mark>" not in sms_en
    assert "Council &lt;b&gt;session&lt;/b&gt; tomorrow" in sms_en
    whatsapp = _line(html, "whatsapp-fr")
    assert 'data-recipients="1"' in whatsapp
    assert "sans modèle approuvé" in whatsapp  # outside the 24 h window, no template
    assert "4 destinataire(s), coût estimé 65 F CFA" in html  # 3 SMS × 20 + 1 WhatsApp × 5
    assert _stored(session) == (0, 0, 0)


def test_preview_json_answers_the_script_and_stores_nothing(
    app, editor, session, subscribe, quiet_off
) -> None:
    subscribe()
    token = _token(editor)
    response = editor.post(
        "/dashboard/cotonou/broadcasts/preview",
        data=_fields(channels=["sms"]),
        headers={"X-CSRF-Token": token},
    )
    assert response.status_code == 200
    data = response.get_json()
    [line] = data["lines"]
    assert line["id"] == "sms-fr" and line["segments"] == 1 and line["recipients"] == 1
    assert ["œ", True] in line["pieces"] and line["replaced"] == ["œ", "🏛", "\ufe0f"]
    assert data["recipients"] == 1 and data["cost_xof"] == 20 and data["held"] is None
    invalid = editor.post(
        "/dashboard/cotonou/broadcasts/preview",
        data=_fields(text_fr="", channels=[]),
        headers={"X-CSRF-Token": token},
    )
    assert invalid.status_code == 422
    assert set(invalid.get_json()["errors"]) == {"text_fr", "channels"}
    no_token = editor.post("/dashboard/cotonou/broadcasts/preview", data=_fields())
    assert no_token.status_code == 400
    assert _stored(session) == (0, 0, 0)
    with app.app_context():
        assert all(get_queue(name).count == 0 for name in QUEUE_NAMES)


def test_preview_shows_the_quiet_hours_hold(app, editor, session, subscribe) -> None:
    app.config["QUIET_HOURS"] = "00:00-23:59"
    subscribe()
    html = _compose(editor, channels=["sms"]).get_data(as_text=True)
    assert "Heures calmes : l&#39;envoi attendra le" in html
    urgent = _compose(editor, channels=["sms"], urgent="on").get_data(as_text=True)
    assert "Heures calmes" not in urgent
    assert _stored(session) == (0, 0, 0)


def test_send_stores_starts_and_delivers_then_the_page_shows_counters(
    editor, session, subscribe, run_jobs, quiet_off
) -> None:
    readers = [subscribe(), subscribe(), subscribe(topic=Topic.ALL)]
    subscribe(topic=Topic.SESSIONS)  # another topic: not a recipient
    response = _compose(editor, "send", channels=["sms"])
    assert response.status_code == 303
    assert "?done=sent" in response.headers["Location"]
    broadcast = session.scalar(select(Broadcast))
    assert broadcast.status is BroadcastStatus.SCHEDULED
    assert broadcast.text_by_language == {"fr": TEXT}
    assert broadcast.created_by_id is not None
    audit = session.scalar(select(AuditLog).where(AuditLog.entity == "broadcast"))
    assert audit.action == "send" and audit.entity_id == str(broadcast.id)
    assert audit.after["channels"] == ["sms"]

    run_jobs()
    session.expire_all()
    messages = session.scalars(
        select(OutboundMessage).where(OutboundMessage.broadcast_id == broadcast.id)
    ).all()
    assert sorted(m.contact_id for m in messages) == sorted(c.id for c in readers)
    assert {m.status for m in messages} == {MessageStatus.DELIVERED}
    assert all("oeuvre" in m.text for m in messages)

    page = editor.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert 'id="done"' in html and 'data-status="done"' in html
    assert 'data-counter="delivered">3<' in html and 'data-counter="queued">0<' in html
    assert "width: 100%" in html and 'id="delivery-rate">100 %<' in html
    assert "Refresh" not in page.headers
    listing = editor.get("/dashboard/cotonou/broadcasts").get_data(as_text=True)
    assert f'data-broadcast="{broadcast.id}" data-status="done"' in listing


def test_a_running_broadcast_page_refreshes_itself(editor, session, subscribe) -> None:
    _compose(editor, "send", channels=["sms"])
    broadcast = session.scalar(select(Broadcast))
    broadcast.status = BroadcastStatus.SENDING
    session.commit()
    page = editor.get(f"/dashboard/cotonou/broadcasts/{broadcast.id}?done=sent")
    assert 'id="done"' in page.get_data(as_text=True)
    # The reload drops `done`: the confirmation is said once, not every 5 seconds.
    assert page.headers["Refresh"] == f"5; url=/dashboard/cotonou/broadcasts/{broadcast.id}"


def test_counters_tell_handed_over_from_delivered_and_danger_is_marked(
    editor, session, subscribe
) -> None:
    _compose(editor, "send", channels=["sms"])
    broadcast = session.scalar(select(Broadcast))
    html = editor.get(f"/dashboard/cotonou/broadcasts/{broadcast.id}").get_data(as_text=True)
    assert "Transmis à l&#39;opérateur, en attente d&#39;accusé" in html
    assert "Remis (accusé reçu)" in html and ">Envoyés<" not in html
    assert 'id="cancel-button" class="danger"' in html
    assert 'id="pause-button">' in html


def test_pause_resume_cancel_are_audited_and_state_errors_are_polite(
    editor, session, subscribe, quiet_off
) -> None:
    later = (utcnow() + timedelta(days=2)).astimezone(UTC)
    local = later.astimezone(LOCAL_TIMEZONE)
    response = _compose(editor, "send", scheduled_at=local.strftime("%Y-%m-%dT%H:%M"))
    assert response.status_code == 303
    broadcast = session.scalar(select(Broadcast))
    path = f"/dashboard/cotonou/broadcasts/{broadcast.id}"
    assert broadcast.scheduled_at == later.replace(second=0, microsecond=0)
    token = _token(editor)
    for action, status in (
        ("pause", BroadcastStatus.PAUSED),
        ("resume", BroadcastStatus.SCHEDULED),
        ("cancel", BroadcastStatus.CANCELLED),
    ):
        done = editor.post(f"{path}/{action}", data={"csrf_token": token})
        assert done.status_code == 303 and done.headers["Location"].endswith(f"?done={action}")
        session.expire_all()
        assert session.get(Broadcast, broadcast.id).status is status
    again = editor.post(f"{path}/cancel", data={"csrf_token": token})
    assert again.status_code == 409
    assert "Impossible : la diffusion est « Annulée »" in again.get_data(as_text=True)
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.entity == "broadcast").order_by(AuditLog.id)
    ).all()
    assert actions == ["send", "pause", "resume", "cancel"]
    last = session.scalar(select(AuditLog).order_by(AuditLog.id.desc()))
    assert last.before == {"status": "scheduled"} and last.after["status"] == "cancelled"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"text_fr": "   "}, "text_fr"),
        ({"text_fr": "x" * 1001}, "text_fr"),
        ({"text_en": "y" * 1001}, "text_en"),
        ({"channels": []}, "channels"),
        ({"channels": ["sms", "fax"]}, "channels"),
        ({"topic": "sport"}, "topic"),
        ({"scheduled_at": "2020-01-01T10:00"}, "scheduled_at"),
        ({"scheduled_at": "demain"}, "scheduled_at"),
        ({"whatsapp_template": "<script>"}, "whatsapp_template"),
        ({"whatsapp_template": "hx123", "channels": ["sms"]}, "whatsapp_template"),
        ({"template_variables": "1=a"}, "template_variables"),
        ({"whatsapp_template": "hx1", "template_variables": "no equals"}, "template_variables"),
    ],
)
def test_bad_input_is_422_with_a_message_and_stores_nothing(
    editor, session, overrides, field, communes
) -> None:
    for action in ("preview", "send"):
        response = _compose(editor, action, **overrides)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, (action, field)
        assert f'id="error-{field}"' in html
    assert _stored(session) == (0, 0, 0)


def test_text_with_script_comes_out_escaped_on_every_page(
    editor, session, subscribe, quiet_off
) -> None:
    evil = "<script>alert('x')</script> réunion"
    preview = _compose(editor, text_fr=evil, channels=["sms"]).get_data(as_text=True)
    assert "<script>alert" not in preview and "&lt;script&gt;" in preview
    _compose(editor, "send", text_fr=evil, channels=["sms"])
    broadcast = session.scalar(select(Broadcast))
    page = editor.get(f"/dashboard/cotonou/broadcasts/{broadcast.id}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert re.search(r'<script src="/dashboard/static/compose.js"', preview)
