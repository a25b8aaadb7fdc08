"""The overview page: subscriber figures, language, headers and escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from bot.models import Contact, Subscription
from bot.models.enums import Channel, Topic
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
