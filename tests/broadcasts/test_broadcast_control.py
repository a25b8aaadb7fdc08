"""Staff control over a broadcast: pause, resume, cancel, quiet hours, urgency."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from rq.job import Job

from bot.broadcasts import sending
from bot.broadcasts.quiet import QuietHours
from bot.models.enums import BroadcastStatus, MessageStatus
from bot.redis import get_queue, get_redis
from tests.broadcasts.conftest import delivered_numbers, messages

# Tomorrow's night, after the broadcasts the tests create now: a start job
# run at a time before its broadcast was asked for finds it "not due yet".
DAY = datetime.now(UTC).date() + timedelta(days=1)
NIGHT = datetime.combine(DAY, time(22, 30), UTC)  # 23:30 in Porto-Novo
MORNING = datetime.combine(DAY + timedelta(days=1), time(6, 0), UTC)  # 07:00 in Porto-Novo


def test_broadcast_pause_stops_batches_and_resume_sends_the_rest(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    subscriber(), subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    sending.pause(session, sent)
    session.commit()
    run_jobs()
    assert delivered_numbers(fake_at) == []
    assert {row.status for row in messages(session, sent)} == {MessageStatus.QUEUED}
    sending.resume(session, sent)
    session.commit()
    run_jobs()
    assert len(delivered_numbers(fake_at)) == 2
    session.refresh(sent)
    assert (sent.status, sent.count_sent) == (BroadcastStatus.DONE, 2)
    with pytest.raises(sending.BroadcastStateError):
        sending.resume(session, sent)


def test_broadcast_cancel_skips_what_was_not_handed_over(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    subscriber(), subscriber(), subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    assert sending.cancel(session, sent) == 3
    session.commit()
    run_jobs()
    assert delivered_numbers(fake_at) == []
    rows = messages(session, sent)
    assert {(row.status, row.error_code) for row in rows} == {(MessageStatus.SKIPPED, "cancelled")}
    session.refresh(sent)
    assert (sent.status, sent.count_queued, sent.count_skipped) == (BroadcastStatus.CANCELLED, 0, 3)
    with pytest.raises(sending.BroadcastStateError):
        sending.cancel(session, sent)


def test_broadcast_paused_before_its_start_starts_when_resumed(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    subscriber()
    sent = broadcast()
    sending.pause(session, sent)
    session.commit()
    run_jobs()
    assert messages(session, sent) == []
    sending.resume(session, sent)
    session.commit()
    run_jobs()
    assert len(delivered_numbers(fake_at)) == 1


def test_quiet_hours_span_midnight_in_local_time() -> None:
    from zoneinfo import ZoneInfo

    quiet = QuietHours.from_config({"QUIET_HOURS": "21:00-07:00", "TIMEZONE": "Africa/Porto-Novo"})
    assert quiet.contains(NIGHT)
    assert not quiet.contains(datetime.combine(DAY, time(12, 0), UTC))
    assert quiet.contains(MORNING - timedelta(minutes=1))
    assert not quiet.contains(MORNING)
    assert quiet.end_after(NIGHT) == MORNING
    assert quiet.release_time(NIGHT, urgent=True) is None
    off = QuietHours.from_config({"QUIET_HOURS": "00:00-00:00", "TIMEZONE": "Africa/Porto-Novo"})
    assert not off.contains(NIGHT)
    assert quiet.zone == ZoneInfo("Africa/Porto-Novo")


def test_broadcast_in_quiet_hours_waits_for_the_morning_unless_urgent(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    app.config["QUIET_HOURS"] = "21:00-07:00"
    subscriber()
    calm = broadcast()
    assert sending.start(session, calm.id, now=NIGHT).startswith("quiet hours: held until")
    session.refresh(calm)
    assert (calm.status, calm.scheduled_at) == (BroadcastStatus.SCHEDULED, MORNING)
    registry = get_queue("default", app).scheduled_job_registry
    held = [Job.fetch(job_id, connection=get_redis(app)) for job_id in registry.get_job_ids()]
    assert [(job.func_name, job.args) for job in held] == [
        ("workers.broadcast.start_broadcast", (calm.id,))
    ]
    assert registry.get_scheduled_time(held[0]) == MORNING
    assert messages(session, calm) == []
    urgent = broadcast(urgent=True)
    assert sending.start(session, urgent.id, now=NIGHT) == "1 message(s) in 1 batch(es)"
    assert sending.start(session, calm.id, now=MORNING) == "1 message(s) in 1 batch(es)"


def test_broadcast_batch_that_meets_the_night_waits_for_the_morning(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    local = datetime.now(ZoneInfo("Africa/Porto-Novo"))
    window = f"{(local - timedelta(hours=1)):%H:%M}-{(local + timedelta(hours=1)):%H:%M}"
    app.config["QUIET_HOURS"] = window
    run_jobs()
    assert delivered_numbers(fake_at) == []
    registry = get_queue("bulk", app).scheduled_job_registry
    [held] = [Job.fetch(job_id, connection=get_redis(app)) for job_id in registry.get_job_ids()]
    assert held.func_name == "workers.broadcast.send_batch"
    release = registry.get_scheduled_time(held).astimezone(ZoneInfo("Africa/Porto-Novo"))
    assert f"{release:%H:%M}" == window.split("-")[1]
    assert {row.status for row in messages(session, sent)} == {MessageStatus.QUEUED}
