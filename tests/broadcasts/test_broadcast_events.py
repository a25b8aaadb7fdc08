"""Event alerts: planned when an event is published, moved and cancelled with it, its summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rq.job import Job
from sqlalchemy import func, select

from bot.broadcasts import event_alerts, sending
from bot.broadcasts.event_alerts import SUMMARY_MAX, EventStateError
from bot.content.cache import commune_id
from bot.gsm import is_gsm7
from bot.models import Broadcast, Event, OutboundMessage
from bot.models.enums import (
    BroadcastKind,
    BroadcastStatus,
    Channel,
    EventStatus,
    EventType,
    MessageStatus,
    Topic,
)
from bot.models.types import utcnow
from bot.redis import get_queue, get_redis
from tests.broadcasts.conftest import delivered_numbers, messages

START = datetime(2030, 3, 12, 9, 0, tzinfo=UTC)  # mardi 12 mars 2030, 10h00 in Porto-Novo
MOVED = datetime(2030, 3, 14, 9, 30, tzinfo=UTC)  # jeudi 14 mars 2030, 10h30 in Porto-Novo
DAY = timedelta(days=1)
A, R, S = BroadcastKind.ANNOUNCEMENT, BroadcastKind.REMINDER, BroadcastKind.START


@pytest.fixture
def event(session, loaded, fake_at):
    """Make an event of Cotonou (by default a reddition de comptes at START), committed."""

    def make(starts_at: datetime = START, commune: str = "cotonou", **fields: object) -> Event:
        values: dict[str, object] = {
            "type": EventType.REDDITION_DE_COMPTES,
            "title": "Reddition de comptes 2029",
            "place": "Salle des fêtes",
            "follow_live": "Radio Tokpa 98.5",
            "status": EventStatus.SCHEDULED,
            "is_sample": False,
            **fields,
        }
        created = Event(commune_id=commune_id(session, commune), starts_at=starts_at, **values)
        session.add(created)
        session.commit()
        return created

    return make


def _publish(session, event: Event, now: datetime | None = None) -> list[Broadcast]:
    planned = event_alerts.publish(session, event, now)
    session.commit()
    return planned


def _alerts(session, event: Event) -> list[Broadcast]:
    session.expire_all()
    return event_alerts.alerts(session, event)


def _live(session, event: Event) -> dict[BroadcastKind, Broadcast]:
    """The event's alerts that are not cancelled, by kind (one each)."""
    found: dict[BroadcastKind, Broadcast] = {}
    for alert in _alerts(session, event):
        if alert.status is not BroadcastStatus.CANCELLED:
            assert alert.kind not in found, f"two live {alert.kind} alerts"
            found[alert.kind] = alert
    return found


def _queued_starts(app) -> list[int]:
    """Broadcast ids of the start jobs waiting on the default queue (to run now)."""
    connection = get_redis(app)
    jobs = [Job.fetch(job_id, connection=connection) for job_id in get_queue("default").job_ids]
    assert all(job.func_name == sending.START_JOB for job in jobs)
    return [job.args[0] for job in jobs]


def _scheduled_starts(app) -> dict[int, datetime]:
    """Broadcast id -> when its start job is due, for the jobs in the scheduled registry."""
    registry = get_queue("default").scheduled_job_registry
    found = {}
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=get_redis(app))
        assert job.func_name == sending.START_JOB
        found[job.args[0]] = registry.get_scheduled_time(job_id)
    return found


def _numbers(contacts) -> list[str]:
    return sorted(contact.phone_e164 for contact in contacts)


# --- planning ----------------------------------------------------------------------------


