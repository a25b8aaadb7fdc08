"""A commune's subscribers page: counts, a paged list, and never a full phone number."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from bot.models import Contact, Subscription
from bot.models.enums import Channel, Topic
from bot.phone import mask
from tests.dashboard.conftest import login

VIEWER = "viewer@mairie-cotonou.example"
URL = "/dashboard/cotonou/subscribers"
XSS = "<script>alert(1)</script>"


def _subscribe(session, phone, commune, topics, channel, *, language=None, opted_out=False):
    contact = Contact(
        phone_e164=phone,
        language=language,
        commune_id=commune.id,
        opted_out_at=datetime(2026, 1, 1, tzinfo=UTC) if opted_out else None,
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
                active=not opted_out,
            )
        )
    return contact


@pytest.fixture
def people(session, communes):
    cotonou, calavi = communes["cotonou"], communes["abomey-calavi"]
    _subscribe(session, "+2290197000001", cotonou, [Topic.BUDGET, Topic.SESSIONS], Channel.SMS)
    _subscribe(session, "+2290197000002", cotonou, [Topic.BUDGET], Channel.WHATSAPP, language="en")
    _subscribe(session, "+2290197000003", cotonou, [Topic.URGENCES], Channel.USSD, language="fr")
    _subscribe(session, "+2290197000004", cotonou, [Topic.BUDGET], Channel.SMS, opted_out=True)
    _subscribe(session, "+2290197000005", calavi, [Topic.ALL], Channel.SMS)
    session.commit()


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr data-subscription>(.*?)</tr>", html, re.S)


def test_viewer_sees_counts_by_topic_channel_language_and_opt_outs(
    client, make_staff, people
) -> None:
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Abonnés actifs : 3" in html
    assert "Désinscrits (STOP) : 1" in html
    assert 'data-topic="budget">2<' in html
    assert 'data-topic="sessions">1<' in html
    assert 'data-topic="all">0<' in html
    assert 'data-channel="sms">1<' in html
    assert 'data-channel="whatsapp">1<' in html
    assert 'data-language="en">1<' in html
    assert 'data-language="fr">1<' in html
    assert 'data-language="">1<' in html
    # Active subscriptions only, and only Cotonou's.
    assert len(_rows(html)) == 4
    # Names a clerk reads, the same as on the other pages, not the stored keys.
    assert '<th scope="row">Séances du conseil</th>' in html
    assert '<th scope="row">Appel vocal</th>' in html
    assert "<td>Séances du conseil</td>" in html and "<td>sessions</td>" not in html


def test_the_list_shows_masked_numbers_and_never_a_full_one(client, make_staff, people) -> None:
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    html = client.get(URL).get_data(as_text=True)
    assert mask("+2290197000001") in html
    for n in range(1, 6):
        full = f"+22901970000{n:02d}"
        assert full not in html
        assert full[4:] not in html  # nor the national form
        assert full[6:] not in html  # nor the legacy 8 digits
    assert "csv" not in html.lower()
    # No way out for the numbers: no export link, no download.
    assert not re.search(r'href="[^"]*(export|csv|download)', html, re.I)
    assert "download" not in html


def test_the_list_is_paged_by_fifty_newest_first(client, make_staff, session, communes) -> None:
    cotonou = communes["cotonou"]
    session.execute(insert(Contact), [{"phone_e164": f"+22901971{n:05d}"} for n in range(120)])
    ids = session.scalars(select(Contact.id).order_by(Contact.id)).all()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    session.execute(
        insert(Subscription),
        [
            {
                "contact_id": contact_id,
                "commune_id": cotonou.id,
                "topic": Topic.BUDGET,
                "channel": Channel.SMS,
                "active": True,
                "created_at": start + timedelta(days=n),
                "updated_at": start,
            }
            for n, contact_id in enumerate(ids)
        ],
    )
    session.commit()
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)

    first = client.get(URL).get_data(as_text=True)
    assert len(_rows(first)) == 50
    assert "Page 1 sur 3" in first
    assert mask("+2290197100119") in _rows(first)[0]
    assert 'rel="next" href="/dashboard/cotonou/subscribers?page=2"' in first
    assert 'rel="prev"' not in first

    last = client.get(URL + "?page=3").get_data(as_text=True)
    assert len(_rows(last)) == 20
    assert mask("+2290197100000") in _rows(last)[-1]
    assert 'rel="next"' not in last

    # Past the end: the last page; nonsense: the first one. Never an error.
    assert "Page 3 sur 3" in client.get(URL + "?page=999").get_data(as_text=True)
    for bad in ("abc", "-1", "0", "1e9", "9" * 40, "\x00", "²", "٣", "<script>"):
        response = client.get(URL, query_string={"page": bad})
        assert response.status_code == 200, bad
        assert "Page 1 sur 3" in response.get_data(as_text=True)


def test_the_menu_offers_the_page(client, make_staff, communes) -> None:
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    html = client.get("/dashboard/").get_data(as_text=True)
    assert f'href="{URL}"' in html
    assert ">Abonnés</a>" in html
    assert ">Subscribers</a>" in client.get("/dashboard/?lang=en").get_data(as_text=True)


def test_no_subscriber_yet(client, make_staff, communes) -> None:
    make_staff(VIEWER, roles={"akpro-missere": "viewer"})
    login(client, VIEWER)
    html = client.get("/dashboard/akpro-missere/subscribers").get_data(as_text=True)
    assert "Aucun abonné pour l&#39;instant." in html
    assert "Page 1 sur 1" in html


def test_staff_of_another_commune_gets_403(client, make_staff, people) -> None:
    make_staff("clerk@mairie-calavi.example", roles={"abomey-calavi": "admin"})
    login(client, "clerk@mairie-calavi.example")
    assert client.get(URL).status_code == 403
    assert client.get("/dashboard/abomey-calavi/subscribers").status_code == 200


def test_anonymous_is_sent_to_login_and_unknown_commune_is_404(client, make_staff, people) -> None:
    response = client.get(URL)
    assert response.status_code == 302
    assert "/dashboard/login" in response.headers["Location"]
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    assert client.get("/dashboard/nowhere/subscribers").status_code == 404
    assert client.get(URL).status_code == 200


def test_commune_name_is_escaped(client, make_staff, communes, session) -> None:
    communes["cotonou"].name = f"Cotonou {XSS}"
    session.commit()
    make_staff(VIEWER, roles={"cotonou": "viewer"})
    login(client, VIEWER)
    html = client.get(URL).get_data(as_text=True)
    assert XSS not in html
    assert "Cotonou &lt;script&gt;" in html
