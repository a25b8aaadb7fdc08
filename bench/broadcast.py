"""Broadcasts end to end: throughput, exactly-once under faults, and the send rate.

Each scenario seeds a fresh database (SQLite, or a PostgreSQL database of its
own) with subscribers of Cotonou, starts its own redis-server, the fake AT
API (bench/fake_at.py), two RQ workers and, where delivery reports must come
back, the web app; then sends one broadcast with the CLI, as staff would, and
judges the result by what the fake API accepted, not by what the app says.

`python -m bench.broadcast` prints the markdown lines and writes nothing;
`make bench` (bench/run.py) adds them to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import subprocess
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, create_engine, func, insert, select

from bench.fake_at import REPORT_ATTEMPTS
from bench.stack import (
    FLASK,
    FakeAT,
    Processes,
    RedisServer,
    Web,
    Workers,
    app_env,
    database,
    free_port,
    postgres_reachable,
    prepare,
)
from bot.broadcasts.sending import BATCH_SIZE
from bot.models import Broadcast, Commune, Contact, OutboundMessage, Subscription
from bot.models.enums import MessageStatus

THROUGHPUT_N = KILL_N = 100_000
KILL_SMALL_N = 10_000
FAULT_N = 30_000
"""Refusals and Redis restarts: their retries wait out backoffs, not the database."""
RATE_N, RATE = 15_000, 200
"""At least 60 s of sending at the configured rate, so 10 s windows mean something."""
WINDOW_SECONDS = 10
FAST_RATE = 100_000
"""Throughput runs: the rate never binds, each AT call carries a whole batch."""
FAST_SWEEP = {"SWEEP_INTERVAL_SECONDS": 5, "SWEEP_STALE_SECONDS": 10, "SWEEP_IN_DOUBT_SECONDS": 20}
FAULT_DELAY = 0.05
"""Seconds the fake takes to answer in fault runs, as an API across a network would."""
TIMEOUT_SECONDS = 600
STALL_SECONDS = 90
TEXTS = {
    "fr": "Cotonou: la reddition des comptes de la mairie a lieu samedi a 10h, salle du conseil.",
    "en": "Cotonou: the town hall's accountability session is on Saturday at 10am, council hall.",
}
TARGET_SECONDS, TARGET_RSS_MB, TARGET_RATE_DEVIATION = 60, 300, 0.10
_IN_FLIGHT = (MessageStatus.QUEUED.value, MessageStatus.SENDING.value)
_COUNTERS = ("queued", "sent", "delivered", "failed", "skipped")


@dataclass(frozen=True)
class Audience:
    """The seeded subscribers, by the language of the text each must get."""

    by_text: dict[str, list[str]]

    @property
    def phones(self) -> set[str]:
        return {phone for phones in self.by_text.values() for phone in phones}


def seed(url: str, count: int) -> Audience:
    """`count` subscribers of Cotonou to reddition (a tenth to `all`), fr/en/unset, SMS/USSD."""
    languages = ("fr", "en", None)
    contacts = [
        {"phone_e164": f"+2290197{n:06d}", "language": languages[n % 3]} for n in range(count)
    ]
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            commune = connection.scalar(select(Commune.id).where(Commune.slug == "cotonou"))
            connection.execute(insert(Contact.__table__), contacts)
            ids = connection.execute(select(Contact.id).order_by(Contact.id)).scalars().all()
            connection.execute(
                insert(Subscription.__table__),
                [
                    {
                        "contact_id": contact_id,
                        "commune_id": commune,
                        "topic": "all" if n % 10 == 0 else "reddition",
                        # USSD subscribers get SMS: both channels land in the same calls.
                        "channel": "ussd" if n % 2 else "sms",
                        "active": True,
                    }
                    for n, contact_id in enumerate(ids)
                ],
            )
    finally:
        engine.dispose()
    by_text: dict[str, list[str]] = {"fr": [], "en": []}
    for contact in contacts:  # no language: the default, French
        by_text[contact["language"] or "fr"].append(contact["phone_e164"])
    return Audience(by_text)


@dataclass
class Run:
    """One broadcast through real processes; `started` is the CLI call (monotonic)."""

    processes: Processes
    env: dict[str, str]
    engine: Engine
    redis: RedisServer
    fake: FakeAT
    workers: Workers
    audience: Audience
    broadcast_id: int = 0
    started: float = 0.0
    started_wall: datetime = field(default_factory=lambda: datetime.now(UTC))

    def send(self) -> None:
        self.started, self.started_wall = time.monotonic(), datetime.now(UTC)
        texts = [arg for language, text in TEXTS.items() for arg in (f"--text-{language}", text)]
        command = [*FLASK, "broadcast", "send", "--commune", "cotonou", "--topic", "reddition"]
        answer = subprocess.run(
            [*command, *texts, "--channel", "sms", "--yes"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        found = re.search(r"broadcast (\d+) scheduled", answer)
        if found is None:
            raise RuntimeError(f"unexpected answer from broadcast send: {answer}")
        self.broadcast_id = int(found.group(1))

    def broadcast(self) -> dict[str, Any]:
        columns = [Broadcast.status, Broadcast.finished_at]
        columns += [getattr(Broadcast, f"count_{name}") for name in _COUNTERS]
        with self.engine.connect() as connection:
            row = connection.execute(
                select(*columns).where(Broadcast.id == self.broadcast_id)
            ).one()
        return {
            "status": row[0],
            "finished_at": row[1],
            **dict(zip(_COUNTERS, row[2:], strict=True)),
        }

    def in_flight(self) -> int:
        """Rows still queued or sending: a done broadcast must have none."""
        with self.engine.connect() as connection:
            return connection.scalar(
                select(func.count())
                .select_from(OutboundMessage)
                .where(
                    OutboundMessage.broadcast_id == self.broadcast_id,
                    OutboundMessage.status.in_(_IN_FLIGHT),
                )
            )

    def settle(self, timeout: float = TIMEOUT_SECONDS) -> float | None:
        """Seconds from the CLI call until `done` with no row queued or sending.

        None when that does not come within `timeout`, or when nothing moved for
        STALL_SECONDS: far beyond the sweeper's interval, waits and backoffs, so
        a broadcast standing still that long is stuck.
        """
        moved_at, seen = time.monotonic(), None
        while True:
            state = self.broadcast()
            if state["status"] == "done" and self.in_flight() == 0:
                return time.monotonic() - self.started
            now = time.monotonic()
            # Delivery reports count as movement: in-doubt rows wait for them.
            progress = (
                self.fake.count()["accepted"],
                state["status"],
                state["queued"],
                state["delivered"],
            )
            if progress != seen:
                moved_at, seen = now, progress
            if now - moved_at > STALL_SECONDS or now - self.started > timeout:
                return None
            self._tick()

    def wait_accepted(self, share: float) -> None:
        """Until the fake has taken `share` of the audience (to time a fault)."""
        wanted = share * len(self.audience.phones)
        self.wait_for(lambda: self.fake.count()["accepted"] >= wanted, f"{share:.0%} accepted")

    def wait_for(
        self, condition: Callable[[], bool], what: str, timeout: float = TIMEOUT_SECONDS
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what}: not within {timeout:.0f} s")
            self._tick()

    def _tick(self) -> None:
        # Workers that exit (Redis gone) are started again, as a supervisor would.
        self.workers.supervise()
        time.sleep(0.2)


@contextlib.contextmanager
def started(
    kind: str, count: int, *, reports: bool = False, fake: dict[str, Any] | None = None, **env: Any
) -> Iterator[Run]:
    """Everything up and the workers ready; stopped and removed on the way out, even on error."""
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bcast-")))
        url = stack.enter_context(database(kind, directory))
        processes = Processes(directory)
        stack.callback(processes.close)
        redis_server = RedisServer(processes)
        redis_server.start()
        web_port = free_port()
        report_url = f"http://127.0.0.1:{web_port}/webhooks/at/delivery" if reports else None
        fake_at = FakeAT(processes, report_url=report_url, **(fake or {}))
        settings = {"AT_API_BASE_URL": fake_at.url, **env}
        run_env = app_env(directory, url, redis_server.url, **settings)
        prepare(run_env)
        audience = seed(url, count)
        if reports:
            Web(processes, run_env, web_port)
        workers = Workers(processes, run_env)
        workers.wait_ready(redis_server.client())
        engine = create_engine(url)
        stack.callback(engine.dispose)
        yield Run(processes, run_env, engine, redis_server, fake_at, workers, audience)


@dataclass(frozen=True)
class Delivery:
    """What the fake API accepted, against the audience: exactly once is 0 twice, 0 never."""

    expected: int
    distinct: int
    twice: int
    never: int
    calls: list[tuple[float, int]]

    @classmethod
    def of(cls, run: Run, state: dict[str, Any] | None = None) -> Delivery:
        """From the fake's ledger (`state`, or read now)."""
        state = state or run.fake.state()
        counts: dict[str, int] = state["counts"]
        phones = run.audience.phones
        return cls(
            expected=len(phones),
            distinct=len(phones & counts.keys()),
            twice=sum(1 for times in counts.values() if times > 1),
            never=len(phones - counts.keys()),
            calls=[(moment, n) for moment, n in state["calls"]],
        )

    @property
    def exactly_once(self) -> bool:
        return self.twice == 0 and self.never == 0 and self.distinct == self.expected


