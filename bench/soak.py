"""The soak: SOAK_SECONDS (default 600) of mixed traffic and a broadcast, memory watched.

The app as deployed (bench/deployment.py: gunicorn with `make bench`'s settings, two RQ
workers, redis-server, SQLite, the fake AT posting delivery reports) takes steady mixed
traffic (bench/traffic.py: USSD walks, AT SMS, signed Twilio and Meta WhatsApp messages)
while one broadcast goes to a large set of subscribers at a modest send rate, sized to
last most of the soak. The RSS of every process is sampled; at the end: growth of each
process (median of the first minute against median of the last), answers by status,
error lines in the logs, and the exactly-once checks: every message taken stored once
and answered, every SMS reply and every broadcast recipient accepted by the fake once.

`SOAK_SECONDS=60 python -m bench.soak` prints the markdown lines and writes nothing;
`make bench` (bench/run.py) adds them to bench/RESULTS.md.
"""

from __future__ import annotations

import os
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from bench.broadcast import TEXTS, Audience, seed
from bench.deployment import Deployment, deployed, gunicorn_options, run_cli
from bench.exactly_once import IN_FLIGHT, Reckoning, reckon
from bench.traffic import KIND_NAMES, KINDS, Latency, Messages, Traffic, by_kind
from bot.models import Broadcast, OutboundMessage

SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "600"))
RATE = 20
"""Webhook requests per second, all kinds together (a USSD hop counts one)."""
BROADCAST_RATE = 20
"""SEND_RATE_SMS during the soak: a modest rate, so the broadcast lasts."""
BROADCAST_SHARE = 0.8
"""The audience is what the rate sends in this share of the soak."""
WARMUP_SECONDS = 5
SAMPLE_SECONDS = 10.0
WINDOW_SECONDS = 60.0
"""Growth compares the median RSS of the first and of the last minute."""
SETTLE_SECONDS = 300
"""After the traffic stops: how long everything may take to be stored, answered and sent."""
FLAT_RATIO = 1.05
"""Growth under 5% from the first minute to the last reads as flat."""
_ERROR_LINE = re.compile(r'"level": "(error|critical)"|Traceback|\[ERROR\]|\[CRITICAL\]')


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:  # the process has gone (a restarted worker)
        return None
    return None


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the soak started
    process: str
    pid: int
    rss_kib: int


class Sampler:
    """RSS of every process of the deployment, every `interval` seconds, on a thread."""

    def __init__(self, deployment: Deployment, interval: float) -> None:
        self.deployment = deployment
        self.interval = interval
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = 0.0

    def processes(self) -> dict[str, int]:
        deployment = self.deployment
        found = {"gunicorn master": deployment.web.process.pid}
        for number, pid in enumerate(sorted(deployment.web.worker_pids()), start=1):
            found[f"gunicorn worker {number}"] = pid
        for number, process in enumerate(deployment.workers.running, start=1):
            found[f"rq worker {number}"] = process.pid
        assert deployment.redis.process is not None
        found["redis-server"] = deployment.redis.process.pid
        return found

    def start(self) -> None:
        self.started = time.monotonic()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)

    def _run(self) -> None:
        while True:
            at = time.monotonic() - self.started
            for process, pid in self.processes().items():
                rss = _rss_kib(pid)
                if rss is not None:
                    self.samples.append(Sample(at, process, pid, rss))
            if self._stop.wait(self.interval):
                return


@dataclass(frozen=True)
class Growth:
    process: str
    first_mib: float
    last_mib: float
    pids: int  # more than one: the process was restarted during the soak

    @property
    def mib(self) -> float:
        return self.last_mib - self.first_mib

    @property
    def ratio(self) -> float:
        return self.last_mib / self.first_mib


def growth(samples: list[Sample], seconds: float, window: float) -> list[Growth]:
    found = []
    for process in dict.fromkeys(s.process for s in samples):
        mine = [s for s in samples if s.process == process]
        first = [s.rss_kib for s in mine if s.at <= window]
        last = [s.rss_kib for s in mine if s.at >= seconds - window]
        if not first or not last:
            continue
        found.append(
            Growth(
                process,
                statistics.median(first) / 1024,
                statistics.median(last) / 1024,
                len({s.pid for s in mine}),
            )
        )
    return found


@dataclass(frozen=True)
class RedisCensus:
    """What Redis holds at the end: its growth is data, or a leak if it never expires."""

    used_mib: float
    keys: dict[str, int]  # by kind (the key's leading words)
    without_expiry: dict[str, int]


def _key_kind(key: bytes) -> str:
    parts = key.decode(errors="replace").split(":")
    return ":".join(parts[:2]) if parts[0] == "rq" else parts[0]


def redis_census(deployment: Deployment) -> RedisCensus:
    client = deployment.redis.client()
    keys: Counter[str] = Counter()
    without_expiry: Counter[str] = Counter()
    for key in client.scan_iter(count=1000):
        kind = _key_kind(key)
        keys[kind] += 1
        if client.ttl(key) == -1:
            without_expiry[kind] += 1
    used = int(client.info("memory")["used_memory"])
    return RedisCensus(used / 2**20, dict(keys), dict(without_expiry))


