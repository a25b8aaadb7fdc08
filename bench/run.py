"""`make bench`: measure, compare with a baseline run in the same session, write RESULTS.md.

Figure now: GET /healthz (a database query and a Redis PING per request) against
bare Flask returning the same JSON, both under the same gunicorn settings, driven
from a second process on loopback; and the RSS of one web worker.
"""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import requests

from bench.load import LoadResult, hammer

RESULTS = Path(__file__).parent / "RESULTS.md"
GUNICORN = ["--workers", "2", "--threads", "4", "--log-level", "warning"]
THREADS, REQUESTS_PER_THREAD = 8, 500


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


def _measure(target: str, env: dict[str, str]) -> tuple[LoadResult, int]:
    process, port = _serve(target, env)
    try:
        hammer(port, "/healthz", threads=THREADS, requests_per_thread=50)  # warm-up
        result = hammer(port, "/healthz", threads=THREADS, requests_per_thread=REQUESTS_PER_THREAD)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        rss = max(_rss_kib(int(pid)) for pid in children)
    finally:
        process.terminate()
        process.wait(timeout=15)
    return result, rss


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env["INSTANCE_PATH"] = instance
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], env=env, check=True
        )
        from bot.redis import EmbeddedRedis

        embedded = EmbeddedRedis(instance)
        embedded.ensure_running()
        try:
            ours, ours_rss = _measure("bot:create_app()", env)
            bare, bare_rss = _measure("bench.bare_app:create_app()", env)
        finally:
            embedded.stop()

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    rows = [
        (
            "GET /healthz requests/s",
            f"{ours.rate:,.0f}",
            f"{bare.rate:,.0f}",
            f"{ours.rate / bare.rate:.2f}",
        ),
        (
            "GET /healthz p50 ms",
            f"{ours.p50_ms:.2f}",
            f"{bare.p50_ms:.2f}",
            f"{ours.p50_ms / bare.p50_ms:.2f}",
        ),
        (
            "GET /healthz p99 ms",
            f"{ours.p99_ms:.2f}",
            f"{bare.p99_ms:.2f}",
            f"{ours.p99_ms / bare.p99_ms:.2f}",
        ),
        (
            "web worker RSS MiB",
            f"{ours_rss / 1024:.1f}",
            f"{bare_rss / 1024:.1f}",
            f"{ours_rss / bare_rss:.2f}",
        ),
    ]
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench`; do not edit by hand.",
        "",
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        f"- Python {platform.python_version()}, Flask {version('flask')}, "
        f"gunicorn {version('gunicorn')}, SQLAlchemy {version('sqlalchemy')}",
        f"- load: {THREADS} keep-alive client threads x {REQUESTS_PER_THREAD} requests on "
        f"loopback; server: gunicorn {' '.join(GUNICORN)}; SQLite and the embedded Redis",
        f"- errors: ours {ours.errors}, baseline {bare.errors}",
        "- note: client and server share the 2 cores, so both rates are bounded by the"
        " client as much as by the server; read the ratio (about 1 means /healthz's"
        " database query and Redis PING cost little next to serving a request at all).",
        "",
        "| figure | Communes+ | baseline: bare Flask | ratio |",
        "| --- | ---: | ---: | ---: |",
        *[f"| {name} | {a} | {b} | {r} |" for name, a, b, r in rows],
        "",
    ]
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
