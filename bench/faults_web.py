"""Webhooks under faults, against the app as deployed (bench/deployment.py).

Mixed traffic (bench/traffic.py) runs before, during and after each fault; every answer
is timed. Faults: Redis stopped; the database locked by another process (SQLite) or
refusing connections with its open ones cut (PostgreSQL, when one answers); the SMS
provider accepting connections and never answering. Figures: answer times and statuses
per phase and kind of request (the phase before the fault is the baseline), time from
the end of the fault to the first normal answer of each kind, and whether every message
the app took (200) was stored once and answered once, after the refused ones were posted
again as providers retry.

`python -m bench.faults_web` prints the markdown lines and writes nothing;
`make bench` (bench/run.py) adds them to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, create_engine, make_url, text

from bench.deployment import Deployment, deployed, gunicorn_options
from bench.exactly_once import Reckoning, reckon
from bench.stack import postgres_reachable
from bench.traffic import (
    KIND_NAMES,
    KINDS,
    USSD_DEADLINE_SECONDS,
    Latency,
    Messages,
    Outcome,
    Traffic,
    by_kind,
)
from bot.db import POSTGRES_CONNECT_TIMEOUT_SECONDS
from bot.redis import REDIS_TIMEOUT_SECONDS

WARMUP_SECONDS, BEFORE_SECONDS, FAULT_SECONDS, AFTER_SECONDS = 5, 10, 20, 10
"""Phases of each run; the warm-up (first walks fill the content caches) is not measured."""
RATE = 20
"""Requests per second, all kinds together: steady traffic, far below capacity."""
DRAIN_TIMEOUT_SECONDS = 240
FAST_SWEEP = {"SWEEP_INTERVAL_SECONDS": 5, "SWEEP_STALE_SECONDS": 10, "SWEEP_IN_DOUBT_SECONDS": 20}
"""Sends left in doubt by the hung provider are settled within the run, not in 10 minutes."""
PHASES = ("before", "during", "after")
HOLD_LIMIT_SECONDS = 120.0
"""A held call is closed after this even if the fault was never lifted."""


class HangingRelay(ThreadingHTTPServer):
    """Between the app and the fake AT: forwards each call, or while hanging takes the
    call and never answers (the connection closes when the hang is lifted)."""

    daemon_threads = True

    def __init__(self, target: str) -> None:
        super().__init__(("127.0.0.1", 0), _RelayHandler)
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.lifted = threading.Event()
        self.lifted.set()
        self.held = 0
        self.held_lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    def hang(self) -> None:
        self.lifted.clear()

    def lift(self) -> None:
        self.lifted.set()

    def close(self) -> None:
        self.lift()
        self.shutdown()
        self.server_close()


class _RelayHandler(BaseHTTPRequestHandler):
    server: HangingRelay

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the benchmark reads figures, not access logs."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not self.server.lifted.is_set():
            with self.server.held_lock:
                self.server.held += 1
            self.server.lifted.wait(timeout=HOLD_LIMIT_SECONDS)
            self.close_connection = True
            return
        upstream = http.client.HTTPConnection(*self.server.target, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request("POST", self.path, body, headers)
            answer = upstream.getresponse()
            payload = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type", "application/json"))
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


Action = Callable[[Deployment, HangingRelay], None]


@dataclass(frozen=True)
class WebFault:
    name: str
    kind: str  # the database: SQLite or PostgreSQL
    expected: str  # what the webhooks should answer meanwhile
    begin: Action
    end: Action


def redis_down() -> WebFault:
    return WebFault(
        "Redis stopped",
        "SQLite",
        "USSD the polite END, the others 503 with Retry-After",
        lambda deployment, _relay: deployment.redis.shut_down(),
        lambda deployment, _relay: deployment.redis.start(),
    )


def sqlite_locked() -> WebFault:
    holder: dict[str, sqlite3.Connection] = {}

    def begin(deployment: Deployment, _relay: HangingRelay) -> None:
        path = make_url(deployment.database_url).database
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        holder["connection"] = connection

    def end(_deployment: Deployment, _relay: HangingRelay) -> None:
        connection = holder.pop("connection")
        connection.execute("ROLLBACK")
        connection.close()

    return WebFault(
        "SQLite write-locked by another process",
        "SQLite",
        "messages 200 (buffered in Redis), USSD menus as usual (reads go on); a new"
        " caller's commune choice waits the autocommit engine's 1 s busy timeout, then the"
        " walk goes on without storing it",
        begin,
        end,
    )


@contextlib.contextmanager
def _postgres_admin(deployment: Deployment) -> Iterator[tuple[Connection, str]]:
    url = make_url(deployment.database_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            yield connection, str(url.database)
    finally:
        engine.dispose()


def _refuse_postgres(deployment: Deployment, _relay: HangingRelay) -> None:
    with _postgres_admin(deployment) as (connection, name):
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = :name AND pid <> pg_backend_pid()"
            ),
            {"name": name},
        )


def _allow_postgres(deployment: Deployment, _relay: HangingRelay) -> None:
    with _postgres_admin(deployment) as (connection, name):
        connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))


def postgres_down() -> WebFault:
    return WebFault(
        "PostgreSQL refusing, its connections cut",
        "PostgreSQL",
        "messages 200 (buffered in Redis), USSD the polite END",
        _refuse_postgres,
        _allow_postgres,
    )


def provider_hangs() -> WebFault:
    return WebFault(
        "SMS provider hangs (accepts, never answers)",
        "SQLite",
        "every webhook as before (they only queue); replies time out, then are settled",
        lambda _deployment, relay: relay.hang(),
        lambda _deployment, relay: relay.lift(),
    )


@dataclass(frozen=True)
class FaultRun:
    fault: str
    kind: str
    expected: str
    phases: dict[str, dict[str, Latency]]
    recovered: dict[str, float | None]  # seconds from the end of the fault to a normal answer
    retried: int
    still_refused: int
    drained: float | None  # seconds from the end of the fault until nothing is left to do
    reckoning: Reckoning
    held_calls: int
    late_starts: int  # requests the client sent over a second late: all its connections busy
    worker_restarts: int


def _first_normal(outcomes: list[Outcome], kind: str, lifted: float) -> float | None:
    normal = [o.started for o in outcomes if o.kind == kind and o.started >= lifted and o.ok]
    return min(normal) - lifted if normal else None


def _wait(deployment: Deployment, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment.supervise()
        time.sleep(0.2)


def run_fault(fault: WebFault) -> FaultRun:
    relays: list[HangingRelay] = []

    def provider_url(fake_url: str) -> str:
        relays.append(HangingRelay(fake_url))
        return relays[0].url

    with contextlib.ExitStack() as stack:
        # Every run's SMS sends pass the relay; only the hang fault makes it hang.
        deployment = stack.enter_context(
            deployed(fault.kind, provider_url=provider_url, **FAST_SWEEP)
        )
        relay = relays[0]
        stack.callback(relay.close)
        traffic = Traffic(deployment.web.port, Messages(deployment.web.url, "fault"), RATE)
        traffic.start()
        _wait(deployment, WARMUP_SECONDS)
        started = time.monotonic()
        _wait(deployment, BEFORE_SECONDS)
        faulted = time.monotonic()
        fault.begin(deployment, relay)
        try:
            _wait(deployment, FAULT_SECONDS)
        finally:
            fault.end(deployment, relay)
        lifted = time.monotonic()
        _wait(deployment, AFTER_SECONDS)
        stopped = time.monotonic()
        with traffic.ledger.lock:
            retried = len(traffic.ledger.to_retry)
        still_refused = traffic.retry_refused()
        # Traffic goes on meanwhile: reports of later messages are what settles a send
        # left in doubt (workers/sweeper.py), as on any working day.
        drained, reckoning = _drain(deployment, traffic, lifted, stopped)
        traffic.stop()
        ledger = traffic.ledger
        bounds = {"before": (started, faulted), "during": (faulted, lifted)}
        bounds["after"] = (lifted, stopped)
        return FaultRun(
            fault=fault.name,
            kind=fault.kind,
            expected=fault.expected,
            phases={phase: by_kind(ledger.between(*bounds[phase])) for phase in PHASES},
            recovered={kind: _first_normal(ledger.outcomes, kind, lifted) for kind in KINDS},
            retried=retried,
            still_refused=still_refused,
            drained=drained,
            reckoning=reckoning,
            held_calls=relay.held,
            late_starts=ledger.late_starts,
            worker_restarts=deployment.workers.restarts,
        )


def _drain(
    deployment: Deployment, traffic: Traffic, lifted: float, sent_before: float
) -> tuple[float | None, Reckoning]:
    """Until every message sent before `sent_before` is stored and answered; seconds after
    the fault's end, None if that does not come within DRAIN_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_SECONDS
    while True:
        counts = deployment.fake.state()["counts"]
        reckoning = reckon(deployment.engine, traffic.ledger, counts, sent_before)
        if reckoning.settled:
            return time.monotonic() - lifted, reckoning
        if time.monotonic() > deadline:
            return None, reckoning
        _wait(deployment, 1.0)