@dataclass(frozen=True)
class BroadcastCheck:
    audience: int
    accepted: int  # distinct subscribers the fake accepted
    twice: int
    never: int
    status: str
    in_flight: int
    counters: dict[str, int]
    seconds: float | None  # from the CLI call to `done`

    @property
    def exactly_once(self) -> bool:
        return self.twice == 0 and self.never == 0 and self.accepted == self.audience


@dataclass
class Soak:
    seconds: float
    window: float
    interval: float
    audience: int
    latency: dict[str, Latency] = field(default_factory=dict)
    growth: list[Growth] = field(default_factory=list)
    samples: int = 0
    error_lines: dict[str, int] = field(default_factory=dict)
    still_refused: int = 0
    reckoning: Reckoning | None = None
    broadcast: BroadcastCheck | None = None
    settled_seconds: float | None = None
    worker_restarts: int = 0
    redis: RedisCensus | None = None


def _send_broadcast(deployment: Deployment) -> int:
    texts = [arg for language, text in TEXTS.items() for arg in (f"--text-{language}", text)]
    answer = run_cli(
        deployment,
        *("broadcast", "send", "--commune", "cotonou", "--topic", "reddition"),
        *texts,
        *("--channel", "sms", "--yes"),
    )
    found = re.search(r"broadcast (\d+) scheduled", answer)
    if found is None:
        raise RuntimeError(f"unexpected answer from broadcast send: {answer}")
    return int(found.group(1))


def _broadcast_state(deployment: Deployment, broadcast_id: int) -> tuple[str, int, dict[str, int]]:
    names = ("queued", "sent", "delivered", "failed", "skipped")
    with deployment.engine.connect() as connection:
        row = connection.execute(
            select(Broadcast.status, *[getattr(Broadcast, f"count_{n}") for n in names]).where(
                Broadcast.id == broadcast_id
            )
        ).one()
        in_flight = connection.scalar(
            select(func.count())
            .select_from(OutboundMessage)
            .where(
                OutboundMessage.broadcast_id == broadcast_id, OutboundMessage.status.in_(IN_FLIGHT)
            )
        )
    return str(row[0]), int(in_flight or 0), dict(zip(names, row[1:], strict=True))


def _check_broadcast(audience: Audience, counts: dict[str, int]) -> tuple[int, int, int]:
    """Subscribers the fake accepted, accepted more than once, never accepted."""
    phones = audience.phones
    accepted = len(phones & counts.keys())
    twice = sum(1 for phone in phones if counts.get(phone, 0) > 1)
    return accepted, twice, len(phones - counts.keys())


def _error_lines(directory: Path) -> dict[str, int]:
    found = {}
    for log in sorted(directory.glob("*.log")):
        if log.stem.startswith("fake_at"):
            continue
        text = log.read_text(errors="replace")
        found[log.stem] = sum(1 for line in text.splitlines() if _ERROR_LINE.search(line))
    return found


