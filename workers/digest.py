"""The weekly digest job, and when the workers queue it.

Every worker's maintenance loop (workers/worker.py, about once a minute) asks
`enqueue_if_due`: the first to ask after this week's digest time queues the
job, once per week (a Redis key per week). Workers down on Monday morning
send it when they come back, on Monday before the quiet hours
(DIGEST_CATCH_UP). Losing that key only queues the job again, and the job
itself writes nothing twice: it runs under a lock, and a commune that has
this week's digest is passed over.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from redis import Redis

from bot.db import get_session
from bot.models.types import utcnow
from bot.participation import digest
from bot.redis import get_queue, get_redis
from workers.context import job_context

JOB = "workers.digest.send_weekly_digest"
LOCK = "lock:digest"
QUEUED_KEY = "digest:queued:{week}"
QUEUED_SECONDS = 8 * 24 * 3600
"""A week and a day: the key outlives the week it stands for."""


def send_weekly_digest() -> str:
    """RQ job (queue `default`): write and start this week's digests; says what it did."""
    with job_context():
        session = get_session()
        with get_redis().lock(
            LOCK, timeout=digest.LOCK_SECONDS, blocking_timeout=digest.LOCK_SECONDS
        ):
            return str(digest.send_weekly(session))


def enqueue_if_due(app: Flask, connection: Redis, now: datetime | None = None) -> bool:
    """Queue this week's digest job on Monday unless it was queued; True when this call did."""
    now = now or utcnow()
    start = digest.week_start(now, ZoneInfo(app.config["TIMEZONE"]))
    if now - start > digest.DIGEST_CATCH_UP:
        return False
    key = QUEUED_KEY.format(week=start.date().isoformat())
    if not connection.set(key, 1, nx=True, ex=QUEUED_SECONDS):
        return False
    get_queue("default", app).enqueue(JOB)
    return True
