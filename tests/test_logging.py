"""Logs are JSON lines, and no phone number reaches them unmasked."""

import json
import logging
import sys

from bot.logging import JsonFormatter


def _format(message: str, *args, **fields) -> dict:
    record = logging.LogRecord("bot.test", logging.INFO, __file__, 1, message, args, None)
    record.fields = fields
    return json.loads(JsonFormatter().format(record))


def test_json_line_with_fields() -> None:
    entry = _format("inbound %s", "sms", provider="africastalking")
    assert entry["message"] == "inbound sms"
    assert entry["level"] == "info"
    assert entry["logger"] == "bot.test"
    assert entry["provider"] == "africastalking"


def test_phone_numbers_masked_in_message_and_fields() -> None:
    entry = _format(
        "from %s via whatsapp:+2290196112233",
        "+2290197123456",
        body="from=%2B2290195001122&text=Bonjour",
    )
    line = json.dumps(entry)
    for number in ("2290197123456", "2290196112233", "2290195001122", "97123456"):
        assert number not in line
    assert "+229 01 97 ** ** 56" in entry["message"]


def test_exceptions_are_logged_masked() -> None:
    try:
        raise ValueError("bad number +2290197123456")
    except ValueError:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError" in entry["exception"]
    assert "2290197123456" not in entry["exception"]


def test_lines_stay_valid_json_whatever_the_fields() -> None:
    entry = _format("count", count=97123456, ratio=0.5, ok=True, nested={"to": "+2290197123456"})
    assert entry["count"] == 97123456
    assert entry["ratio"] == 0.5
    assert entry["ok"] is True
    assert "2290197123456" not in entry["nested"]