def _wait(deployment: Deployment, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        deployment.supervise()
        time.sleep(0.5)


def _until(deployment: Deployment, done: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        _wait(deployment, 1.0)
    return True


def measure(seconds: int = SOAK_SECONDS) -> Soak:
    window = min(WINDOW_SECONDS, seconds / 3)
    interval = min(SAMPLE_SECONDS, window / 3)
    audience_size = int(BROADCAST_RATE * seconds * BROADCAST_SHARE)
    audiences: list[Audience] = []

    def seed_audience(url: str) -> None:
        audiences.append(seed(url, audience_size))

    soak = Soak(float(seconds), window, interval, audience_size)
    with deployed(SEND_RATE_SMS=BROADCAST_RATE, seed=seed_audience) as deployment:
        traffic = Traffic(deployment.web.port, Messages(deployment.web.url, "soak"), RATE)
        traffic.start()
        _wait(deployment, WARMUP_SECONDS)
        sampler = Sampler(deployment, interval)
        sampler.start()
        began = time.monotonic()
        broadcast_id = _send_broadcast(deployment)
        _wait(deployment, seconds - (time.monotonic() - began))
        sampler.stop()
        traffic.stop()
        ended = time.monotonic()
        soak.latency = by_kind(traffic.ledger.between(began, ended))
        soak.still_refused = traffic.retry_refused()

        def settled() -> bool:
            counts = deployment.fake.state()["counts"]
            status, in_flight, _counters = _broadcast_state(deployment, broadcast_id)
            done = status == "done" and in_flight == 0
            return done and reckon(deployment.engine, traffic.ledger, counts).settled

        remaining = audience_size / BROADCAST_RATE
        if _until(deployment, settled, SETTLE_SECONDS + remaining):
            soak.settled_seconds = time.monotonic() - ended
        counts = deployment.fake.state()["counts"]
        soak.reckoning = reckon(deployment.engine, traffic.ledger, counts)
        state = _broadcast_state(deployment, broadcast_id)
        accepted, twice, never = _check_broadcast(audiences[0], counts)
        finished = _finished_after(deployment, broadcast_id)
        soak.broadcast = BroadcastCheck(
            audience_size, accepted, twice, never, state[0], state[1], state[2], finished
        )
        soak.growth = growth(sampler.samples, seconds, window)
        soak.samples = len(sampler.samples)
        soak.worker_restarts = deployment.workers.restarts
        soak.error_lines = _error_lines(deployment.directory)
        soak.redis = redis_census(deployment)
    return soak


def _finished_after(deployment: Deployment, broadcast_id: int) -> float | None:
    with deployment.engine.connect() as connection:
        row = connection.execute(
            select(Broadcast.created_at, Broadcast.finished_at).where(Broadcast.id == broadcast_id)
        ).one()
    if row.finished_at is None:
        return None
    return (row.finished_at - row.created_at).total_seconds()


def lines(soak: Soak) -> list[str]:
    """The markdown section for RESULTS.md."""
    out = [
        "## Soak",
        "",
        f"- {soak.seconds:.0f} s of mixed traffic at {RATE} requests/s, open loop on up to 48"
        " keep-alive connections (in turn a USSD walk dial -> Cotonou -> budget by a new caller, an"
        " AT SMS, a signed Twilio WhatsApp and a signed Meta WhatsApp message, each from a"
        " number of its own) against the app as deployed: gunicorn"
        f" {' '.join(gunicorn_options())}, two RQ workers, redis-server, SQLite, the fake AT"
        " posting delivery reports",
        f"- meanwhile one broadcast (`flask broadcast send`, SMS) to {soak.audience:,}"
        f" subscribers of Cotonou at SEND_RATE_SMS={BROADCAST_RATE}, sent from the soak's"
        " first second",
        f"- RSS of every process every {soak.interval:.0f} s ({soak.samples} samples);"
        f" growth: median of the last {soak.window:.0f} s against the median of the first"
        f" {soak.window:.0f} s (the baseline); the {WARMUP_SECONDS} s warm-up is not sampled",
        "",
        "| process | first MiB (baseline) | last MiB | growth MiB | ratio |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for item in soak.growth:
        restarted = f" (restarted: {item.pids} pids)" if item.pids > 1 else ""
        out.append(
            f"| {item.process}{restarted} | {item.first_mib:.1f} | {item.last_mib:.1f}"
            f" | {item.mib:+.1f} | {item.ratio:.3f} |"
        )
    grown = [item.process for item in soak.growth if item.ratio >= FLAT_RATIO]
    out += [
        "",
        f"- memory flat (every ratio under {FLAT_RATIO:.2f}): "
        + ("yes" if not grown else "NO: " + ", ".join(grown)),
        "",
        "| request | answers | p50 ms | p99 ms | slowest ms | by status |",
    ]
    out.append("| --- | ---: | ---: | ---: | ---: | --- |")
    for kind in KINDS:
        latency = soak.latency.get(kind)
        if latency is None or not latency.count:
            continue
        statuses = ", ".join(f"{label}: {n:,}" for label, n in sorted(latency.statuses.items()))
        out.append(
            f"| {KIND_NAMES[kind]} | {latency.count:,} | {latency.p50_ms:.1f}"
            f" | {latency.p99_ms:.1f} | {latency.slowest_ms:.0f} | {statuses} |"
        )
    out.append("")
    errors = ", ".join(f"{name} {count}" for name, count in soak.error_lines.items())
    out.append(f"- error lines in the logs: {errors}")
    settled = (
        f"{soak.settled_seconds:.0f} s after the traffic stopped"
        if soak.settled_seconds is not None
        else f"NOT within {SETTLE_SECONDS} s after the traffic and the broadcast's own time"
    )
    out.append(f"- everything stored, answered and sent: {settled}")
    if soak.reckoning is not None:
        out.append(
            f"- inbound: {soak.reckoning.describe()}; refused then still refused after the"
            f" retries: {soak.still_refused}; exactly once:"
            f" {'yes' if soak.reckoning.exactly_once else 'NO'}"
        )
    if soak.broadcast is not None:
        check = soak.broadcast
        counters = " / ".join(f"{check.counters[n]:,}" for n in check.counters)
        done = f" {check.seconds:.0f} s after it was created" if check.seconds else ""
        out.append(
            f"- broadcast: {check.status}{done}; accepted by the fake {check.accepted:,} of"
            f" {check.audience:,}, {check.twice} twice, {check.never} never; {check.in_flight}"
            f" rows in flight; queued / sent / delivered / failed / skipped: {counters};"
            f" exactly once: {'yes' if check.exactly_once else 'NO'}"
        )
    if soak.redis is not None:
        census = soak.redis
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in sorted(census.keys.items()))
        forever = ", ".join(f"{k} {n:,}" for k, n in sorted(census.without_expiry.items()))
        out.append(
            f"- Redis at the end: {census.used_mib:.1f} MiB used, keys by kind: {kinds};"
            f" keys that never expire: {forever or 'none'} (what grows with traffic and"
            " expires is data kept on purpose: dedupe ids 48 h, conversations, job results)"
        )
    out.append(f"- worker restarts: {soak.worker_restarts}")
    return [*out, ""]


def main() -> None:
    print("\n".join(lines(measure())))


if __name__ == "__main__":
    main()
