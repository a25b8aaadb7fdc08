"""A fast fake of Africa's Talking's bulk SMS API, for the broadcast benchmark.

It answers `POST /version1/messaging` as AT does (201, one entry per recipient),
counts every recipient it accepted and when, can refuse a share of the calls
(500 or 429: nothing taken, nothing counted), can be slow to answer, and can
POST one delivery report per accepted recipient to the app, as AT does.

Run it as its own process (`python -m bench.fake_at --port N ...`): it then has
a core and a GIL of its own, like the real API on the far side of a network,
and `GET /_bench/count` and `GET /_bench/state` tell the benchmark what it took.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import random
import signal
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

MESSAGING_PATH = "/version1/messaging"
HOLD_SECONDS = 5.0
REPORT_ATTEMPTS = 5
"""A report the app refused or could not take is posted again, as AT retries callbacks."""


@dataclass(frozen=True)
class Settings:
    fail_fraction: float = 0.0  # share of calls answered 500 or 429 (half each)
    delay: float = 0.0  # seconds between taking a call's recipients and answering
    report_url: str | None = None  # where delivery reports go; None: no reports
    report_delay: float = 1.0  # seconds from acceptance to its report
    report_threads: int = 4


class Ledger:
    """What the fake accepted: recipients with how many times, and each call's time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.calls: list[tuple[float, int]] = []  # (monotonic time, recipients accepted)
        self.refused = 0
        self.reports_posted = self.reports_lost = 0
        self.report_lag = 0.0  # acceptance to report, for the latest report the app took
        self._ids = count(1)

    def accept(self, numbers: list[str]) -> list[str]:
        """Take the recipients; their message ids, unique across the run."""
        with self._lock:
            self.counts.update(numbers)
            self.calls.append((time.monotonic(), len(numbers)))
            return [f"ATXid_{next(self._ids)}" for _ in numbers]

    def refuse(self) -> None:
        with self._lock:
            self.refused += 1

    def reported(self, ok: bool, lag: float) -> None:
        with self._lock:
            if ok:
                self.reports_posted += 1
                self.report_lag = lag
            else:
                self.reports_lost += 1

    def accepted(self) -> int:
        with self._lock:
            return sum(n for _t, n in self.calls)

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {
                "counts": dict(self.counts),
                "calls": list(self.calls),
                "refused": self.refused,
                "reports_posted": self.reports_posted,
                "reports_lost": self.reports_lost,
                "report_lag": self.report_lag,
            }


