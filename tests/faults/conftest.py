"""Fault fixtures: a Redis of the test's own to stop, freeze and start again, a server that
accepts connections and never answers, and the webhook requests as the providers send them.

The `app` fixture here replaces the suite's: same database, but a Redis this test owns, so
stopping it disturbs no other test. `client`, `session`, `run_jobs` and `communes` from
tests/conftest.py then run against it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from werkzeug.test import TestResponse

from bot import create_app
from bot.db import dispose_engines
from bot.gsm import to_gsm7
from bot.i18n import t
from bot.redis import QUEUE_NAMES, EmbeddedRedis, get_redis

QUICK_SECONDS = 3.0
"""Bound on an answer when a dependency refuses at once: normally milliseconds, but the
CPU is shared, so the bound only tells "answered at once" from "waited on something"."""

USSD_DEADLINE_SECONDS = 15.0
"""Africa's Talking drops a USSD session whose answer takes longer than this."""

POLITE_END = "END " + to_gsm7(t("ussd.unavailable", "fr"))
"""USSD's answer when Redis or the database is unreachable (no language is known then)."""

SHORT_PROVIDER_TIMEOUT = 0.5
"""Read timeout given to the adapters in tests that need a send to time out quickly."""


class RedisUnderTest:
    """A redis-server daemon of one test, as the app embeds it: stop, freeze, start again."""

    def __init__(self, directory: Path) -> None:
        self.embedded = EmbeddedRedis(directory)
        self.url = self.embedded.url
        self._frozen = False

    def start(self) -> None:
        self.embedded.ensure_running()

    def stop(self) -> None:
        """SHUTDOWN: the append-only file is written out, the socket goes away."""
        self.thaw()
        self.embedded.stop()

    def _pid(self) -> int:
        return int((self.embedded.directory / "redis.pid").read_text())

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted, nothing is answered (a hung server)."""
        os.kill(self._pid(), signal.SIGSTOP)
        self._frozen = True

    def thaw(self) -> None:
        if self._frozen:
            os.kill(self._pid(), signal.SIGCONT)
            self._frozen = False


@pytest.fixture
def redis_under_test(tmp_path: Path) -> Iterator[RedisUnderTest]:
    server = RedisUnderTest(tmp_path / "redis-under-test")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app(database_url: str, redis_under_test: RedisUnderTest, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_under_test.url,
            "SECRET_KEY": "test-secret",
        }
    )
    yield app
    dispose_engines(app)


class SilentServer:
    """A TCP server on loopback that accepts every connection and never answers.

    What a hung provider, database or Redis looks like from the client: the
    connection opens, the request leaves, no byte comes back.
    """

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        # accept() polls, so that close() is not left waiting on a blocked accept.
        self._listener.settimeout(0.1)
        self._closed = threading.Event()
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                connection, _address = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.accepted += 1
                self._held.append(connection)

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._listener.close()
        with self._lock:
            for connection in self._held:
                connection.close()


@pytest.fixture
def silent_server() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


@dataclass(frozen=True)
class Timed:
    response: TestResponse
    seconds: float

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        return self.response.get_data(as_text=True)


def timed_post(client: FlaskClient, path: str, **kwargs: Any) -> Timed:
    started = time.monotonic()
    response = client.post(path, **kwargs)
    return Timed(response, time.monotonic() - started)


def timed_get(client: FlaskClient, path: str) -> Timed:
    started = time.monotonic()
    response = client.get(path)
    return Timed(response, time.monotonic() - started)


def ussd_form(phone: str, text: str = "", session_id: str | None = None) -> dict[str, str]:
    return {
        "sessionId": session_id or f"fault-{phone}",
        "serviceCode": "*202*22#",
        "phoneNumber": phone,
        "networkCode": "61602",
        "text": text,
    }


def at_sms_form(phone: str, text: str, message_id: str) -> dict[str, str]:
    return {
        "from": phone,
        "to": "7722",
        "text": text,
        "date": "2026-11-21 10:00:00",
        "id": message_id,
        "linkId": "41872630915502873364",
    }


def twilio_form(phone: str, text: str, sid: str, *, whatsapp: bool) -> dict[str, str]:
    prefix = "whatsapp:" if whatsapp else ""
    return {
        "MessageSid": sid,
        "AccountSid": "ACfaults0000000000000000000000000",
        "From": f"{prefix}{phone}",
        "To": f"{prefix}+2290121300400",
        "Body": text,
        "NumMedia": "0",
    }


def meta_body(phone: str, text: str, message_id: str) -> bytes:
    """One text message as the WhatsApp Cloud API posts it (unsigned: no app secret set)."""
    message = {
        "from": phone.lstrip("+"),
        "id": message_id,
        "timestamp": "1763720000",
        "type": "text",
        "text": {"body": text},
    }
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "22921300400", "phone_number_id": "106540352242922"},
        "contacts": [{"profile": {"name": "Afiavi"}, "wa_id": phone.lstrip("+")}],
        "messages": [message],
    }
    change = {"value": value, "field": "messages"}
    return json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"id": "8856996", "changes": [change]}]}
    ).encode()


def release_retries(app: Flask) -> int:
    """Queue every job waiting for a retry, as RQ's scheduler does once its time comes.

    Retries wait seconds to minutes; the tests do not. Returns how many were queued.
    """
    released = 0
    connection = get_redis(app)
    for name in QUEUE_NAMES:
        queue = Queue(name, connection=connection)
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=connection)
            registry.remove(job)
            queue.enqueue_job(job)
            released += 1
    return released