@dataclass(frozen=True)
class Throughput:
    kind: str
    count: int
    cli_seconds: float
    handed_seconds: float  # CLI call to the fake's last acceptance
    done_seconds: float | None  # CLI call to the broadcast's finished_at; None: never done
    idle_rss_mib: float
    peak_rss_mib: list[float]
    baseline_seconds: float
    delivery: Delivery

    @property
    def rate(self) -> float:
        return self.delivery.distinct / self.handed_seconds

    @property
    def baseline_rate(self) -> float:
        return self.count / self.baseline_seconds

    @property
    def met(self) -> bool:
        return (
            self.done_seconds is not None
            and self.handed_seconds <= TARGET_SECONDS
            and max(self.peak_rss_mib) * 2**20 < TARGET_RSS_MB * 10**6
            and self.delivery.exactly_once
        )


def throughput(kind: str, count: int) -> Throughput:
    with started(kind, count, SEND_RATE_SMS=FAST_RATE) as run:
        idle = max(_rss_mib(process.pid) for process in run.workers.running)
        run.send()
        cli_seconds = time.monotonic() - run.started
        done = run.settle() is not None
        finished_at = run.broadcast()["finished_at"]
        run.workers.stop()  # reads each worker's VmHWM first
        delivery = Delivery.of(run)
        baseline = plain_loop(FakeAT(run.processes, name="fake_at_baseline"), run.audience)
    return Throughput(
        kind=kind,
        count=count,
        cli_seconds=cli_seconds,
        handed_seconds=max(moment for moment, _n in delivery.calls) - run.started,
        done_seconds=(_aware(finished_at) - run.started_wall).total_seconds() if done else None,
        idle_rss_mib=idle,
        peak_rss_mib=[kib / 1024 for kib in run.workers.peak_rss_kib],
        baseline_seconds=baseline,
        delivery=delivery,
    )


