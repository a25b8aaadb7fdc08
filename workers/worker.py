"""The RQ worker class of this project: jobs run in one long-lived app.

RQ's default worker forks a work horse per job. Measured here, a fork costs
40 to 100 ms per job (the app, the mappers and SQLAlchemy's statement cache
all start cold in each child), ten times the few milliseconds a reply or an
ingest batch takes. Our jobs are short and share one app, so they run in the
worker process itself, like RQ's SimpleWorker; job timeouts still apply.
Use it with `rq worker -w workers.worker.AppWorker` (the Procfile does) or
`flask --app bot worker`.

It also runs the sweeper (workers/sweeper.py) from RQ's maintenance loop,
once every `SWEEP_INTERVAL_SECONDS` across all workers: no separate process
to deploy, and it keeps running when Redis lost every job it held. The same
tick queues the weekly digest when its time has come (workers/digest.py).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from rq import Queue, SimpleWorker
from rq.defaults import DEFAULT_WORKER_TTL
from rq.job import Job

from bot.db import get_session
from workers.digest import enqueue_if_due
from workers.sweeper import sweep

log = logging.getLogger(__name__)

SWEEP_LOCK = "sweeper:lock"


class AppWorker(SimpleWorker):
    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        if app is None:
            from bot import create_app

            app = create_app()
        self.app = app
        interval = app.config["SWEEP_INTERVAL_SECONDS"]
        # `rq worker` always passes its own defaults (600 s, 420 s), so these
        # cap what is given rather than fill what is missing. An idle worker
        # waits for jobs at most worker_ttl - 15 s before its maintenance
        # runs: keep that near the interval too.
        given = kwargs.get("maintenance_interval") or interval
        kwargs["maintenance_interval"] = min(given, interval)
        kwargs["worker_ttl"] = min(kwargs.get("worker_ttl") or DEFAULT_WORKER_TTL, interval + 15)
        super().__init__(*args, **kwargs)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        interval = self.app.config["SWEEP_INTERVAL_SECONDS"]
        if not self.connection.set(SWEEP_LOCK, self.name, nx=True, ex=max(interval - 1, 1)):
            return
        with self.app.app_context():
            try:
                sweep(get_session())
            except Exception:
                # The next tick tries again; a worker must not die of a database hiccup.
                log.exception("sweep failed")
            try:
                enqueue_if_due(self.app, self.connection)
            except Exception:
                log.exception("queueing the weekly digest failed")

    def execute_job(self, job: Job, queue: Queue) -> None:
        with self.app.app_context():
            super().execute_job(job, queue)
