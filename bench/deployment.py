"""The app as deployed, for the fault and soak runs, every part its own process.

gunicorn with `make bench`'s settings (bench/run.py GUNICORN), two RQ workers as the
Procfile runs them, a redis-server of the run's own (bench/stack.py), the run's own
database (SQLite, or a fresh PostgreSQL database), and the fake Africa's Talking API
(bench/fake_at.py) posting a delivery report for everything it accepts. Twilio and Meta
webhooks are signed (their secrets are set); replies on WhatsApp go to the console
provider, replies by SMS through the fake AT.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, create_engine

from bench.stack import (
    FLASK,
    FakeAT,
    Processes,
    RedisServer,
    Workers,
    app_env,
    child_pids,
    database,
    free_port,
    prepare,
    wait_until,
)
from bench.traffic import META_SECRET, TWILIO_TOKEN


def gunicorn_options() -> list[str]:
    """The web server settings of every `make bench` figure."""
    from bench.run import GUNICORN  # bench/run.py imports this module: read it late

    return GUNICORN


class Web:
    """gunicorn serving the app, with the options of bench/run.py."""

    def __init__(self, processes: Processes, env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}"]
        self.process = processes.start("web", [*argv, *gunicorn_options(), "bot:create_app()"], env)
        wait_until(self._healthy, "the web app")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def worker_pids(self) -> list[int]:
        return child_pids(self.process.pid)


@dataclass
class Deployment:
    directory: Path
    kind: str
    database_url: str
    env: dict[str, str]
    engine: Engine
    processes: Processes
    redis: RedisServer
    fake: FakeAT
    web: Web
    workers: Workers

    def supervise(self) -> None:
        """Workers exit when Redis goes away: start them again, as systemd would."""
        self.workers.supervise()


@contextlib.contextmanager
def deployed(
    kind: str = "SQLite",
    *,
    provider_url: Callable[[str], str] | None = None,
    seed: Callable[[str], Any] | None = None,
    **settings: Any,
) -> Iterator[Deployment]:
    """Everything up, ready for traffic; stopped and removed on the way out, even on error.

    `provider_url` maps the fake AT's address to the one the app is given (a relay that
    can hang); `seed` fills the migrated database before the processes start.
    """
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deployed-")))
        url = stack.enter_context(database(kind, directory))
        processes = Processes(directory)
        stack.callback(processes.close)
        redis = RedisServer(processes)
        redis.start()
        port = free_port()
        fake = FakeAT(processes, report_url=f"http://127.0.0.1:{port}/webhooks/at/delivery")
        env = app_env(
            directory,
            url,
            redis.url,
            AT_API_BASE_URL=provider_url(fake.url) if provider_url else fake.url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            TWILIO_AUTH_TOKEN=TWILIO_TOKEN,
            WHATSAPP_APP_SECRET=META_SECRET,
            **settings,
        )
        prepare(env)
        if seed is not None:
            seed(url)
        web = Web(processes, env, port)
        workers = Workers(processes, env)
        workers.wait_ready(redis.client())
        engine = create_engine(url)
        stack.callback(engine.dispose)
        yield Deployment(directory, kind, url, env, engine, processes, redis, fake, web, workers)


def run_cli(deployment: Deployment, *args: str) -> str:
    """A `flask --app bot` command in the deployment's environment; its output."""
    return subprocess.run(
        [*FLASK, *args], env=deployment.env, check=True, capture_output=True, text=True
    ).stdout
