"""The fuzz suites (tests/fuzz) with the `bench` hypothesis profile, for RESULTS.md.

`make test` runs them with the small `ci` profile; here every test generates up
to 250 examples, and the run reports how many cases each family of targets got
(tests/fuzz/counting.py) and whether any answer broke the rules the tests check.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent


@dataclass(frozen=True)
class FuzzRun:
    report: dict[str, Any]
    passed: bool
    summary: str
    seconds: float


def measure() -> FuzzRun:
    with tempfile.TemporaryDirectory() as directory:
        report_file = Path(directory) / "cases.json"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"HYPOTHESIS_PROFILE": "bench", "FUZZ_REPORT": str(report_file)}
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", "tests/fuzz"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - started
        report = json.loads(report_file.read_text()) if report_file.exists() else {}
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    return FuzzRun(report, run.returncode == 0, lines[-1] if lines else "no output", seconds)


def lines(run: FuzzRun) -> list[str]:
    families = run.report.get("families", {})
    return [
        "",
        "## Fuzzing",
        "",
        f"- `pytest tests/fuzz` with the `bench` hypothesis profile (up to"
        f" {run.report.get('max_examples', '?')} examples a test; `make test` runs 12), in"
        f" {run.seconds:.0f} s: {run.summary}"
        f" ({'no answer broke a rule' if run.passed else 'FAILURES: see the run'})",
        "- every answer checked: no 5xx, no traceback in a body, the contracts' JSON errors,"
        " 413 for a body one byte over the limit (declared or streamed), CSRF refusals;"
        " targets read from the app's URL map",
        f"- cases generated: {run.report.get('total', 0):,}",
        "",
        "| family of targets | cases |",
        "| --- | ---: |",
        *[f"| {family} | {cases:,} |" for family, cases in families.items()],
    ]
