"""Structured (JSON lines) logs with phone numbers masked.

Phone numbers are personal data (APDP): they are masked in the final text of
every record, whatever logger or argument carried them.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from bot.phone import mask_in_text


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in getattr(record, "fields", {}).items():
            entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Masked value by value, not on the JSON text, so the line stays valid JSON.
        masked = {
            key: mask_in_text(value if isinstance(value, str) else json.dumps(value, default=str))
            if not isinstance(value, int | float | bool | type(None))
            else value
            for key, value in entry.items()
        }
        return json.dumps(masked, ensure_ascii=False)


def configure_logging(level: int = logging.INFO) -> None:
    """Install the JSON handler on the root logger once per process."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
