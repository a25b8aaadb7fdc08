"""Event pages: schedule a session, publish it with its alerts, move, cancel, mark held."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.content.cache import VERSION_KEY
from bot.models import AuditLog, Broadcast, Contact, Event, OutboundMessage, Subscription
from bot.models.enums import BroadcastKind, BroadcastStatus, Channel, EventStatus, Topic
from bot.redis import get_redis
from tests.dashboard.conftest import csrf_from, login

START_LOCAL = "2030-03-12T10:00"  # mardi 12 mars 2030, 10h00 in Porto-Novo
START = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)
MOVED_LOCAL = "2030-03-14T10:30"
MOVED = datetime(2030, 3, 14, 9, 30, tzinfo=UTC)
_numbers = itertools.count(1)


@pytest.fixture
def quiet_off(app) -> None:
    app.config["QUIET_HOURS"] = "00:00-00:00"


@pytest.fixture
def subscribe(session, communes):
    def make(commune: str = "cotonou", topic=Topic.REDDITION, channel=Channel.SMS) -> Contact:
        contact = Contact(phone_e164=f"+22901971{next(_numbers):05d}")
        session.add(contact)
        session.flush()
        session.add(
            Subscription(
                contact_id=contact.id,
                commune_id=communes[commune].id,
                topic=topic,
                channel=channel,
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


def _form(**fields: str) -> dict[str, str]:
    return {
        "type": "reddition_de_comptes",
        "title": "Reddition de comptes 2029",
        "starts_at": START_LOCAL,
        "ends_at": "2030-03-12T13:00",
        "place": "Salle des fêtes",
        "follow_live": "Radio Tokpa 98.5",
        "agenda": "Budget 2029\n\n  Chantiers du PTA  \n",
        "accepts_questions": "on",
        **fields,
    }


def _post(client, path: str, data: dict[str, str]):
    token = csrf_from(client.get("/dashboard/cotonou/events").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def _create(client, session, **fields: str) -> Event:
    response = _post(client, "/dashboard/cotonou/events/new", _form(**fields))
    assert response.status_code == 303, response.get_data(as_text=True)
    event_id = int(re.search(r"/events/(\d+)", response.headers["Location"]).group(1))
    session.expire_all()
    return session.get(Event, event_id)


def _act(client, event: Event, action: str, **values: str):
    """Both steps of an action: look at what it does, then confirm."""
    path = f"/dashboard/cotonou/events/{event.id}/{action}"
    review = _post(client, path, values)
    assert review.status_code == 200, review.get_data(as_text=True)
    assert 'id="confirm-button"' in review.get_data(as_text=True)
    done = _post(client, path, {**values, "confirm": "yes"})
    assert done.status_code == 303, done.get_data(as_text=True)
    assert done.headers["Location"].endswith(f"/events/{event.id}?done={action}")
    return review.get_data(as_text=True)


def _alert_rows(html: str, table: str = "alerts") -> list[tuple[str, str]]:
    """(kind, shown time) of each row of an alerts table."""
    body = html.split(f'<table id="{table}">', 1)[1].split("</table>", 1)[0]
    return re.findall(r'data-kind="(\w+)".*?<td class="when">([^<(]+)', body, re.S)


def _audits(session, action: str) -> list[AuditLog]:
    return list(
        session.scalars(
            select(AuditLog).where(AuditLog.entity == "event", AuditLog.action == action)
        )
    )


def test_schedule_then_publish_lists_the_alerts_with_their_local_times(
    app, editor, session, subscribe, quiet_off
) -> None:
    subscribe(), subscribe(), subscribe(channel=Channel.WHATSAPP), subscribe("abomey-calavi")
    version = int(get_redis(app).get(VERSION_KEY) or 0)
    assert editor.get("/dashboard/cotonou/events/new").status_code == 200
    event = _create(editor, session)
    assert event.status is EventStatus.DRAFT and event.published_at is None
    assert event.starts_at == START and event.agenda == "Budget 2029\nChantiers du PTA"
    assert event.accepts_questions is True and event.is_sample is False
    assert int(get_redis(app).get(VERSION_KEY)) == version + 1
    [created] = _audits(session, "create")
    assert created.after["title"] == "Reddition de comptes 2029" and created.commune_id

    page = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    assert 'id="alerts-note"' in page  # the plan, computed before anything is stored
    assert _alert_rows(page) == [
        ("announcement", "Dès la publication"),
        ("reminder", "lundi 11 mars 2030 à 10h00"),
        ("start", "mardi 12 mars 2030 à 10h00"),
    ]
    assert page.count('data-channel="sms">2<') == 3
    assert page.count('data-channel="whatsapp">1<') == 3
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0

    review = _act(editor, event, "publish")
    assert _alert_rows(review, "planned-alerts")[0] == ("announcement", "Dès la publication")
    assert _alert_rows(review, "planned-alerts")[1:] == [
        ("reminder", "lundi 11 mars 2030 à 10h00"),
        ("start", "mardi 12 mars 2030 à 10h00"),
    ]
    session.expire_all()
    alerts = list(session.scalars(select(Broadcast).order_by(Broadcast.scheduled_at)))
    assert [a.kind for a in alerts] == [
        BroadcastKind.ANNOUNCEMENT,
        BroadcastKind.REMINDER,
        BroadcastKind.START,
    ]
    assert [a.scheduled_at for a in alerts[1:]] == [START - timedelta(days=1), START]
    assert session.get(Event, event.id).status is EventStatus.SCHEDULED
    [published] = _audits(session, "publish")
    assert published.after["alerts"] == [a.id for a in alerts]
    assert published.before["published_at"] is None

    page = editor.get(f"/dashboard/cotonou/events/{event.id}?done=publish").get_data(as_text=True)
    assert 'id="done"' in page and 'id="alerts-note"' not in page
    assert [kind for kind, _ in _alert_rows(page)] == ["announcement", "reminder", "start"]
    for alert in alerts:
        assert f'/dashboard/cotonou/broadcasts/{alert.id}"' in page
    assert 'data-status="scheduled"' in page


def test_publishing_again_is_refused_politely(editor, session, quiet_off, communes) -> None:
    event = _create(editor, session)
    _act(editor, event, "publish")
    page = editor.get(f"/dashboard/cotonou/events/{event.id}/publish")
    assert 'id="not-possible"' in page.get_data(as_text=True)
    again = _post(editor, f"/dashboard/cotonou/events/{event.id}/publish", {"confirm": "yes"})
    assert again.status_code == 409
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 3


def test_moving_a_published_event_cancels_pending_alerts_and_sends_a_change_notice(
    editor, session, subscribe, run_jobs, quiet_off
) -> None:
    alerted = subscribe()
    event = _create(editor, session)
    _act(editor, event, "publish")
    run_jobs()  # the announcement goes out now: its subscriber has been alerted
    form = editor.get(f"/dashboard/cotonou/events/{event.id}/move").get_data(as_text=True)
    assert 'value="2030-03-12T10:00"' in form

    review = _act(editor, event, "move", starts_at=MOVED_LOCAL)
    assert [kind for kind, _ in _alert_rows(review, "cancelled-alerts")] == ["reminder", "start"]
    planned = _alert_rows(review, "planned-alerts")
    assert [kind for kind, _ in planned] == ["change", "reminder", "start"]
    assert planned[0] == ("change", "Dès la confirmation")  # no preview moment shown as a time
    assert planned[2] == ("start", "jeudi 14 mars 2030 à 10h30")
    assert 'data-kind="change"' in review and 'data-channel="sms">1<' in review

    session.expire_all()
    moved = session.get(Event, event.id)
    assert moved.starts_at == MOVED and moved.ends_at == MOVED + timedelta(hours=3)
    by_kind = {}
    for alert in session.scalars(select(Broadcast).order_by(Broadcast.id)):
        by_kind.setdefault(alert.kind, []).append(alert.status)
    assert by_kind[BroadcastKind.REMINDER] == [BroadcastStatus.CANCELLED, BroadcastStatus.SCHEDULED]
    assert by_kind[BroadcastKind.START] == [BroadcastStatus.CANCELLED, BroadcastStatus.SCHEDULED]
    assert by_kind[BroadcastKind.CHANGE] == [BroadcastStatus.SCHEDULED]
    run_jobs()
    change = session.scalar(select(Broadcast).where(Broadcast.kind == BroadcastKind.CHANGE))
    notice = session.scalars(
        select(OutboundMessage).where(OutboundMessage.broadcast_id == change.id)
    ).all()
    assert [m.contact_id for m in notice] == [alerted.id]
    [audit] = _audits(session, "move")
    assert audit.before["starts_at"] == START.isoformat()
    assert audit.after["starts_at"] == MOVED.isoformat()


def test_move_with_a_bad_or_same_date_is_422_and_changes_nothing(
    editor, session, quiet_off, communes
) -> None:
    event = _create(editor, session)
    _act(editor, event, "publish")
    for value in ("", "tomorrow", "2030-13-40T10:00", START_LOCAL, "1800-01-01T10:00", "x" * 5000):
        response = _post(
            editor,
            f"/dashboard/cotonou/events/{event.id}/move",
            {
                "starts_at": value,
                "confirm": "yes",
            },
        )
        assert response.status_code == 422, value
        assert 'id="error-starts_at"' in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Event, event.id).starts_at == START
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 3
    assert _audits(session, "move") == []


def test_cancelling_tells_those_already_alerted(
    editor, session, subscribe, run_jobs, quiet_off
) -> None:
    subscribe(), subscribe(channel=Channel.WHATSAPP)
    event = _create(editor, session)
    _act(editor, event, "publish")
    run_jobs()
    page = editor.get(f"/dashboard/cotonou/events/{event.id}/cancel").get_data(as_text=True)
    assert [kind for kind, _ in _alert_rows(page, "planned-alerts")] == ["cancellation"]
    assert [kind for kind, _ in _alert_rows(page, "cancelled-alerts")] == ["reminder", "start"]
    review = _act(editor, event, "cancel")
    assert 'class="danger" id="confirm-button"' in review  # cancelling looks like danger
    session.expire_all()
    assert session.get(Event, event.id).status is EventStatus.CANCELLED
    kinds = {a.kind: a.status for a in session.scalars(select(Broadcast))}
    assert kinds[BroadcastKind.CANCELLATION] is BroadcastStatus.SCHEDULED
    assert kinds[BroadcastKind.START] is BroadcastStatus.CANCELLED
    assert _audits(session, "cancel")[0].after["status"] == "cancelled"
    page = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    assert 'id="cancel-link"' not in page and 'id="move-link"' not in page


def test_cancelling_an_unpublished_event_sends_nothing(editor, session, communes) -> None:
    event = _create(editor, session)
    page = editor.get(f"/dashboard/cotonou/events/{event.id}/cancel").get_data(as_text=True)
    assert 'id="nothing-sent"' in page
    _act(editor, event, "cancel")
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0


def test_marking_held_sends_the_summary_escaped_on_the_page(
    editor, session, subscribe, run_jobs, quiet_off
) -> None:
    reader = subscribe()
    event = _create(editor, session)
    _act(editor, event, "publish")
    run_jobs()
    summary = "Budget adopté <script>alert(1)</script> à l'unanimité."
    review = _act(editor, event, "held", summary=summary)
    assert [kind for kind, _ in _alert_rows(review, "planned-alerts")] == ["summary"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review and "<script>alert" not in review
    run_jobs()
    session.expire_all()
    held = session.get(Event, event.id)
    assert held.status is EventStatus.HELD and held.summary == summary
    sent = session.scalar(
        select(OutboundMessage)
        .join(Broadcast, Broadcast.id == OutboundMessage.broadcast_id)
        .where(Broadcast.kind == BroadcastKind.SUMMARY)
    )
    assert sent.contact_id == reader.id and "unanimité" in sent.text
    page = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    assert "&lt;script&gt;" in page and "<script>alert" not in page
    assert _audits(session, "held")[0].after["summary"] == summary


def test_bad_event_input_is_422_with_messages_and_stores_nothing(editor, session, communes) -> None:
    cases = {
        "title": {"title": "   "},
        "type": {"type": "fete"},
        "starts_at": {"starts_at": "12/03/2030"},
        "ends_at": {"ends_at": "2030-03-12T09:00"},
        "agenda": {"agenda": "\n".join(f"point {n}" for n in range(40))},
        "place": {"place": "x" * 301},
    }
    before = session.scalar(select(func.count()).select_from(Event))
    for field, bad in cases.items():
        response = _post(editor, "/dashboard/cotonou/events/new", _form(**bad))
        html = response.get_data(as_text=True)
        assert response.status_code == 422, field
        assert f'id="error-{field}"' in html, field
        assert 'value="Salle des fêtes"' in html or field == "place"
    assert session.scalar(select(func.count()).select_from(Event)) == before
    assert _audits(session, "create") == []


def test_edit_updates_details_but_a_published_start_moves_only_through_move(
    editor, session, quiet_off, communes
) -> None:
    event = _create(editor, session)
    response = _post(
        editor, f"/dashboard/cotonou/events/{event.id}/edit", _form(place="Hôtel de ville")
    )
    assert response.status_code == 303
    session.expire_all()
    assert session.get(Event, event.id).place == "Hôtel de ville"
    [update] = _audits(session, "update")
    assert update.before["place"] == "Salle des fêtes" and update.after["place"] == "Hôtel de ville"
    _act(editor, event, "publish")
    refused = _post(
        editor,
        f"/dashboard/cotonou/events/{event.id}/edit",
        _form(starts_at=MOVED_LOCAL, ends_at=""),
    )
    assert refused.status_code == 422
    assert 'id="error-starts_at"' in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get(Event, event.id).starts_at == START


def test_list_shows_upcoming_then_past_with_sample_labels_and_escapes_titles(
    editor, session, communes
) -> None:
    _create(editor, session, title="<script>alert('x')</script> Session")
    html = editor.get("/dashboard/cotonou/events").get_data(as_text=True)
    upcoming, past = html.split('id="upcoming-events"')[1].split('id="past-events"')
    assert "&lt;script&gt;alert(" in upcoming and "<script>alert" not in html
    assert 'data-sample="1"' in past  # the shipped sample sessions of 2026 are past
    samples = session.scalars(
        select(Event).where(Event.commune_id == communes["cotonou"].id, Event.is_sample)
    ).all()
    for sample in samples:
        assert f'data-event="{sample.id}"' in html


def test_the_plan_shown_before_publishing_is_what_publishing_plans(
    editor, session, communes
) -> None:
    # Default quiet hours 21:00-07:00: no "it starts now" alert for a 22:00 start,
    # and the reminder the evening before waits for the morning.
    event = _create(editor, session, starts_at="2030-03-12T22:00", ends_at="")
    page = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    plan = _alert_rows(page)
    assert [kind for kind, _ in plan] == ["announcement", "reminder"]
    assert "retenue jusqu&#39;au mardi 12 mars 2030 à 07h00" in page
    _act(editor, event, "publish")
    page = editor.get(f"/dashboard/cotonou/events/{event.id}").get_data(as_text=True)
    assert _alert_rows(page)[1:] == plan[1:]
    assert [kind for kind, _ in _alert_rows(page)] == ["announcement", "reminder"]