def test_publishing_an_event_plans_broadcast_announcement_reminder_and_start(
    app, session, event
) -> None:
    reddition = event()
    before = utcnow()
    planned = _publish(session, reddition)
    after = utcnow()
    assert [alert.kind for alert in planned] == [A, R, S]
    announcement, reminder, start = planned
    assert before <= announcement.scheduled_at <= after
    assert reminder.scheduled_at == START - DAY
    assert start.scheduled_at == START
    for alert in planned:
        assert alert.event_id == reddition.id
        assert alert.commune_id == reddition.commune_id
        assert alert.topic is Topic.REDDITION
        assert alert.channels == ["sms", "whatsapp"]
        assert alert.status is BroadcastStatus.SCHEDULED
        assert not alert.urgent
    assert reddition.status is EventStatus.SCHEDULED
    assert before <= reddition.published_at <= after
    # The announcement's job is on the queue now; the others wait for their time.
    assert _queued_starts(app) == [announcement.id]
    assert _scheduled_starts(app) == {reminder.id: START - DAY, start.id: START}

    assert _publish(session, reddition) == []
    assert len(_alerts(session, reddition)) == 3
    assert _queued_starts(app) == [announcement.id]
    assert set(_scheduled_starts(app)) == {reminder.id, start.id}


@pytest.mark.parametrize(
    ("event_type", "topic"),
    [
        (EventType.REDDITION_DE_COMPTES, Topic.REDDITION),
        (EventType.SESSION_ORDINAIRE, Topic.SESSIONS),
        (EventType.SESSION_EXTRAORDINAIRE, Topic.SESSIONS),
    ],
)
def test_broadcast_alerts_of_an_event_go_to_its_topic(session, event, event_type, topic) -> None:
    planned = _publish(session, event(type=event_type, title="Séance"))
    assert {alert.topic for alert in planned} == {topic}


def test_publishing_a_draft_event_schedules_it_and_a_cancelled_one_is_refused_broadcast(
    session, event
) -> None:
    draft = event(status=EventStatus.DRAFT)
    assert [alert.kind for alert in _publish(session, draft)] == [A, R, S]
    assert draft.status is EventStatus.SCHEDULED
    cancelled = event(status=EventStatus.CANCELLED)
    with pytest.raises(EventStateError):
        event_alerts.publish(session, cancelled)
    session.rollback()
    assert _alerts(session, cancelled) == []


def test_broadcast_start_alert_in_quiet_hours_is_not_planned(app, session, event) -> None:
    app.config["QUIET_HOURS"] = "21:00-07:00"
    late = event(starts_at=datetime(2030, 3, 12, 21, 30, tzinfo=UTC))  # 22h30 local
    early = event(starts_at=datetime(2030, 3, 12, 5, 30, tzinfo=UTC))  # 06h30 local
    morning = event(starts_at=datetime(2030, 3, 12, 6, 0, tzinfo=UTC))  # 07h00 local: ends
    assert [alert.kind for alert in _publish(session, late)] == [A, R]
    assert [alert.kind for alert in _publish(session, early)] == [A, R]
    planned = _publish(session, morning)
    assert [alert.kind for alert in planned] == [A, R, S]
    assert planned[-1].scheduled_at == morning.starts_at


def test_broadcast_for_an_event_less_than_a_day_away_has_no_reminder(app, session, event) -> None:
    soon = event(starts_at=(utcnow() + timedelta(hours=20)).replace(microsecond=0))
    planned = _publish(session, soon)
    assert [alert.kind for alert in planned] == [A, S]
    assert _scheduled_starts(app) == {planned[1].id: soon.starts_at}


def test_broadcast_for_an_event_already_started_is_only_announced(session, event) -> None:
    started = event(starts_at=(utcnow() - timedelta(minutes=5)).replace(microsecond=0))
    assert [alert.kind for alert in _publish(session, started)] == [A]


# --- texts -------------------------------------------------------------------------------


