"""How many cases the fuzzers generated, per target, for bench/RESULTS.md.

Every generated case calls `count(target)`. A target reads "family: detail"
(`webhooks: POST /webhooks/at/sms form`). With FUZZ_REPORT set, the totals of
the run go to that file as JSON (see `report`); under pytest-xdist each worker
hands its totals to the controlling process, which writes the one file.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPORT_ENV = "FUZZ_REPORT"
"""Environment variable naming the JSON file to write at the end of the run."""

_cases: Counter[str] = Counter()


def count(target: str) -> None:
    """One more case generated for `target`."""
    _cases[target] += 1


def totals() -> dict[str, int]:
    return dict(_cases)


def merge(other: Mapping[str, int]) -> None:
    """Add another process's totals to this one's."""
    _cases.update(other)


def report(profile: str, max_examples: int) -> dict[str, Any]:
    """The totals per target and per family, with the profile that produced them."""
    families: Counter[str] = Counter()
    for target, cases in _cases.items():
        families[target.partition(":")[0]] += cases
    return {
        "profile": profile,
        "max_examples": max_examples,
        "total": sum(_cases.values()),
        "families": dict(sorted(families.items())),
        "targets": dict(sorted(_cases.items())),
    }


def write_report(path: str | os.PathLike[str], profile: str, max_examples: int) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report(profile, max_examples), indent=2) + "\n", encoding="utf-8")