class Reporter:
    """Delivery reports from a few threads, each on one keep-alive connection."""

    def __init__(self, url: str, delay: float, threads: int, ledger: Ledger) -> None:
        parts = urlsplit(url)
        self._host, self._port, self._path = parts.hostname, parts.port, parts.path
        self._delay = delay
        self._ledger = ledger
        self._queue: queue.Queue[tuple[float, str, str]] = queue.Queue()
        for _ in range(threads):
            threading.Thread(target=self._run, daemon=True).start()

    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def add(self, message_ids: list[str], numbers: list[str]) -> None:
        due = time.monotonic() + self._delay
        for message_id, number in zip(message_ids, numbers, strict=True):
            self._queue.put((due, message_id, number))

    def _run(self) -> None:
        connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
        while True:
            due, message_id, number = self._queue.get()
            time.sleep(max(0.0, due - time.monotonic()))
            body = urlencode(
                {
                    "id": message_id,
                    "status": "Success",
                    "phoneNumber": number,
                    "networkCode": "61000",
                    "failureReason": "",
                    "retryCount": "0",
                }
            )
            connection, ok = self._post(connection, body)
            self._ledger.reported(ok, time.monotonic() - (due - self._delay))
            self._queue.task_done()

    def _post(
        self, connection: http.client.HTTPConnection, body: str
    ) -> tuple[http.client.HTTPConnection, bool]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        for attempt in range(REPORT_ATTEMPTS):
            try:
                connection.request("POST", self._path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    return connection, True
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(self._host, self._port, timeout=30)
            time.sleep(0.5 * (attempt + 1))
        return connection, False


class Hold:
    """Answers withheld on request, so the benchmark can kill a worker inside a call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._released.set()
        self.waiting = 0

    def start(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def wait(self) -> None:
        if self._released.is_set():
            return
        with self._lock:
            self.waiting += 1
        # Bounded: the callers' read timeout is 10 s, and a forgotten hold must not hang.
        self._released.wait(timeout=HOLD_SECONDS)
        with self._lock:
            self.waiting -= 1


class FakeAT(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the product opens a connection per call, in bursts

    def __init__(self, port: int, settings: Settings) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.settings = settings
        self.ledger = Ledger()
        self.reporter = (
            Reporter(
                settings.report_url, settings.report_delay, settings.report_threads, self.ledger
            )
            if settings.report_url
            else None
        )
        self.hold = Hold()
        self.random = random.Random(20261122)
        self.random_lock = threading.Lock()

    def refuses(self) -> int | None:
        """The status of a refused call (500 or 429), or None to accept this one."""
        with self.random_lock:
            draw = self.random.random()
        if draw >= self.settings.fail_fraction:
            return None
        return 500 if draw < self.settings.fail_fraction / 2 else 429


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as AT's HTTPS endpoint offers
    server: FakeAT

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes: with Nagle on, the body
        # would wait for the client's delayed ACK (40 ms per call on loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: a line per call would cost more than the call."""

    def do_GET(self) -> None:
        ledger = self.server.ledger
        if self.path == "/_bench/count":
            reporter = self.server.reporter
            pending = reporter.pending() if reporter else 0
            held = self.server.hold.waiting
            self._json(
                200, {"accepted": ledger.accepted(), "reports_pending": pending, "held": held}
            )
        elif self.path == "/_bench/state":
            self._json(200, ledger.state())
        else:
            self._json(404, {"error": "not found"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path in ("/_bench/hold", "/_bench/release"):
            if self.path == "/_bench/hold":
                self.server.hold.start()
            else:
                self.server.hold.release()
            self._json(200, {"held": self.server.hold.waiting})
            return
        if self.path != MESSAGING_PATH:
            self._json(404, {"error": "not found"})
            return
        form = {key: values[0] for key, values in parse_qs(body.decode()).items()}
        if not self.headers.get("apiKey") or "to" not in form or "message" not in form:
            self._json(401, {"error": "missing apiKey, to or message"})
            return
        refused = self.server.refuses()
        if refused is not None:
            self.server.ledger.refuse()
            self._json(refused, {"error": "try again later"})
            return
        numbers = form["to"].split(",")
        message_ids = self.server.ledger.accept(numbers)
        if self.server.reporter:
            self.server.reporter.add(message_ids, numbers)
        # Taken first, answered after the delay (or the hold): a caller dying
        # meanwhile leaves messages AT has and the caller never heard of.
        time.sleep(self.server.settings.delay)
        self.server.hold.wait()
        self._json(201, _answer(numbers, message_ids))

    def _json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _answer(numbers: list[str], message_ids: list[str]) -> dict[str, Any]:
    return {
        "SMSMessageData": {
            "Message": f"Sent to {len(numbers)}/{len(numbers)} Total Cost: XOF {20 * len(numbers)}",
            "Recipients": [
                {
                    "statusCode": 101,
                    "number": number,
                    "status": "Success",
                    "cost": "XOF 20.0000",
                    "messageId": message_id,
                }
                for number, message_id in zip(numbers, message_ids, strict=True)
            ],
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fail-fraction", type=float, default=0.0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--report-url", default=None)
    parser.add_argument("--report-delay", type=float, default=1.0)
    arguments = parser.parse_args()
    settings = Settings(
        fail_fraction=arguments.fail_fraction,
        delay=arguments.delay,
        report_url=arguments.report_url,
        report_delay=arguments.report_delay,
    )
    server = FakeAT(arguments.port, settings)
    # SIGTERM ends serve_forever cleanly; shutdown() must come from another thread.
    signal.signal(
        signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    )
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
