"""The sweeper: what a crash or a lost job left behind is finished, and nobody gets it twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from bot.broadcasts import sending
from bot.channels import report_memory
from bot.channels.registry import sender
from bot.models import OutboundMessage
from bot.models.enums import BroadcastStatus, MessageStatus, Provider
from bot.models.types import utcnow
from bot.redis import QUEUE_NAMES, get_queue, get_redis
from tests.broadcasts.conftest import BULK, bulk_success, delivered_numbers, messages
from tests.fakes.provider import Answer
from workers.sweeper import GAVE_UP, REPORT_ORDER_MARGIN, RESENT, sweep
from workers.worker import SWEEP_LOCK, AppWorker


def _later(app, setting: str) -> object:
    return utcnow() + timedelta(seconds=app.config[setting] + 1)


@pytest.fixture
def unanswered(app, fake_at):
    """The provider takes the bulk call but its answer never arrives in time."""
    with app.app_context():
        sender(Provider.AFRICASTALKING)._timeout = (3.05, 0.3)
    fake_at.answer(BULK, Answer(201, {}, delay=1.0), bulk_success)
    return fake_at


def test_broadcast_in_doubt_is_settled_from_the_provider_report_not_resent(
    app, client, session, unanswered, subscriber, broadcast, run_jobs
) -> None:
    taken = subscriber()
    sent = broadcast()
    run_jobs()
    assert delivered_numbers(unanswered) == [taken.phone_e164]
    report = {"id": "ATXid_late", "status": "Success", "phoneNumber": taken.phone_e164}
    assert client.post("/webhooks/at/delivery", data=report).status_code == 200
    swept = sweep(session, now=_later(app, "SWEEP_IN_DOUBT_SECONDS"))
    assert (swept.adopted, swept.resent) == (1, 0)
    run_jobs()
    assert delivered_numbers(unanswered) == [taken.phone_e164]
    [row] = messages(session, sent)
    assert (row.status, row.external_id) == (MessageStatus.DELIVERED, "ATXid_late")
    session.refresh(sent)
    assert (sent.status, sent.count_queued, sent.count_delivered) == (BroadcastStatus.DONE, 0, 1)


def test_broadcast_in_doubt_without_report_is_sent_again_once_reports_caught_up(
    app, session, unanswered, subscriber, broadcast, run_jobs
) -> None:
    subscriber()
    sent = broadcast()
    run_jobs()
    [row] = messages(session, sent)
    after_doubt = _later(app, "SWEEP_IN_DOUBT_SECONDS")
    early = sweep(session, now=utcnow())
    assert (early.adopted, early.resent) == (0, 0)
    # Reports are behind: nothing came back yet for anything sent after it.
    assert sweep(session, now=after_doubt).resent == 0
    report_memory.raise_watermark(Provider.AFRICASTALKING, row.updated_at + REPORT_ORDER_MARGIN / 2)
    assert sweep(session, now=after_doubt).resent == 0
    report_memory.raise_watermark(Provider.AFRICASTALKING, row.updated_at + REPORT_ORDER_MARGIN)
    swept = sweep(session, now=after_doubt)
    assert swept.resent == 1
    [row] = messages(session, sent)
    assert (row.status, row.error_code) == (MessageStatus.QUEUED, RESENT)
    run_jobs()
    assert len(delivered_numbers(unanswered)) == 2  # the call in doubt, then one resend
    [row] = messages(session, sent)
    assert (row.status, row.attempts) == (MessageStatus.SENT, 2)


def test_broadcast_in_doubt_that_no_report_ever_settles_fails_unsent(
    app, session, unanswered, subscriber, broadcast, run_jobs
) -> None:
    subscriber()
    sent = broadcast()
    run_jobs()
    much_later = utcnow() + timedelta(seconds=report_memory.UNMATCHED_REPORT_SECONDS + 1)
    assert sweep(session, now=much_later).failed == 1
    run_jobs()
    assert len(delivered_numbers(unanswered)) == 1
    [row] = messages(session, sent)
    assert (row.status, row.error_code) == (MessageStatus.FAILED, GAVE_UP)
    session.refresh(sent)
    assert (sent.status, sent.count_queued, sent.count_failed) == (BroadcastStatus.DONE, 0, 1)


def test_broadcast_in_doubt_ignores_a_report_older_than_its_claim(
    app, client, session, unanswered, subscriber, broadcast, run_jobs
) -> None:
    taken = subscriber()
    report = {"id": "ATXid_earlier", "status": "Success", "phoneNumber": taken.phone_e164}
    assert client.post("/webhooks/at/delivery", data=report).status_code == 200
    sent = broadcast()
    run_jobs()
    swept = sweep(session, now=_later(app, "SWEEP_IN_DOUBT_SECONDS"))
    assert swept.adopted == 0
    [row] = messages(session, sent)
    assert (row.status, row.external_id) == (MessageStatus.SENDING, None)


def test_broadcast_whose_batch_jobs_were_lost_is_finished_by_the_sweeper(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    first, second = subscriber(), subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    get_queue("bulk", app).empty()  # what a Redis that lost its data leaves
    assert sweep(session).requeued == 0  # batches seen alive lately: not yet
    get_redis(app).delete(f"broadcast:{sent.id}:alive")
    assert sweep(session).requeued == 1
    run_jobs()
    assert sorted(delivered_numbers(fake_at)) == sorted([first.phone_e164, second.phone_e164])
    assert sweep(session).requeued == 0


def test_broadcast_whose_start_job_was_lost_is_started_by_the_sweeper(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    subscriber()
    sent = broadcast()
    for name in QUEUE_NAMES:
        get_queue(name, app).empty()
    swept = sweep(session, now=_later(app, "SWEEP_STALE_SECONDS"))
    assert swept.restarted == 1
    run_jobs()
    session.refresh(sent)
    assert (sent.status, sent.count_sent) == (BroadcastStatus.DONE, 1)


def test_single_message_stuck_queued_is_queued_again(
    app, session, fake_at, subscriber, run_jobs
) -> None:
    from bot.models.enums import Channel
    from bot.outbox import new_message

    contact = subscriber()
    row = new_message(session, contact, Channel.SMS, Provider.AFRICASTALKING, "Votre avis AV-7K2P")
    session.commit()
    swept = sweep(session, now=_later(app, "SWEEP_STALE_SECONDS"))
    assert swept.requeued == 1
    run_jobs()
    session.expire_all()
    assert session.get(OutboundMessage, row.id).status is MessageStatus.SENT
    assert delivered_numbers(fake_at) == [contact.phone_e164]


def test_a_call_in_doubt_is_failed_never_placed_again_nor_matched_to_an_sms_report(
    app, client, session, subscriber
) -> None:
    from bot.models.enums import Channel
    from bot.outbox import new_message

    contact = subscriber()
    row = new_message(session, contact, Channel.VOICE, Provider.AFRICASTALKING, "")
    row.status = MessageStatus.SENDING
    session.commit()
    # An SMS report for the same number, which the sweeper would adopt for an SMS row.
    report = {"id": "ATXid_sms", "status": "Success", "phoneNumber": contact.phone_e164}
    assert client.post("/webhooks/at/delivery", data=report).status_code == 200
    report_memory.raise_watermark(Provider.AFRICASTALKING, utcnow() + 2 * REPORT_ORDER_MARGIN)
    swept = sweep(session, now=_later(app, "SWEEP_IN_DOUBT_SECONDS"))
    assert (swept.adopted, swept.resent, swept.failed) == (0, 0, 1)
    session.expire_all()
    settled = session.get(OutboundMessage, row.id)
    assert (settled.status, settled.error_code, settled.external_id) == (
        MessageStatus.FAILED,
        GAVE_UP,
        None,
    )


def test_broadcast_sweep_runs_in_one_worker_per_interval(
    app, session, fake_at, subscriber, broadcast
) -> None:
    subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    claimed = utcnow() - timedelta(seconds=app.config["SWEEP_IN_DOUBT_SECONDS"] + 60)
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.broadcast_id == sent.id)
        .values(status=MessageStatus.SENDING, updated_at=claimed)
    )
    session.commit()
    report_memory.raise_watermark(Provider.AFRICASTALKING, utcnow())
    queues = [get_queue(name, app) for name in QUEUE_NAMES]
    # As `rq worker` builds it, with RQ's own defaults.
    first = AppWorker(
        queues, connection=get_redis(app), app=app, maintenance_interval=600, worker_ttl=420
    )
    second = AppWorker(queues, connection=get_redis(app), app=app)
    first.run_maintenance_tasks()
    assert get_redis(app).get(SWEEP_LOCK).decode() == first.name
    [row] = messages(session, sent)
    assert (row.status, row.error_code) == (MessageStatus.QUEUED, RESENT)
    session.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id == row.id)
        .values(status=MessageStatus.SENDING, updated_at=claimed)
    )
    session.commit()
    second.run_maintenance_tasks()
    [row] = messages(session, sent)
    assert row.status is MessageStatus.SENDING
    assert first.maintenance_interval == app.config["SWEEP_INTERVAL_SECONDS"]
    assert first.dequeue_timeout == app.config["SWEEP_INTERVAL_SECONDS"]
