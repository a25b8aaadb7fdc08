"""Who may open and change the event and broadcast pages, commune by commune."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.broadcasts import compose
from bot.models import AuditLog, Broadcast, Event
from bot.models.enums import Channel, Topic
from tests.dashboard.conftest import csrf_from, login

READ_PAGES = ("/events", "/events/{event}", "/broadcasts", "/broadcasts/{broadcast}")
WRITE_PAGES = (
    "/events/new",
    "/events/{event}/edit",
    "/events/{event}/publish",
    "/events/{event}/move",
    "/events/{event}/cancel",
    "/events/{event}/held",
    "/broadcasts/new",
)
WRITES = (
    "/events/new",
    "/events/{event}/edit",
    "/events/{event}/publish",
    "/events/{event}/move",
    "/events/{event}/cancel",
    "/events/{event}/held",
    "/broadcasts/new",
    "/broadcasts/preview",
    "/broadcasts/{broadcast}/pause",
    "/broadcasts/{broadcast}/resume",
    "/broadcasts/{broadcast}/cancel",
)
WITH_IDS = tuple(path for path in (*READ_PAGES, *WRITE_PAGES, *WRITES) if "{" in path)
FORM = {
    "type": "session_ordinaire",
    "title": "Session",
    "starts_at": "2030-03-12T10:00",
    "text_fr": "Bonjour",
    "channels": "sms",
    "topic": "budget",
    "action": "send",
    "confirm": "yes",
}


@pytest.fixture
def ids(session, communes) -> dict[str, dict[str, int]]:
    """A sample event and a broadcast of each commune, by commune slug."""
    found = {}
    for slug, commune in communes.items():
        event_id = session.scalar(
            select(Event.id).where(Event.commune_id == commune.id).order_by(Event.id).limit(1)
        )
        broadcast = compose.create(
            session,
            commune_slug=slug,
            topic=Topic.BUDGET,
            texts={"fr": "Bonjour"},
            channels=[Channel.SMS],
        )
        found[slug] = {"event": event_id, "broadcast": broadcast.id}
    session.commit()
    return found


def _url(path: str, slug: str, ids: dict[str, dict[str, int]], of: str | None = None) -> str:
    return f"/dashboard/{slug}" + path.format(**ids[of or slug])


def _changes(session) -> tuple[int, int, int]:
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(Event)),
        session.scalar(select(func.count()).select_from(Broadcast)),
        session.scalar(
            select(func.count()).select_from(AuditLog).where(AuditLog.entity != "staff_user")
        ),
    )


def test_a_viewer_reads_but_cannot_write(client, make_staff, session, ids) -> None:
    make_staff("viewer@cotonou.example", roles={"cotonou": "viewer"})
    login(client, "viewer@cotonou.example")
    for path in READ_PAGES:
        response = client.get(_url(path, "cotonou", ids))
        assert response.status_code == 200, path
    menu = client.get(_url("/events", "cotonou", ids)).get_data(as_text=True)
    assert "/dashboard/cotonou/events" in menu and "/dashboard/cotonou/broadcasts" in menu
    assert 'id="new-event-link"' not in menu
    for path in WRITE_PAGES:
        assert client.get(_url(path, "cotonou", ids)).status_code == 403, path
    token = csrf_from(client.get(_url("/events", "cotonou", ids)).get_data(as_text=True))
    before = _changes(session)
    for path in WRITES:
        response = client.post(_url(path, "cotonou", ids), data={**FORM, "csrf_token": token})
        assert response.status_code == 403, path
    assert _changes(session) == before


def test_staff_of_another_commune_is_refused(client, make_staff, session, ids) -> None:
    make_staff("editor@calavi.example", roles={"abomey-calavi": "editor"})
    login(client, "editor@calavi.example")
    for path in (*READ_PAGES, *WRITE_PAGES):
        assert client.get(_url(path, "cotonou", ids)).status_code == 403, path
    token = csrf_from(client.get(_url("/events", "abomey-calavi", ids)).get_data(as_text=True))
    before = _changes(session)
    for path in WRITES:
        response = client.post(_url(path, "cotonou", ids), data={**FORM, "csrf_token": token})
        assert response.status_code == 403, path
    assert _changes(session) == before


def test_an_id_of_another_commune_is_not_found(client, make_staff, session, ids) -> None:
    make_staff("editor@cotonou.example", roles={"cotonou": "editor"})
    login(client, "editor@cotonou.example")
    token = csrf_from(client.get(_url("/events", "cotonou", ids)).get_data(as_text=True))
    before = _changes(session)
    for path in WITH_IDS:
        url = _url(path, "cotonou", ids, of="abomey-calavi")
        assert client.get(url).status_code in (404, 405), path
        response = client.post(url, data={**FORM, "csrf_token": token})
        assert response.status_code in (404, 405), path
    assert _changes(session) == before
    for path in ("/events/{event}/dance", "/broadcasts/{broadcast}/explode", "/events/999999"):
        assert client.get(_url(path, "cotonou", ids)).status_code in (404, 405), path
        response = client.post(_url(path, "cotonou", ids), data={"csrf_token": token})
        assert response.status_code in (404, 405), path


def test_anonymous_is_sent_to_login(client, ids) -> None:
    for path in (*READ_PAGES, *WRITE_PAGES):
        response = client.get(_url(path, "cotonou", ids))
        assert response.status_code == 302, path
        assert "/dashboard/login" in response.headers["Location"]


def test_unknown_commune_is_not_found(client, make_staff, ids) -> None:
    make_staff("national@gouv.example", national_admin=True)
    login(client, "national@gouv.example")
    assert client.get("/dashboard/nowhere/events").status_code == 404
    assert client.get("/dashboard/nowhere/broadcasts/new").status_code == 404


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_every_page_renders_in_both_languages(client, make_staff, ids, lang) -> None:
    make_staff("editor@cotonou.example", roles={"cotonou": "editor"})
    login(client, "editor@cotonou.example")
    for path in (*READ_PAGES, *WRITE_PAGES):
        response = client.get(_url(path, "cotonou", ids) + f"?lang={lang}")
        assert response.status_code == 200, path
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)
