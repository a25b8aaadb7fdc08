"""The web process's gunicorn settings: sync workers, as many as WEB_CONCURRENCY says."""

from __future__ import annotations

import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).parent.parent / "gunicorn.conf.py"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        (None, 2 * multiprocessing.cpu_count() + 1),
        ("", 2 * multiprocessing.cpu_count() + 1),
        ("3", 3),
    ],
)
def test_workers(monkeypatch, configured, expected) -> None:
    if configured is None:
        monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    else:
        monkeypatch.setenv("WEB_CONCURRENCY", configured)
    settings = runpy.run_path(str(CONF))
    assert (settings["worker_class"], settings["workers"], settings["keepalive"]) == (
        "sync",
        expected,
        0,
    )
