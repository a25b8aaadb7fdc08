"""HTML and SQL in what citizens type: stored as typed, shown escaped, tables untouched.

Each payload is filed as a feedback ticket through the real SMS webhook and
dialog, then read back in the database, the feedback inbox and ticket pages,
and the API.
"""

from __future__ import annotations

import pytest
from markupsafe import escape
from sqlalchemy import func, inspect, select

from bot.models import Feedback, InboundMessage
from bot.staff import create_token
from tests.api.conftest import bearer
from tests.dashboard.conftest import login
from tests.participation.dialog import sms

PAYLOADS = {
    "+2290197000101": "<script>alert(1)</script> les ordures",
    "+2290197000102": '"><img src=x onerror=alert(1)> caniveau bouche',
    "+2290197000103": "'; DROP TABLE feedback; -- route coupee",
}
QUARTIER = "Zogbo'); DELETE FROM contacts; --"
AGENT = "agent@mairie-cotonou.example"
ANSWERS = [  # what the dialog may ask, and the answer a citizen gives
    ("commune", "1"),
    ("De quoi", "1"),
    ("arrondissement", "3e"),
    ("quartier", QUARTIER),
    ("numero", "1"),
]


def _file(client, session, run_jobs, phone: str, payload: str) -> Feedback:
    [reply] = sms(client, session, run_jobs, phone, f"AVIS {payload}")
    for _ in range(len(ANSWERS)):
        ticket = session.scalar(select(Feedback).where(Feedback.text == payload))
        if ticket is not None:
            return ticket
        answer = next(a for asked, a in ANSWERS if asked.lower() in reply.lower())
        [reply] = sms(client, session, run_jobs, phone, answer)
    ticket = session.scalar(select(Feedback).where(Feedback.text == payload))
    assert ticket is not None, reply
    return ticket


@pytest.fixture
def filed(client, session, run_jobs, communes) -> dict[str, Feedback]:
    return {
        payload: _file(client, session, run_jobs, phone, payload)
        for phone, payload in PAYLOADS.items()
    }


def test_payloads_are_stored_verbatim_and_tables_intact(filed, session) -> None:
    session.expire_all()
    for payload, ticket in filed.items():
        session.refresh(ticket)
        assert ticket.text == payload
    assert session.scalar(select(func.count()).select_from(Feedback)) == len(PAYLOADS)
    assert session.scalar(select(func.count()).select_from(InboundMessage)) >= len(PAYLOADS)
    tables = set(inspect(session.get_bind()).get_table_names())
    assert {"feedback", "contacts", "inbound_messages"} <= tables
    stored = set(session.scalars(select(InboundMessage.text)))
    assert {f"AVIS {payload}" for payload in PAYLOADS.values()} <= stored
    assert QUARTIER in stored


def test_payloads_are_shown_escaped_in_the_dashboard(filed, client, make_staff) -> None:
    make_staff(AGENT, roles={"cotonou": "agent"})
    login(client, AGENT)
    inbox = client.get("/dashboard/cotonou/feedback")
    assert inbox.status_code == 200
    assert "script-src 'self'" in inbox.headers["Content-Security-Policy"]
    pages = [inbox.get_data(as_text=True)]
    for ticket in filed.values():
        page = client.get(f"/dashboard/cotonou/feedback/{ticket.ref}")
        assert page.status_code == 200
        pages.append(page.get_data(as_text=True))
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "onerror=alert(1)>" not in page
    ticket_pages = dict(zip(filed, pages[1:], strict=True))
    for payload, page in ticket_pages.items():
        assert str(escape(payload)) in page  # shown, as text
    assert str(escape(QUARTIER)) in "".join(pages[1:])


def test_payloads_come_back_verbatim_as_json_from_the_api(filed, client, session, make_staff):
    make_staff("api@national.example", national_admin=True)
    _, token = create_token(session, email="api@national.example", name="api", actor="test")
    session.commit()
    response = client.get("/api/v1/communes/cotonou/feedback", headers=bearer(token))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    texts = {item["text"] for item in response.get_json()}
    assert set(PAYLOADS.values()) <= texts