def plain_loop(fake: FakeAT, audience: Audience) -> float:
    """The baseline: the same recipients and form, 500 a call, one keep-alive session."""
    session = requests.Session()
    headers = {"apiKey": "bench", "Accept": "application/json"}
    started_at = time.perf_counter()
    for language, phones in audience.by_text.items():
        for at in range(0, len(phones), BATCH_SIZE):
            form = {
                "username": "bench",
                "to": ",".join(phones[at : at + BATCH_SIZE]),
                "message": TEXTS[language],
                "bulkSMSMode": 1,
            }
            answer = session.post(f"{fake.url}/version1/messaging", data=form, headers=headers)
            answer.raise_for_status()
            answer.json()
    return time.perf_counter() - started_at


@dataclass(frozen=True)
class Fault:
    name: str
    count: int
    seconds: float | None  # CLI call until done with nothing queued or sending; None: stuck
    gave_up: float  # when the wait ended, done or not
    delivery: Delivery
    counters: dict[str, int]
    notes: str


@dataclass(frozen=True)
class FaultPlan:
    name: str
    count: int
    inject: Callable[[Run], str]
    reports: bool = False  # the web app runs and the fake posts delivery reports to it
    fail_fraction: float = 0.0


def fault(plan: FaultPlan, count: int) -> Fault:
    """A broadcast with a fault injected and fast sweeps; judged on what the fake accepted."""
    settings = {"SEND_RATE_SMS": FAST_RATE, **FAST_SWEEP}
    fake = {"delay": FAULT_DELAY, "fail_fraction": plan.fail_fraction}
    with started("SQLite", count, reports=plan.reports, fake=fake, **settings) as run:
        run.send()
        notes = [plan.inject(run)]
        seconds = run.settle()
        gave_up = time.monotonic() - run.started
        state = run.broadcast()  # one read: delivery reports move the counters meanwhile
        counters = {name: state[name] for name in _COUNTERS}
        ledger = run.fake.state()
        delivery = Delivery.of(run, ledger)
        if plan.fail_fraction:
            calls = len(ledger["calls"]) + ledger["refused"]
            notes.append(f"the fake refused {ledger['refused']} of {calls} calls")
        if plan.reports:
            notes.append(_reports(ledger, gave_up))
        notes.append(f"sweeper: {_swept(run.processes.directory) or 'nothing to do'}")
        notes.append(f"worker restarts: {run.workers.restarts}")
    return Fault(plan.name, count, seconds, gave_up, delivery, counters, "; ".join(notes))