@dataclass
class Results:
    runs: list[FaultRun] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def faults() -> list[WebFault]:
    return [redis_down(), sqlite_locked(), postgres_down(), provider_hangs()]


def measure(only: str | None = None) -> Results:
    results = Results()
    for fault in faults():
        if only and only not in fault.name:
            continue
        if fault.kind == "PostgreSQL" and not postgres_reachable():
            results.unavailable.append(fault.name)
            continue
        began = time.monotonic()
        try:
            results.runs.append(run_fault(fault))
        except Exception as error:  # one broken scenario must not cost the others' figures
            traceback.print_exc()
            results.errors[fault.name] = f"{type(error).__name__}: {error}"
        results.seconds[fault.name] = time.monotonic() - began
    return results


def _cell(latency: Latency) -> str:
    return f"{latency.p50_ms:,.0f} / {latency.p99_ms:,.0f}" if latency.count else "-"


def _answers(latency: Latency) -> str:
    return ", ".join(f"{label}: {n}" for label, n in sorted(latency.statuses.items())) or "-"


def _ratio(during: Latency, before: Latency) -> str:
    if not during.count or not before.count or not before.p99_ms:
        return "-"
    return f"{during.p99_ms / before.p99_ms:.1f}"


def _seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "never"


def lines(results: Results) -> list[str]:
    """The markdown section for RESULTS.md."""
    out = [
        "## Webhook faults",
        "",
        f"- the app as deployed: gunicorn {' '.join(gunicorn_options())}, two RQ workers"
        " (`rq worker -w workers.worker.AppWorker`, one with the scheduler), a redis-server"
        " with its append-only file, the fake AT (bench/fake_at.py) posting delivery reports;"
        " Twilio and Meta webhooks signed",
        f"- traffic: {RATE} requests/s, open loop (sent on schedule, answered or not) on up to"
        " 48 keep-alive connections, in turn a USSD walk"
        " (dial, Cotonou, budget; a new caller each walk), an AT SMS, a Twilio WhatsApp and a"
        " Meta WhatsApp message, each from a number of its own;"
        f" {BEFORE_SECONDS} s before the fault (the baseline), {FAULT_SECONDS} s of fault,"
        f" {AFTER_SECONDS} s after; client timeout 20 s",
        f"- client timeouts of the app: Redis {REDIS_TIMEOUT_SECONDS:.0f} s (connect and each"
        f" answer), PostgreSQL connect {POSTGRES_CONNECT_TIMEOUT_SECONDS} s, SQLite"
        " busy_timeout 5 s, provider calls 3 s connect and 10 s read;"
        " " + ", ".join(f"{k}={v}" for k, v in FAST_SWEEP.items()),
        "- then every message refused meanwhile is posted again (as its provider retries),"
        " and, traffic going on, the run waits until every message sent up to the end of"
        f" the after phase is stored and answered (at most {DRAIN_TIMEOUT_SECONDS} s);"
        " exactly once: each stored once, each sender answered, each SMS reply accepted"
        " by the fake AT as often as the database says it was handed over",
        "- answer times p50 / p99 in ms; the ratio is the p99 during the fault over the p99"
        " before it (the baseline); recovered: seconds from the end of the fault to the"
        " first normal answer (200, and a USSD menu rather than the polite END)",
        "",
        "| fault | request | before | during | p99 ratio | answers during the fault | after"
        " | answers after | recovered in s |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: |",
    ]
    for run in results.runs:
        for kind in KINDS:
            before, during = run.phases["before"][kind], run.phases["during"][kind]
            after = run.phases["after"][kind]
            out.append(
                f"| {run.fault} | {KIND_NAMES[kind]} | {_cell(before)} | {_cell(during)}"
                f" | {_ratio(during, before)} | {_answers(during)} | {_cell(after)}"
                f" | {_answers(after)} | {_seconds(run.recovered[kind])} |"
            )
    out.append("")
    for run in results.runs:
        held = f"; {run.held_calls} provider calls held unanswered" if run.held_calls else ""
        late = f"; {run.late_starts} requests left late (client busy)" if run.late_starts else ""
        dropped = sum(run.phases[phase]["ussd"].over_deadline for phase in PHASES)
        out.append(
            f"- {run.fault} ({run.kind}): expected {run.expected}; USSD answers later than"
            f" AT's {USSD_DEADLINE_SECONDS:.0f} s (the caller was cut off): {dropped}."
            f" {run.retried} refused messages posted again ({run.still_refused} still refused);"
            f" everything stored and answered {_seconds(run.drained)} s after the fault ended;"
            f" {run.reckoning.describe()}: exactly once"
            f" {'yes' if run.reckoning.exactly_once else 'NO'}{held}{late};"
            f" worker restarts: {run.worker_restarts}"
        )
    out += [f"- {name}: not available (no PostgreSQL answers)" for name in results.unavailable]
    out += [f"- {name}: could not run: {error}" for name, error in results.errors.items()]
    out.append(
        "- time taken by each fault, setup included: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results.seconds.items())
    )
    return [*out, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description="Webhook faults; prints, writes nothing.")
    parser.add_argument("--only", help="only the faults whose name holds this")
    arguments = parser.parse_args()
    print("\n".join(lines(measure(arguments.only))))


if __name__ == "__main__":
    main()