def test_broadcast_alert_texts_in_french_and_english(session, event) -> None:
    texts = {alert.kind: alert.text_by_language for alert in _publish(session, event())}
    assert texts[A] == {
        "fr": "Mairie de Cotonou : Reddition de comptes 2029, mardi 12 mars 2030 à 10h00. "
        "Lieu : Salle des fêtes.",
        "en": "Cotonou town hall: Reddition de comptes 2029, Tuesday 12 March 2030 at 10:00. "
        "Place: Salle des fêtes.",
    }
    assert texts[R] == {
        "fr": "Rappel, mairie de Cotonou : Reddition de comptes 2029, mardi 12 mars 2030 à "
        "10h00. Lieu : Salle des fêtes. Pour suivre : Radio Tokpa 98.5.",
        "en": "Reminder from Cotonou town hall: Reddition de comptes 2029, Tuesday 12 March "
        "2030 at 10:00. Place: Salle des fêtes. To follow: Radio Tokpa 98.5.",
    }
    assert texts[S] == {
        "fr": "Mairie de Cotonou : Reddition de comptes 2029 commence maintenant. "
        "Lieu : Salle des fêtes. Pour suivre : Radio Tokpa 98.5.",
        "en": "Cotonou town hall: Reddition de comptes 2029 starts now. "
        "Place: Salle des fêtes. To follow: Radio Tokpa 98.5.",
    }


def test_broadcast_alert_without_place_or_live_link_leaves_them_out(session, event) -> None:
    bare = event(place=None, follow_live=None)
    texts = {alert.kind: alert.text_by_language["fr"] for alert in _publish(session, bare)}
    assert texts[S] == "Mairie de Cotonou : Reddition de comptes 2029 commence maintenant."
    assert "Lieu" not in texts[A] and "Pour suivre" not in texts[R]