def kill_worker(run: Run) -> str:
    """kill -9 inside an AT call: the fake has taken the recipients, the worker never hears."""
    run.wait_accepted(1 / 3)
    run.fake.hold()
    try:
        # A worker has one call in flight at most: two held calls, both workers are inside one.
        run.wait_for(lambda: run.fake.count()["held"] >= 2, "both workers inside a call", 4)
        run.workers.kill(1)
    finally:
        run.fake.release()
    time.sleep(1)  # a supervisor's restart delay
    run.workers.restart(1)
    return "kill -9 of worker 2 inside a call, once a third was accepted; restarted 1 s later"


def _reports(ledger: dict[str, Any], seconds: float) -> str:
    taken, lost = ledger["reports_posted"], ledger["reports_lost"]
    return (
        f"the app had taken {taken:,} delivery reports by then ({taken / seconds:.0f}/s),"
        f" the latest {ledger['report_lag']:.0f} s after its acceptance"
        + (f"; {lost:,} reports refused {REPORT_ATTEMPTS} times" if lost else "")
    )


def refusals(_run: Run) -> str:
    return "the fake answers a random 20% of calls 500 or 429 (half each), taking nothing"


def restart_redis(clean: bool) -> Callable[[Run], str]:
    def inject(run: Run) -> str:
        run.wait_accepted(1 / 3)
        if clean:
            run.redis.shut_down()
        else:
            run.redis.kill()
        time.sleep(2)
        run.redis.start()
        return f"Redis {'SHUTDOWN' if clean else 'SIGKILL'} at a third, back after 2 s"

    return inject


