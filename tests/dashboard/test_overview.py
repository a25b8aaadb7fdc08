"""The overview page: subscriber figures, language, headers and escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask import render_template_string
from sqlalchemy import event

from bot.dashboard.views import overview_figures
from bot.i18n import to_local
from bot.models import Broadcast, Contact, Feedback, InboundMessage, OutboundMessage, Subscription
from bot.models.enums import (
    BroadcastStatus,
    Channel,
    FeedbackCategory,
    FeedbackStatus,
    Provider,
    Topic,
)
from bot.models.types import utcnow
from tests.dashboard.conftest import login

EMAIL = "viewer@mairie-cotonou.example"
OVERVIEW_FR = "Vue d&#39;ensemble"  # the apostrophe, escaped by Jinja
XSS = "<script>alert(1)</script>"


def _cell(html: str, slug: str, kind: str, value: str) -> int:
    section = html.split(f'id="commune-{slug}"', 1)[1].split("</section>", 1)[0]
    match = re.search(rf'data-{kind}="{value}">(\d+)<', section)
    assert match, (slug, kind, value)
    return int(match.group(1))


def _subscribe(session, phone, commune, topics, channel, *, active=True, opted_out=False):
    contact = Contact(
        phone_e164=phone,
        commune_id=commune.id,
        opted_out_at=datetime(2025, 1, 1, tzinfo=UTC) if opted_out else None,
    )
    session.add(contact)
    session.flush()
    for topic in topics:
        session.add(
            Subscription(
                contact_id=contact.id,
                commune_id=commune.id,
                topic=topic,
                channel=channel,
                active=active,
            )
        )


@pytest.fixture
def figures(session, communes):
    cotonou, calavi = communes["cotonou"], communes["abomey-calavi"]
    _subscribe(session, "+2290197000001", cotonou, [Topic.BUDGET, Topic.SESSIONS], Channel.SMS)
    _subscribe(session, "+2290197000002", cotonou, [Topic.BUDGET], Channel.WHATSAPP)
    _subscribe(session, "+2290197000003", cotonou, [Topic.BUDGET], Channel.SMS, active=False)
    _subscribe(session, "+2290197000004", cotonou, [Topic.BUDGET], Channel.SMS, opted_out=True)
    for index in range(7):
        _subscribe(session, f"+22901970001{index:02d}", calavi, [Topic.URGENCES], Channel.USSD)
    session.commit()


def test_overview_counts_active_subscribers_by_topic_and_channel(
    client, make_staff, figures
) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Abonnés actifs : 2" in html
    assert _cell(html, "cotonou", "topic", "budget") == 2
    assert _cell(html, "cotonou", "topic", "sessions") == 1
    assert _cell(html, "cotonou", "topic", "urgences") == 0
    # Distinct people: the SMS subscriber to two topics counts once.
    assert _cell(html, "cotonou", "channel", "sms") == 1
    assert _cell(html, "cotonou", "channel", "whatsapp") == 1
    assert _cell(html, "cotonou", "channel", "ussd") == 0
    # A Cotonou viewer never sees Abomey-Calavi's figures.
    assert 'id="commune-abomey-calavi"' not in html
    assert "Abonnés actifs : 7" not in html


def test_national_admin_sees_each_commune_with_its_own_figures(client, make_staff, figures) -> None:
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert _cell(html, "abomey-calavi", "channel", "ussd") == 7
    assert _cell(html, "abomey-calavi", "topic", "budget") == 0
    assert _cell(html, "cotonou", "channel", "ussd") == 0
    assert _cell(html, "akpro-missere", "topic", "urgences") == 0


def test_staff_without_a_role_sees_no_commune(client, make_staff, figures) -> None:
    make_staff("nobody@mairie-cotonou.example")
    login(client, "nobody@mairie-cotonou.example")
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Aucune commune ne vous est encore attribuée" in html
    assert 'id="commune-' not in html


def test_french_by_default_and_lang_en_is_remembered(client, make_staff, communes) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    assert OVERVIEW_FR in client.get("/dashboard/").get_data(as_text=True)
    english = client.get("/dashboard/?lang=en").get_data(as_text=True)
    assert "Overview" in english
    assert 'lang="en"' in english
    assert "Active subscribers by topic" in client.get("/dashboard/").get_data(as_text=True)
    assert OVERVIEW_FR in client.get("/dashboard/?lang=fr").get_data(as_text=True)
    # An unknown language changes nothing.
    assert OVERVIEW_FR in client.get("/dashboard/?lang=xx").get_data(as_text=True)


def test_login_page_in_english_keeps_english_after_login(client, make_staff, communes) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    assert "Staff sign-in" in client.get("/dashboard/login?lang=en").get_data(as_text=True)
    failed = login(client, EMAIL, "not the password at all")
    assert "Wrong email address or password." in failed.get_data(as_text=True)
    login(client, EMAIL)
    assert "Overview" in client.get("/dashboard/").get_data(as_text=True)


def _assert_security_headers(headers) -> None:
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    # Scripts only from our own files: no inline script, no other origin.
    assert "script-src 'self';" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert headers["Cache-Control"] == "no-store"


def test_security_headers_on_login_and_authenticated_pages(app, client, make_staff) -> None:
    _assert_security_headers(app.test_client().get("/dashboard/login").headers)
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    _assert_security_headers(login(client, EMAIL).headers)
    overview = client.get("/dashboard/")
    assert overview.status_code == 200
    _assert_security_headers(overview.headers)


def test_error_pages_carry_the_headers_too(client) -> None:
    response = client.post("/dashboard/logout")
    assert response.status_code == 400
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/html"


def test_names_are_escaped(client, make_staff, communes, session) -> None:
    communes["cotonou"].name = f"Cotonou {XSS}"
    session.commit()
    make_staff(EMAIL, name=f"Agent {XSS}", roles={"cotonou": "viewer"})
    login(client, EMAIL)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert XSS not in html
    assert "Cotonou &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Agent &lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_typed_email_and_next_are_escaped_on_the_login_page(client, make_staff) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    html = client.get('/dashboard/login?next=/dashboard/"><script>alert(1)</script>')
    assert XSS not in html.get_data(as_text=True)
    failed = login(client, 'x"><script>alert(1)</script>@example.org', "wrong password!!")
    assert XSS not in failed.get_data(as_text=True)
    assert "&lt;script&gt;" in failed.get_data(as_text=True)


def _table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]


def _seed_activity(session, communes) -> None:
    cotonou = communes["cotonou"]
    contact = Contact(phone_e164="+2290197000009", commune_id=cotonou.id)
    session.add(contact)
    session.flush()
    now = utcnow()
    for n in range(3):
        session.add(
            InboundMessage(
                provider=Provider.CONSOLE,
                external_id=f"ov-{n}",
                channel=Channel.SMS,
                contact_id=contact.id,
                sender=contact.phone_e164,
                received_at=now,
            )
        )
    session.add(
        OutboundMessage(
            contact_id=contact.id, channel=Channel.SMS, provider=Provider.CONSOLE, text="Bonjour"
        )
    )
    for n, (status, age) in enumerate(
        [
            (FeedbackStatus.RECEIVED, timedelta(hours=1)),
            (FeedbackStatus.IN_PROGRESS, timedelta(days=10)),
            (FeedbackStatus.RESOLVED, timedelta(days=3)),
        ]
    ):
        session.add(
            Feedback(
                ref=f"AV-OV{n}",
                commune_id=cotonou.id,
                channel=Channel.SMS,
                category=FeedbackCategory.VOIRIE,
                text="Route",
                status=status,
                created_at=now - age,
            )
        )
    session.add(
        Broadcast(
            commune_id=cotonou.id,
            topic=Topic.SESSIONS,
            text_by_language={"fr": "Session"},
            channels=["sms"],
            status=BroadcastStatus.DONE,
            started_at=now,
            count_sent=1,
            count_delivered=3,
            count_failed=0,
        )
    )
    session.commit()


def test_overview_shows_messages_feedback_and_delivery_as_charts_and_tables(
    client, make_staff, communes, session
) -> None:
    _seed_activity(session, communes)
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    html = client.get("/dashboard/").get_data(as_text=True)

    today = to_local(utcnow()).date().isoformat()
    messages = _table(html, "messages-cotonou")
    assert messages.count("<tr data-day=") == 30
    row = messages.split(f'data-day="{today}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-direction="in">3<' in row
    assert 'data-direction="out">1<' in row

    assert 'data-status="received">1<' in _table(html, "feedback-status-cotonou")
    assert 'data-status="resolved">1<' in _table(html, "feedback-status-cotonou")
    age = _table(html, "feedback-age-cotonou")
    assert 'data-bucket="lt_2d"' in age
    lt_2d = age.split('data-bucket="lt_2d"', 1)[1].split("</tr>", 1)[0]
    assert "data-total>1<" in lt_2d
    assert 'data-status="in_progress">1<' in age.split('data-bucket="7_30d"', 1)[1]

    delivery = _table(html, "delivery-cotonou")
    assert "data-rate>75 %<" in delivery

    for chart in ("messages", "feedback-status", "feedback-age", "delivery"):
        chart_id = f"chart-cotonou-{chart}"
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart_id}"' in html
        assert f'aria-labelledby="{chart_id}-title"' in html
    assert "<script" not in html
    assert "commune choisie en dernier" in html


@pytest.mark.parametrize(
    ("lang", "topic", "channel", "statuses"),
    [
        ("fr", "Séances du conseil", "WhatsApp", ("Non retenu", "En cours", "Pris en compte")),
        ("en", "Council sessions", "Voice call", ("Not accepted", "In progress", "Acknowledged")),
    ],
)
def test_overview_names_topics_channels_and_statuses_as_the_other_pages_do(
    client, make_staff, session, communes, lang, topic, channel, statuses
) -> None:
    _seed_activity(session, communes)
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    html = client.get(f"/dashboard/?lang={lang}").get_data(as_text=True)
    section = html.split('id="commune-cotonou"', 1)[1].split("</section>", 1)[0]
    assert f'<th scope="row">{topic}</th>' in section
    assert f'<th scope="row">{channel}</th>' in section
    assert not re.search(r'<th scope="row">(sessions|reddition|all|ussd|whatsapp)</th>', section)
    for status in statuses:
        assert f'<th scope="row">{status}</th>' in _table(html, "feedback-status-cotonou")
        assert f'data-label="{status}"' in section  # the chart says the same word
    delivery = _table(html, "delivery-cotonou")
    assert f"<td>{topic}</td>" in delivery
    # No axis label of the status chart is cut short.
    chart = section.split('id="chart-cotonou-feedback-status"', 1)[1].split("</svg>", 1)[0]
    assert "…" not in chart


def test_overview_without_broadcasts_says_so(client, make_staff, communes) -> None:
    make_staff(EMAIL, roles={"cotonou": "viewer"})
    login(client, EMAIL)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert "Aucune diffusion lancée pour l&#39;instant." in html
    assert 'id="chart-cotonou-messages"' in html


def test_overview_asks_the_same_number_of_queries_for_one_commune_or_three(
    session, communes
) -> None:
    def queries(chosen) -> int:
        statements = []

        def remember(*args) -> None:
            statements.append(args[2])

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", remember)
        try:
            overview_figures(session, chosen)
        finally:
            event.remove(engine, "before_cursor_execute", remember)
        return len(statements)

    assert queries([communes["cotonou"]]) == queries(list(communes.values())) == 8


def test_a_page_can_add_to_the_head_of_the_layout(app) -> None:
    page = '{% extends "dashboard/base.html" %}{% block head %}<meta name="probe">{% endblock %}'
    with app.test_request_context("/dashboard/"):
        html = render_template_string(page)
    head = html.split("<head>", 1)[1].split("</head>", 1)[0]
    assert '<meta name="probe">' in head
