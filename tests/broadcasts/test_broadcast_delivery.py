"""Handing a broadcast over: retries, permanent failures, calls in doubt, reports, counters."""

from __future__ import annotations

import time

from rq.job import Job
from sqlalchemy import func, select

from bot.broadcasts.counters import BUCKETS
from bot.channels import report_memory
from bot.models import Broadcast, Contact, OutboundMessage
from bot.models.enums import BroadcastStatus, MessageStatus, Provider
from bot.redis import get_queue, get_redis
from tests.broadcasts.conftest import BULK, bulk_success, delivered_numbers, messages
from tests.fakes.provider import Answer


def _counters(broadcast: Broadcast) -> dict[str, int]:
    return {bucket: getattr(broadcast, f"count_{bucket}") for bucket in set(BUCKETS.values())}


def _counted_from_rows(session, broadcast: Broadcast) -> dict[str, int]:
    found = dict.fromkeys(set(BUCKETS.values()), 0)
    for status, count in session.execute(
        select(OutboundMessage.status, func.count())
        .where(OutboundMessage.broadcast_id == broadcast.id)
        .group_by(OutboundMessage.status)
    ):
        found[BUCKETS[status]] += count
    return found


def _scheduled_retries(app) -> list[Job]:
    registry = get_queue("bulk", app).scheduled_job_registry
    return [Job.fetch(job_id, connection=get_redis(app)) for job_id in registry.get_job_ids()]


def test_broadcast_retries_a_throttled_call_later_then_sends(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    first, second = subscriber(), subscriber()
    fake_at.answer(BULK, Answer(429, {"error": "slow down"}), bulk_success)
    sent = broadcast()
    run_jobs()
    assert delivered_numbers(fake_at) == [first.phone_e164, second.phone_e164]
    rows = messages(session, sent)
    assert {(row.status, row.error_code, row.attempts) for row in rows} == {
        (MessageStatus.QUEUED, "http_429", 1)
    }
    [retry] = _scheduled_retries(app)
    assert retry.func_name == "workers.broadcast.send_batch"
    assert retry.args == (sent.id, rows[0].id, rows[-1].id)
    get_queue("bulk", app).enqueue_job(retry)
    run_jobs()
    rows = messages(session, sent)
    assert {(row.status, row.attempts) for row in rows} == {(MessageStatus.SENT, 2)}
    session.refresh(sent)
    assert sent.status is BroadcastStatus.DONE
    assert _counters(sent) == _counted_from_rows(session, sent)


def test_broadcast_records_permanent_failures_and_obeys_blacklist(
    session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    good, bad, refuses = subscriber(), subscriber(), subscriber()

    def mixed(request):
        answer = bulk_success(request)
        recipients = answer.body["SMSMessageData"]["Recipients"]
        recipients[1] = {
            "statusCode": 403,
            "number": bad.phone_e164,
            "status": "InvalidPhoneNumber",
        }
        recipients[2] = {"statusCode": 406, "number": refuses.phone_e164, "status": "Blacklist"}
        return answer

    fake_at.answer(BULK, mixed)
    sent = broadcast()
    run_jobs()
    outcome = {row.contact_id: (row.status, row.error_code) for row in messages(session, sent)}
    assert outcome == {
        good.id: (MessageStatus.SENT, None),
        bad.id: (MessageStatus.FAILED, "403"),
        refuses.id: (MessageStatus.FAILED, "406"),
    }
    assert session.get(Contact, refuses.id).opted_out_at is not None
    assert session.get(Contact, good.id).opted_out_at is None
    session.refresh(sent)
    assert (sent.count_sent, sent.count_failed, sent.status) == (1, 2, BroadcastStatus.DONE)


def test_broadcast_call_without_answer_is_in_doubt_never_retried(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    subscriber()
    fake_at.answer(BULK, Answer(201, {}, delay=1.5))
    adapter_timeout = 0.3
    from bot.channels.registry import sender
    from bot.models.enums import Provider

    with app.app_context():
        sender(Provider.AFRICASTALKING)._timeout = (3.05, adapter_timeout)
    sent = broadcast()
    run_jobs()
    [row] = messages(session, sent)
    assert (row.status, row.error_code) == (MessageStatus.SENDING, "timeout")
    assert _scheduled_retries(app) == []
    session.refresh(sent)
    assert (sent.status, sent.count_queued) == (BroadcastStatus.SENDING, 1)


def test_broadcast_counters_follow_delivery_reports(
    client, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    first, second = subscriber(), subscriber()
    sent = broadcast()
    run_jobs()
    reports = [
        {"id": f"ATXid_{first.phone_e164.lstrip('+')}", "status": "Success"},
        {"id": f"ATXid_{second.phone_e164.lstrip('+')}", "status": "Failed"},
        {"id": f"ATXid_{first.phone_e164.lstrip('+')}", "status": "Sent"},
    ]
    for report in reports:
        assert client.post("/webhooks/at/delivery", data=report).status_code == 200
    session.expire_all()
    sent = session.get(Broadcast, sent.id)
    assert (sent.count_sent, sent.count_delivered, sent.count_failed) == (0, 1, 1)
    assert _counters(sent) == _counted_from_rows(session, sent)
    latest = max(row.sent_at for row in messages(session, sent))
    assert report_memory.watermark(Provider.AFRICASTALKING) == latest


def test_broadcast_skips_a_contact_who_opts_out_while_it_runs(
    client, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    staying, leaving = subscriber(), subscriber()
    sent = broadcast()
    from bot.broadcasts import sending

    sending.start(session, sent.id)
    stop = {"from": leaving.phone_e164, "to": "7722", "text": "STOP", "date": "2026-11-22 10:00:00"}
    assert client.post("/webhooks/at/sms", data={**stop, "id": "stop-1"}).status_code == 200
    run_jobs()
    alerted = [
        number
        for request in fake_at.requests_to(BULK)
        if request.form["message"].startswith("Reddition")
        for number in request.form["to"].split(",")
    ]
    assert alerted == [staying.phone_e164]
    outcome = {row.contact_id: row.status for row in messages(session, sent)}
    assert outcome[leaving.id] is MessageStatus.SKIPPED
    session.refresh(sent)
    assert (sent.count_sent, sent.count_skipped, sent.status) == (1, 1, BroadcastStatus.DONE)


def test_broadcast_batches_keep_the_send_rate(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    app.config["SEND_RATE_SMS"] = 2
    for _ in range(5):
        subscriber()
    broadcast()
    started = time.monotonic()
    run_jobs()
    elapsed = time.monotonic() - started
    sizes = [len(request.form["to"].split(",")) for request in fake_at.requests_to(BULK)]
    assert sizes == [2, 2, 1]
    # 2 permits at once, then 2 more after 1 s and 1 after 1.5 s: never faster than the rate.
    assert elapsed >= 1.4


def test_broadcast_counters_forget_an_erased_contact(
    app, session, fake_at, subscriber, broadcast, run_jobs
) -> None:
    from bot.broadcasts import sending
    from bot.participation.privacy import erase_contact

    staying, erased = subscriber(), subscriber()
    sent = broadcast()
    sending.start(session, sent.id)
    assert erase_contact(session, get_redis(app), erased.id)
    run_jobs()
    assert delivered_numbers(fake_at) == [staying.phone_e164]
    session.refresh(sent)
    assert (sent.status, sent.count_queued, sent.count_sent) == (BroadcastStatus.DONE, 0, 1)
    assert _counters(sent) == _counted_from_rows(session, sent)
