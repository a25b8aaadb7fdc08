"""Hypothesis profiles for the fuzz suites, and the report of generated cases.

HYPOTHESIS_PROFILE picks the profile: "ci" (the default) keeps tests/fuzz under
about a minute on one core, so `make test` runs it; "bench" generates many more
cases, for the benchmark harness (with FUZZ_REPORT set, see counting.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz import counting

_COMMON = {
    "deadline": None,
    # The app, its database and Redis are built once per test, not per example:
    # state carried between examples is part of what is fuzzed.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
settings.register_profile("ci", max_examples=12, **_COMMON)
settings.register_profile("bench", max_examples=250, **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
BENCH_TIMEOUT_SECONDS = 1800
"""Per test under the bench profile: many routes times many examples outlast the usual 120 s."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if PROFILE != "bench":
        return
    for item in items:
        if item.path.is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.timeout(BENCH_TIMEOUT_SECONDS))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["fuzz_cases"] = counting.totals()
        return
    path = os.environ.get(counting.REPORT_ENV)
    if path:
        counting.write_report(path, PROFILE, settings.default.max_examples)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node) -> None:
    counting.merge(getattr(node, "workeroutput", {}).get("fuzz_cases", {}))
