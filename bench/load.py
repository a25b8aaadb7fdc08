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
) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def worker(number: int) -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        failed = 0
        for count in range(requests_per_thread):
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
    started = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return LoadResult(len(latencies), errors, elapsed, cuts[49] * 1000, cuts[98] * 1000)
