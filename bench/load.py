"""A small closed-loop HTTP load generator on loopback (keep-alive, N threads)."""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

FormFactory = Callable[[int, int], dict[str, str]]
"""(thread number, request number) -> the form to POST; None means GET."""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def hammer(
    port: int,
    path: str,
    *,
    threads: int,
    requests_per_thread: int,
    form: FormFactory | None = None,
    rate: float | None = None,
) -> LoadResult:
    """Closed loop (each thread sends as soon as its last answer came), or open loop.

    With `rate` (requests/s over all threads), each thread sends on a fixed
    schedule and a request's latency counts from its scheduled time, not from
    when it could be sent: a slow answer that delays the next request is
    charged to that request too (no coordinated omission, as wrk2 measures).
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    interval = threads / rate if rate else 0.0
    begin = time.perf_counter() + 0.05

    def worker(number: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        for count in range(requests_per_thread):
            if rate:
                # Threads spread evenly over one interval, each then on its own beat.
                started = begin + (count + number / threads) * interval
                time.sleep(max(0.0, started - time.perf_counter()))
            else:
                started = time.perf_counter()
            try:
                if form is None:
                    connection.request("GET", path)
                else:
                    body = urlencode(form(number, count))
                    headers = {"Content-Type": "application/x-www-form-urlencoded"}
                    connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    started = begin if rate else time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(len(latencies), errors, elapsed, cuts[49] * 1000, cuts[98] * 1000)
