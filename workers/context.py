"""An app context for jobs: the worker's app, or the one a test already pushed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context

_app: Flask | None = None


@contextmanager
def job_context() -> Iterator[Flask]:
    """Jobs run in a worker process started by `rq worker`: build the app once per process."""
    global _app
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    if _app is None:
        from bot import create_app

        _app = create_app()
    with _app.app_context():
        yield _app