def test_broadcast_alerts_of_a_sample_event_say_so_and_sms_is_gsm7(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    french = subscriber(language="fr")
    english = subscriber(language="en")
    sample = event(title="Reddition « 2029 » — bilan", place="Salle des fêtes", is_sample=True)
    planned = _publish(session, sample)
    for alert in planned:
        assert alert.text_by_language["fr"].startswith("(Données d'exemple) ")
        assert alert.text_by_language["en"].startswith("(Sample data) ")
        assert "Cotonou" in alert.text_by_language["en"]
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    rows = {row.contact_id: row for row in messages(session, planned[0])}
    assert set(rows) == {french.id, english.id}
    assert rows[french.id].text == (
        '(Données d\'exemple) Mairie de Cotonou : Reddition "2029" - bilan, mardi 12 mars 2030 '
        "à 10h00. Lieu : Salle des fetes.\nRépondez STOP pour ne plus recevoir d'alertes."
    )
    assert rows[english.id].text.startswith('(Sample data) Cotonou town hall: Reddition "2029"')
    assert rows[english.id].text.endswith("\nReply STOP to stop these alerts.")
    for row in rows.values():
        assert row.channel is Channel.SMS and is_gsm7(row.text)
    assert _numbers([french, english]) == sorted(delivered_numbers(fake_at))


def test_broadcast_alerts_of_loaded_sample_events_are_marked_sample(session, loaded, fake_at):
    upcoming = session.scalar(
        select(Event).where(Event.is_sample.is_(True), Event.starts_at > utcnow()).limit(1)
    )
    assert upcoming is not None
    for alert in _publish(session, upcoming):
        assert "(Données d'exemple)" in alert.text_by_language["fr"]
        assert "(Sample data)" in alert.text_by_language["en"]


# --- audience ----------------------------------------------------------------------------


def test_broadcast_announcement_reaches_the_topic_and_all_subscribers_of_the_commune(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    reddition = subscriber(topic=Topic.REDDITION)
    everything = subscriber(topic=Topic.ALL, channel=Channel.USSD)
    subscriber(topic=Topic.SESSIONS)
    subscriber(topic=Topic.BUDGET)
    subscriber(commune="abomey-calavi", topic=Topic.REDDITION)
    subscriber(commune="abomey-calavi", topic=Topic.ALL)
    announcement, reminder, start = _publish(session, event())
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert sorted(delivered_numbers(fake_at)) == _numbers([reddition, everything])
    session.refresh(announcement)
    assert announcement.status is BroadcastStatus.DONE
    assert (announcement.count_sent, announcement.count_queued) == (2, 0)
    # The reminder and the start wait for their time: nothing of theirs went.
    for later in (reminder, start):
        session.refresh(later)
        assert later.status is BroadcastStatus.SCHEDULED
        assert messages(session, later) == []


# --- moving ------------------------------------------------------------------------------


def test_moving_an_event_before_any_broadcast_went_out_plans_a_new_announcement(
    app, session, event
) -> None:
    moved = event()
    old = _publish(session, moved)
    planned = event_alerts.move(session, moved, MOVED)
    session.commit()
    assert [alert.kind for alert in planned] == [A, R, S]
    assert [alert.scheduled_at for alert in planned[1:]] == [MOVED - DAY, MOVED]
    for alert in old:
        session.refresh(alert)
        assert alert.status is BroadcastStatus.CANCELLED
    assert moved.starts_at == MOVED and moved.status is EventStatus.SCHEDULED
    assert "jeudi 14 mars 2030 à 10h30" in planned[0].text_by_language["fr"]
    assert "mardi 12 mars" not in planned[0].text_by_language["fr"]
    assert "Thursday 14 March 2030 at 10:30" in planned[1].text_by_language["en"]
    assert set(_live(session, moved)) == {A, R, S}
    scheduled = _scheduled_starts(app)
    assert scheduled[planned[1].id] == MOVED - DAY and scheduled[planned[2].id] == MOVED


def test_moving_an_event_keeps_its_duration_broadcast_none_when_unpublished(session, event) -> None:
    unpublished = event(ends_at=START + timedelta(hours=4))
    assert event_alerts.move(session, unpublished, MOVED) == []
    session.commit()
    assert (unpublished.starts_at, unpublished.ends_at) == (MOVED, MOVED + timedelta(hours=4))
    assert _alerts(session, unpublished) == []
    with pytest.raises(EventStateError):
        event_alerts.move(session, unpublished, MOVED.replace(tzinfo=None))


def test_moved_event_broadcasts_a_change_only_to_those_already_alerted(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    first = subscriber(topic=Topic.REDDITION)
    second = subscriber(topic=Topic.ALL)
    moved = event()
    announcement, old_reminder, old_start = _publish(session, moved)
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert sorted(delivered_numbers(fake_at)) == _numbers([first, second])
    newcomer = subscriber(topic=Topic.REDDITION)

    planned = event_alerts.move(session, moved, MOVED)
    session.commit()
    assert [alert.kind for alert in planned] == [BroadcastKind.CHANGE, R, S]
    change, reminder, start = planned
    assert (reminder.scheduled_at, start.scheduled_at) == (MOVED - DAY, MOVED)
    assert change.text_by_language["fr"] == (
        "Mairie de Cotonou : changement. Reddition de comptes 2029 aura lieu jeudi 14 mars 2030 "
        "à 10h30. Lieu : Salle des fêtes."
    )
    assert "will take place Thursday 14 March 2030 at 10:30" in change.text_by_language["en"]
    live = _live(session, moved)
    assert live[A].id == announcement.id and live[A].status is BroadcastStatus.DONE
    for stale in (old_reminder, old_start):
        session.refresh(stale)
        assert stale.status is BroadcastStatus.CANCELLED

    fake_at.requests.clear()
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert sorted(delivered_numbers(fake_at)) == _numbers([first, second])
    assert {row.contact_id for row in messages(session, change)} == {first.id, second.id}
    assert all("jeudi 14 mars 2030" in row.text for row in messages(session, change))
    # The newcomer was never told the old time; the new reminder reaches them too.
    assert sending.start(session, reminder.id, now=MOVED - DAY).startswith("3 message(s)")
    assert newcomer.id in {row.contact_id for row in messages(session, reminder)}


def test_moving_an_event_twice_broadcasts_only_the_latest_change(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    alerted = subscriber()
    moved = event()
    _publish(session, moved)
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    first_change = event_alerts.move(session, moved, MOVED)[0]
    session.commit()
    later = MOVED + DAY
    second_change = event_alerts.move(session, moved, later)[0]
    session.commit()
    session.refresh(first_change)
    assert first_change.status is BroadcastStatus.CANCELLED
    assert set(_live(session, moved)) == {A, BroadcastKind.CHANGE, R, S}
    fake_at.requests.clear()
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert delivered_numbers(fake_at) == [alerted.phone_e164]
    assert messages(session, first_change) == []
    [row] = messages(session, second_change)
    assert "vendredi 15 mars 2030" in row.text


def test_moving_an_event_whose_announcement_was_paused_before_it_started_broadcast(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    waiting = subscriber()
    moved = event()
    announcement = _publish(session, moved)[0]
    sending.pause(session, announcement)
    session.commit()
    planned = event_alerts.move(session, moved, MOVED)
    session.commit()
    # Nothing went out: everyone still needs the announcement, with the new time.
    assert [alert.kind for alert in planned] == [A, R, S]
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert delivered_numbers(fake_at) == [waiting.phone_e164]
    [row] = messages(session, planned[0])
    assert "jeudi 14 mars 2030" in row.text


def test_a_stale_broadcast_start_job_of_a_moved_event_does_nothing(session, event) -> None:
    moved = event()
    old_start = _publish(session, moved)[-1]
    new_start = event_alerts.move(session, moved, MOVED)[-1]
    session.commit()
    # The job planned for the old time fires: the old alert was cancelled, and the
    # alert planned by the move is not due at that time.
    assert sending.start(session, old_start.id, now=START) == "not started: cancelled"
    assert sending.start(session, new_start.id, now=START) == "not due yet"
    count = session.scalar(select(func.count()).select_from(OutboundMessage))
    assert count == 0
    session.refresh(new_start)
    assert new_start.status is BroadcastStatus.SCHEDULED and new_start.started_at is None


# --- cancelling --------------------------------------------------------------------------


def test_cancelling_an_event_broadcasts_the_cancellation_to_those_already_alerted(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    alerted = subscriber()
    cancelled = event()
    _, reminder, start = _publish(session, cancelled)
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    newcomer = subscriber()
    planned = event_alerts.cancel(session, cancelled)
    session.commit()
    assert [alert.kind for alert in planned] == [BroadcastKind.CANCELLATION]
    assert cancelled.status is EventStatus.CANCELLED
    assert planned[0].text_by_language["fr"] == (
        "Mairie de Cotonou : Reddition de comptes 2029, prévu mardi 12 mars 2030 à 10h00, "
        "est annulé."
    )
    assert planned[0].text_by_language["en"].endswith("is cancelled.")
    for pending in (reminder, start):
        session.refresh(pending)
        assert pending.status is BroadcastStatus.CANCELLED
    fake_at.requests.clear()
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert delivered_numbers(fake_at) == [alerted.phone_e164]
    rows = messages(session, planned[0])
    assert [row.contact_id for row in rows] == [alerted.id]
    assert newcomer.id not in {row.contact_id for row in rows}

    with pytest.raises(EventStateError):
        event_alerts.cancel(session, cancelled)
    session.rollback()
    assert len(_alerts(session, cancelled)) == 4


def test_cancelling_an_event_nobody_heard_of_sends_no_broadcast(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    subscriber()
    cancelled = event()
    planned = _publish(session, cancelled)
    assert event_alerts.cancel(session, cancelled) == []
    session.commit()
    assert {alert.status for alert in _alerts(session, cancelled)} == {BroadcastStatus.CANCELLED}
    assert len(_alerts(session, cancelled)) == len(planned)
    run_jobs()  # the announcement's job finds it cancelled
    session.expire_all()
    assert fake_at.requests_to("/version1/messaging") == []
    assert session.scalar(select(func.count()).select_from(OutboundMessage)) == 0
    unpublished = event()
    assert event_alerts.cancel(session, unpublished) == []
    session.commit()
    assert unpublished.status is EventStatus.CANCELLED and _alerts(session, unpublished) == []


# --- held --------------------------------------------------------------------------------


def test_marking_an_event_held_broadcasts_its_summary(
    session, event, subscriber, run_jobs, fake_at
) -> None:
    alerted = subscriber()
    held = event()
    announcement, reminder, start = _publish(session, held)
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    newcomer = subscriber(topic=Topic.ALL)
    sending.pause(session, session.get(Broadcast, start.id))  # staff held the start alert back
    session.commit()
    planned = event_alerts.mark_held(session, held, "  Le maire a   présenté\nle budget.  ")
    session.commit()
    assert held.status is EventStatus.HELD
    assert held.summary == "Le maire a présenté le budget."
    assert [alert.kind for alert in planned] == [BroadcastKind.SUMMARY]
    summary = planned[0]
    assert summary.text_by_language == {
        "fr": "Mairie de Cotonou : Reddition de comptes 2029 a eu lieu. "
        "Résumé : Le maire a présenté le budget.",
        "en": "Cotonou town hall: Reddition de comptes 2029 was held. "
        "Summary: Le maire a présenté le budget.",
    }
    for pending in (reminder, start):
        session.refresh(pending)
        assert pending.status is BroadcastStatus.CANCELLED
    session.refresh(announcement)
    assert announcement.status is BroadcastStatus.DONE
    fake_at.requests.clear()
    run_jobs()
    session.expire_all()  # read afresh, as the next command would
    assert sorted(delivered_numbers(fake_at)) == _numbers([alerted, newcomer])
    assert {row.status for row in messages(session, summary)} == {MessageStatus.SENT}
    with pytest.raises(EventStateError):
        event_alerts.move(session, held, MOVED)
    session.rollback()


def test_broadcast_summary_is_cut_to_its_maximum(session, event) -> None:
    held = event()
    _publish(session, held)
    words = " ".join(f"point{n:03d}" for n in range(150))  # 1199 characters
    [summary] = event_alerts.mark_held(session, held, words)
    session.commit()
    assert held.summary == words
    text = summary.text_by_language["fr"]
    quoted = text.split("Résumé : ", 1)[1]
    assert quoted.endswith("...") and len(quoted) <= SUMMARY_MAX
    assert words.startswith(quoted[:-3]) and quoted[:-3].endswith("point065")
    assert not event_alerts.alert_text(held, BroadcastKind.SUMMARY, "en").endswith("point149")


def test_broadcast_summary_without_text_says_the_minutes_will_follow(session, event) -> None:
    held = event()
    _publish(session, held)
    [summary] = event_alerts.mark_held(session, held, "   ")
    session.commit()
    assert held.summary is None
    assert summary.text_by_language["fr"] == (
        "Mairie de Cotonou : Reddition de comptes 2029 a eu lieu. Le compte rendu sera publié."
    )


def test_broadcast_summary_goes_again_only_when_the_first_had_none(session, event) -> None:
    held = event()
    _publish(session, held)
    [first] = event_alerts.mark_held(session, held, "")
    [second] = event_alerts.mark_held(session, held, "Le budget 2030 a été présenté.")
    session.commit()
    assert "a été présenté" in second.text_by_language["fr"]
    assert first.kind is second.kind is BroadcastKind.SUMMARY
    assert event_alerts.mark_held(session, held, "Le budget 2030 a été présenté et voté.") == []
    session.commit()
    assert held.summary == "Le budget 2030 a été présenté et voté."


def test_marking_an_unpublished_event_held_sends_no_broadcast(session, event) -> None:
    unpublished = event()
    assert event_alerts.mark_held(session, unpublished, "Compte rendu.") == []
    session.commit()
    assert unpublished.status is EventStatus.HELD
    assert unpublished.summary == "Compte rendu."
    assert session.scalar(select(func.count()).select_from(Broadcast)) == 0
    cancelled = event(status=EventStatus.CANCELLED)
    with pytest.raises(EventStateError):
        event_alerts.mark_held(session, cancelled, "x")
    session.rollback()
