"""The RQ worker class of this project: jobs run in one long-lived app.

RQ's default worker forks a work horse per job. Measured here, a fork costs
40 to 100 ms per job (the app, the mappers and SQLAlchemy's statement cache
all start cold in each child), ten times the few milliseconds a reply or an
ingest batch takes. Our jobs are short and share one app, so they run in the
worker process itself, like RQ's SimpleWorker; job timeouts still apply.
Use it with `rq worker -w workers.worker.AppWorker` (the Procfile does) or
`flask --app bot worker`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from rq import Queue, SimpleWorker
from rq.job import Job


class AppWorker(SimpleWorker):
    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if app is None:
            from bot import create_app

            app = create_app()
        self.app = app

    def execute_job(self, job: Job, queue: Queue) -> None:
        with self.app.app_context():
            super().execute_job(job, queue)
