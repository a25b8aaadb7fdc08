"""`make bench`: measure, compare with a baseline run in the same session, write RESULTS.md.

Figures: GET /healthz (a database query and a Redis PING) and the inbound SMS
webhook (parse, dedupe in Redis, record, queue the reply) against bare Flask
answering the same paths, under the same gunicorn settings, driven from this
process on loopback; and the RSS of one web worker. Then broadcasts end to
end, through real workers and a fake Africa's Talking (bench/broadcast.py), the
webhooks under faults (bench/faults_web.py) and the soak (bench/soak.py).
"""

from __future__ import annotations

import itertools
import os
import platform
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import requests

from bench import broadcast, faults_web, fuzz, soak
from bench.load import FormFactory, LoadResult, hammer
from bench.stack import child_pids

ROOT = Path(__file__).parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
# --preload: every worker is ready before the load starts. Without it the first
# worker to boot takes the first requests while the others still import.
# Workers and worker class come from gunicorn.conf.py, as in production.
GUNICORN = ["--config", str(ROOT / "gunicorn.conf.py"), "--preload", "--log-level", "warning"]
THREADS, REQUESTS_PER_THREAD = 8, 500
ROUNDS = 3
TARGETS = {"ours": "bot:create_app()", "bare": "bench.bare_app:create_app()"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _serve(target: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", *GUNICORN, target],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process, port
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{target} did not answer /healthz")


def _inbound_sms(thread: int, count: int) -> dict[str, str]:
    return {
        "from": f"+229019{thread:02d}{count:05d}"[:14],
        "to": "7722",
        "text": "BUDGET COTONOU",
        "date": "2026-11-21 10:00:00",
        "id": f"bench-{thread}-{count}-{time.monotonic_ns()}",
        "linkId": "41872630915502873364",
    }


USSD_WALK = ["", "1", "1*1"]
"""Dial, choose Cotonou, open its budget: a full walk to a budget screen."""


_citizens = itertools.count()
_walking: dict[int, int] = {}


def _ussd_walk(thread: int, count: int) -> dict[str, str]:
    if count % len(USSD_WALK) == 0:
        # Each walk is a new citizen: the same number dialling again would be
        # offered to resume where its last walk stopped.
        _walking[thread] = next(_citizens)
    citizen = _walking[thread]
    return {
        "sessionId": f"bench-walk-{citizen}",
        "serviceCode": "*202*22#",
        "phoneNumber": f"+2290198{citizen:06d}",
        "networkCode": "61602",
        "text": USSD_WALK[count % len(USSD_WALK)],
    }


USSD_CONNECTIONS = 50
USSD = "USSD walk to a budget"
USSD_TARGET_RATIO = 0.5
PACED = "USSD walk at half the bare rate"
"""The same walk, open loop at half bare Flask's full-load rate: the latency target's load.

Under full load a closed loop of 50 connections always waits 50 / rate on
average (Little's law), so its p99 restates the rate; the latency a caller
sees is measured at a set rate, the one the throughput target asks for.
"""
PACED_REQUESTS = 9000
SCENARIOS: list[tuple[str, str, FormFactory | None, int]] = [
    ("GET /healthz", "/healthz", None, THREADS),
    ("POST /webhooks/at/sms", "/webhooks/at/sms", _inbound_sms, THREADS),
    (USSD, "/webhooks/at/ussd", _ussd_walk, USSD_CONNECTIONS),
]


def _rss_of_workers(process: subprocess.Popen[bytes]) -> int:
    return max(_rss_kib(pid) for pid in child_pids(process.pid))


def _measure(env: dict[str, str]) -> tuple[dict[str, dict[str, LoadResult]], dict[str, int]]:
    """Both servers up at once (the idle one costs nothing), measured in alternation.

    Each scenario runs ROUNDS times on each server, interleaved so a slow
    moment of the machine hits both; the median round is reported.
    """
    servers = {name: _serve(target, env) for name, target in TARGETS.items()}
    rounds: dict[str, dict[str, list[LoadResult]]] = {n: {} for n in servers}
    try:
        for name, path, form, threads in SCENARIOS:
            per_thread = REQUESTS_PER_THREAD * THREADS // threads
            for _process, port in servers.values():
                hammer(port, path, threads=threads, requests_per_thread=30, form=form)  # warm-up
            for _ in range(ROUNDS):
                for server, (_process, port) in servers.items():
                    result = hammer(
                        port, path, threads=threads, requests_per_thread=per_thread, form=form
                    )
                    rounds[server].setdefault(name, []).append(result)
        rate = _median(USSD, rounds["bare"][USSD]).rate * USSD_TARGET_RATIO
        for _ in range(ROUNDS):
            for server, (_process, port) in servers.items():
                result = hammer(
                    port,
                    "/webhooks/at/ussd",
                    threads=USSD_CONNECTIONS,
                    requests_per_thread=PACED_REQUESTS // USSD_CONNECTIONS,
                    form=_ussd_walk,
                    rate=rate,
                )
                rounds[server].setdefault(PACED, []).append(result)
        rss = {server: _rss_of_workers(process) for server, (process, _port) in servers.items()}
        rss["workers"] = len(child_pids(servers["ours"][0].pid))
    finally:
        for process, _port in servers.values():
            process.terminate()
            process.wait(timeout=15)
    medians = {
        server: {name: _median(name, results) for name, results in by_name.items()}
        for server, by_name in rounds.items()
    }
    return medians, rss


def _median(name: str, results: list[LoadResult]) -> LoadResult:
    """The median round: by rate under full load, by p99 at a set rate."""
    key = (lambda r: r.p99_ms) if name == PACED else (lambda r: r.rate)
    return sorted(results, key=key)[len(results) // 2]


def _drain(env: dict[str, str], instance: str) -> tuple[int, float]:
    """One worker stores every buffered message and sends every reply (console)."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bot", "worker", "--burst"],
        env=env,
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    with sqlite3.connect(Path(instance) / "communes.db") as db:
        stored = db.execute("SELECT count(*) FROM inbound_messages").fetchone()[0]
        answered = db.execute("SELECT count(*) FROM outbound_messages").fetchone()[0]
    if answered != stored:
        raise RuntimeError(f"{stored} messages stored but {answered} answered")
    return stored, elapsed


def _rows(ours: dict[str, LoadResult], bare: dict[str, LoadResult]) -> list[tuple[str, ...]]:
    rows = []
    for name in ours:
        a, b = ours[name], bare[name]
        rows += [
            (f"{name} requests/s", f"{a.rate:,.0f}", f"{b.rate:,.0f}", f"{a.rate / b.rate:.2f}"),
            (f"{name} p50 ms", f"{a.p50_ms:.2f}", f"{b.p50_ms:.2f}", f"{a.p50_ms / b.p50_ms:.2f}"),
            (f"{name} p99 ms", f"{a.p99_ms:.2f}", f"{b.p99_ms:.2f}", f"{a.p99_ms / b.p99_ms:.2f}"),
        ]
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        if os.environ.get("BENCH_DATABASE_URL"):
            env["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
        env["INSTANCE_PATH"] = instance
        flask = [sys.executable, "-m", "flask", "--app", "bot"]
        subprocess.run([*flask, "db", "upgrade"], env=env, check=True)
        subprocess.run([*flask, "content", "load"], env=env, check=True, capture_output=True)
        from bot.redis import EmbeddedRedis

        embedded = EmbeddedRedis(instance)
        embedded.ensure_running()
        try:
            results, rss = _measure(env)
            drained, drain_seconds = _drain(env, instance)
        finally:
            embedded.stop()
    broadcasts = broadcast.measure()
    web_faults = faults_web.measure()
    soaked = soak.measure()
    fuzzed = fuzz.measure()
    ours, bare = results["ours"], results["bare"]
    ours_rss, bare_rss = rss["ours"], rss["bare"]

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rows = _rows(ours, bare)
    rows.append(
        (
            "web worker RSS MiB",
            f"{ours_rss / 1024:.1f}",
            f"{bare_rss / 1024:.1f}",
            f"{ours_rss / bare_rss:.2f}",
        )
    )
    errors = ", ".join(f"{n}: ours {ours[n].errors}, baseline {bare[n].errors}" for n in ours)
    sms_ratio = ours["POST /webhooks/at/sms"].rate / bare["POST /webhooks/at/sms"].rate
    ussd_ratio = ours[USSD].rate / bare[USSD].rate
    paced = ours[PACED]
    ussd_met = ussd_ratio >= USSD_TARGET_RATIO and paced.p99_ms < 50
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench`; do not edit by hand.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        f"- Python {platform.python_version()}, Flask {version('flask')}, "
        f"gunicorn {version('gunicorn')}, SQLAlchemy {version('sqlalchemy')}",
        f"- load: {THREADS} client threads x {REQUESTS_PER_THREAD} requests on "
        f"loopback; server: gunicorn {' '.join(GUNICORN).replace(str(ROOT) + '/', '')};"
        f" SQLite and the embedded Redis; gunicorn.conf.py: {rss['workers']} sync workers"
        " (2 x cores + 1), one request at a time each, and each connection closed after its"
        " answer (keepalive 0), so each request is accepted by whichever worker is free",
        f"- each figure: the median of {ROUNDS} rounds, ours and the baseline interleaved",
        f"- errors: {errors}",
        "- baseline: bare Flask (bench/bare_app.py) answering the same paths with the same"
        " status and doing nothing else, under the same gunicorn settings, in the same run",
        "- inbound SMS: every request is a new message (unique id) from a new number; the"
        " webhook checks it, drops retries and appends it to a Redis stream (AOF) in one"
        " round trip; no worker runs during the load",
        f"- then one worker (`flask --app bot worker --burst`) stored all {drained:,} messages"
        f" and sent their {drained:,} replies (console provider) in {drain_seconds:.1f} s:"
        f" {drained / drain_seconds:,.0f} messages/s end to end, process start included",
        f"- target: inbound SMS at least half the bare-Flask rate: {sms_ratio:.2f}"
        f" ({'met' if sms_ratio >= 0.5 else 'NOT met'})",
        f"- USSD: {USSD_CONNECTIONS} concurrent connections, each walking dial -> Cotonou ->"
        " budget screen, every walk a caller never seen before (state in Redis, content from"
        " the in-process cache; the dial reads the caller's profile and the commune choice"
        " stores the contact, each one autocommit statement outside any session); first at"
        " full load (closed loop: each connection sends again as soon as it"
        f" is answered), then open loop at {bare[USSD].rate * USSD_TARGET_RATIO:,.0f}"
        " requests/s, half the bare-Flask full-load rate, latency counted from each"
        " request's scheduled time",
        f"- target: at least half the bare-Flask rate, and p99 under 50 ms at that rate:"
        f" {ussd_ratio:.2f}, p99 {paced.p99_ms:.1f} ms ({'met' if ussd_met else 'NOT met'});"
        " at full load a closed loop's mean latency is connections / rate (Little's law),"
        " so its p99 restates the rate and is reported as measured",
        "- note: client and server share the 2 cores, so rates are bounded by the client"
        " as much as by the server; compare the ratios.",
        "",
        "| figure | Communes+ | baseline: bare Flask | ratio |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {a} | {b} | {r} |" for name, a, b, r in rows],
        "",
        *broadcast.lines(broadcasts),
        *faults_web.lines(web_faults),
        *soak.lines(soaked),
        *fuzz.lines(fuzzed),
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