def _swept(directory: Path) -> str:
    """The sweeper's work in this run, summed from the workers' JSON logs."""
    totals: dict[str, int] = {}
    for log in directory.glob("worker-*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if '"message": "sweep"' not in line:
                continue
            entry = json.loads(line)
            for key in ("restarted", "adopted", "resent", "requeued", "finished"):
                totals[key] = totals.get(key, 0) + int(entry.get(key, 0))
    return ", ".join(f"{key} {value}" for key, value in totals.items() if value)


@dataclass(frozen=True)
class Rate:
    """The pace of acceptances, measured between acceptance instants.

    Permits come a second's worth at a time, so acceptances are steps: counting
    them in fixed windows would swing by a whole step (10% of a 10 s window at
    200/s) with where the window edges fall. Measured from one call to a later
    one instead (what came after the first, up to and including the last, over
    the time between them), a steady pace reads as itself.
    """

    configured: int
    count: int
    seconds: float
    measured: float
    windows: list[float]

    @property
    def deviation(self) -> float:
        worst = max([self.measured, *self.windows], key=lambda rate: abs(rate - self.configured))
        return (worst - self.configured) / self.configured


def send_rate(count: int) -> Rate:
    with started("SQLite", count, SEND_RATE_SMS=RATE) as run:
        run.send()
        if run.settle(TIMEOUT_SECONDS + count / RATE) is None:
            raise RuntimeError(f"the send rate broadcast did not finish: {run.broadcast()}")
        calls = sorted(Delivery.of(run).calls)
    windows, first = [], 0
    for last, (moment, _n) in enumerate(calls):
        if moment - calls[first][0] >= WINDOW_SECONDS:
            windows.append(_pace(calls[first : last + 1]))
            first = last
    seconds = calls[-1][0] - calls[0][0]
    return Rate(RATE, sum(n for _t, n in calls), seconds, _pace(calls), windows)


def _pace(calls: list[tuple[float, int]]) -> float:
    """Recipients accepted after the first call up to the last, per second between them."""
    return sum(n for _t, n in calls[1:]) / (calls[-1][0] - calls[0][0])


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back naive; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Results:
    throughput: list[Throughput] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # scenarios that could not run


def measure(scale: int | None = None, only: str | None = None) -> Results:
    """Every scenario, or those whose name holds `only`; `scale` caps the subscribers."""
    results = Results()

    def size(n: int) -> int:
        return min(n, scale) if scale else n

    def timed(name: str, into: list[Any], scenario: Callable[..., Any], *args: Any) -> None:
        if only and only not in name:
            return
        began = time.monotonic()
        try:
            into.append(scenario(*args))
        except Exception as error:  # one broken scenario must not cost the others' figures
            traceback.print_exc()
            results.errors[name] = f"{type(error).__name__}: {error}"
        results.seconds[name] = time.monotonic() - began

    for kind in ("SQLite", "PostgreSQL"):
        if kind == "PostgreSQL" and not postgres_reachable():
            results.unavailable.append(kind)
            continue
        timed(f"throughput {kind}", results.throughput, throughput, kind, size(THROUGHPUT_N))
    for plan in FAULTS:
        timed(plan.name, results.faults, fault, plan, size(plan.count))
    timed("send rate", results.rates, send_rate, size(RATE_N))
    return results


def lines(results: Results) -> list[str]:
    """The markdown sections for RESULTS.md."""
    return [
        *_broadcast_lines(results),
        *_fault_lines(results.faults),
        *_rate_lines(results.rates),
        *[f"- {name}: could not run: {error}" for name, error in results.errors.items()],
        "- time taken by each scenario, setup included: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in results.seconds.items()),
        "",
    ]


def _broadcast_lines(results: Results) -> list[str]:
    lines = [
        "## Broadcast",
        "",
        "- one broadcast sent with `flask broadcast send` to subscribers of Cotonou (topic"
        " reddition, languages fr/en/unset and SMS/USSD subscriptions: two texts), two RQ"
        " workers (`workers.worker.AppWorker`, one with the scheduler), each its own process;"
        f" SEND_RATE_SMS={FAST_RATE} so every AT bulk call carries a batch of {BATCH_SIZE}",
        "- the AT bulk SMS API is a fake (bench/fake_at.py) in its own process on loopback;"
        " time runs from the CLI call until the fake accepted the last recipient",
        "- baseline: a plain loop posting the same recipients, 500 a call with the same form"
        " fields, to the same fake API, sequentially on one keep-alive requests.Session, in"
        " the same run; worker RSS: peak (VmHWM) of each worker, beside the same worker idle"
        " before the broadcast",
    ]
    for kind in results.unavailable:
        lines.append(f"- {kind}: not available")
    for run in results.throughput:
        rss = " and ".join(f"{mib:.0f}" for mib in run.peak_rss_mib)
        done = (
            f"`done` {run.done_seconds:.1f} s after the call"
            if run.done_seconds is not None
            else "NOT done"
        )
        lines.append(
            f"- {run.kind}: CLI answered in {run.cli_seconds:.1f} s, broadcast {done};"
            f" accepted by the fake: {run.delivery.distinct:,} of {run.count:,},"
            f" {run.delivery.twice} twice; target all within {TARGET_SECONDS} s, each worker"
            f" under {TARGET_RSS_MB} MB: {run.handed_seconds:.1f} s, {rss} MiB"
            f" ({'met' if run.met else 'NOT met'})"
        )
    lines += [
        "",
        "| figure | Communes+ | baseline: plain loop | ratio |",
        "| --- | ---: | ---: | ---: |",
    ]
    for run in results.throughput:
        peak = max(run.peak_rss_mib)
        lines += [
            f"| {run.kind}: {run.count:,} SMS handed over, s | {run.handed_seconds:.1f}"
            f" | {run.baseline_seconds:.1f} | {run.handed_seconds / run.baseline_seconds:.1f} |",
            f"| {run.kind}: messages/s | {run.rate:,.0f} | {run.baseline_rate:,.0f}"
            f" | {run.rate / run.baseline_rate:.3f} |",
            f"| {run.kind}: worker peak RSS MiB (baseline: idle) | {peak:.1f}"
            f" | {run.idle_rss_mib:.1f} | {peak / run.idle_rss_mib:.2f} |",
        ]
    return [*lines, ""]


def _fault_lines(faults: list[Fault]) -> list[str]:
    if not faults:
        return []
    sweep = ", ".join(f"{key}={value}" for key, value in FAST_SWEEP.items())
    lines = [
        "## Faults",
        "",
        f"- SQLite, two workers run as the Procfile does (`rq worker -w"
        f" workers.worker.AppWorker`), SEND_RATE_SMS={FAST_RATE}, {sweep}; the fake answers"
        f" each call {FAULT_DELAY * 1000:.0f} ms after taking its recipients",
        "- kill -9: the web app runs (gunicorn, 1 worker, 4 threads) and the fake posts it one"
        " delivery report per accepted recipient, 1 s after accepting it, from 4 keep-alive"
        " connections; once a third is accepted the fake holds its answers until both workers"
        " are inside a call (recipients taken, no answer yet), worker 2 (not the scheduler's)"
        " is killed, answers resume, and worker 2 is started again 1 s later",
        "- Redis: stopped once a third is accepted, started again 2 s later on the same"
        " append-only file; workers that exit meanwhile are started again, as a supervisor"
        " would",
        "- exactly once: every subscriber accepted by the fake API once, none twice, none"
        " never; time from the CLI call until the broadcast is `done` with no row queued or"
        " sending; a run where nothing is accepted, reported or settled for"
        f" {STALL_SECONDS} s (or that runs {TIMEOUT_SECONDS} s) is stuck; counters as the"
        " wait ended",
        "",
        "| fault | subscribers | accepted | accepted twice | never accepted | exactly once"
        " | done in s | queued / sent / delivered / failed / skipped | what happened |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for run in faults:
        counters = " / ".join(f"{run.counters[name]:,}" for name in _COUNTERS)
        delivery = run.delivery
        lines.append(
            f"| {run.name} | {run.count:,} | {delivery.distinct:,} | {delivery.twice:,}"
            f" | {delivery.never:,} | {'yes' if delivery.exactly_once else 'NO'}"
            f" | {_done(run)} | {counters} | {run.notes} |"
        )
    return [*lines, ""]


def _done(run: Fault) -> str:
    return f"{run.seconds:.1f}" if run.seconds is not None else f"stuck ({run.gave_up:.0f})"


def _rate_lines(rates: list[Rate]) -> list[str]:
    lines = []
    for rate in rates:
        met = abs(rate.deviation) <= TARGET_RATE_DEVIATION
        lines.append(
            f"- send rate: SEND_RATE_SMS={rate.configured}, {rate.count:,} subscribers, two"
            f" workers: measured {rate.measured:.1f}/s over the run ({rate.seconds:.1f} s from"
            f" first to last acceptance); {len(rate.windows)} windows of {WINDOW_SECONDS} s:"
            f" {min(rate.windows, default=0):.1f} to {max(rate.windows, default=0):.1f}/s;"
            " worst deviation"
            f" {rate.deviation:+.1%} (target within {TARGET_RATE_DEVIATION:.0%}:"
            f" {'met' if met else 'NOT met'}); rates are measured between acceptance instants,"
            " as the token bucket hands permits out a second's worth at a time"
        )
    return lines


FAULTS = [
    # Only a killed worker leaves handovers in doubt: the reports must settle them. They
    # reach the app at its pace, not the sending pace: the small broadcast's keep up with
    # SWEEP_IN_DOUBT_SECONDS, the large one's fall behind it.
    FaultPlan("kill -9 a worker", KILL_N, kill_worker, reports=True),
    FaultPlan("kill -9 a worker, small broadcast", KILL_SMALL_N, kill_worker, reports=True),
    FaultPlan("20% of calls refused", FAULT_N, refusals, fail_fraction=0.2),
    FaultPlan("Redis SHUTDOWN", FAULT_N, restart_redis(clean=True)),
    FaultPlan("Redis SIGKILL", FAULT_N, restart_redis(clean=False)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description="Broadcast benchmarks; prints, writes nothing.")
    parser.add_argument("--scale", type=int, help="at most this many subscribers per scenario")
    parser.add_argument("--only", help="only the scenarios whose name holds this")
    arguments = parser.parse_args()
    print("\n".join(lines(measure(arguments.scale, arguments.only))))


if __name__ == "__main__":
    main()
