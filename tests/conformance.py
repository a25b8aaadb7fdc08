"""The shared provider requests (`../shared/conformance`), for every test that replays them.

Outside CI a checkout without `shared/` beside it skips these cases with a
visible reason; under CI=true the file must be there, and its absence fails.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

FILE = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "provider_requests.json"


def load() -> dict[str, Any] | None:
    if FILE.exists():
        return json.loads(FILE.read_text(encoding="utf-8"))
    if os.environ.get("CI") == "true":
        raise FileNotFoundError(f"CI=true but the conformance file is missing: {FILE}")
    return None


SPEC = load()


def cases(keep: Callable[[dict[str, Any]], bool]) -> list[Any]:
    """One pytest param per case kept, named by its id."""
    if SPEC is None:
        reason = f"{FILE} not found: check shared/ out beside the project"
        return [pytest.param(None, id="absent", marks=pytest.mark.skip(reason=reason))]
    return [pytest.param(case, id=case["id"]) for case in SPEC["cases"] if keep(case)]
