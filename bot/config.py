"""Settings from the environment, with embedded defaults for a newcomer's machine.

`load_settings()` is pure (environment in, dict out) so tests can check every
rule without touching os.environ.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message names it."""


# Provider rate limits in messages per second; providers throttle above these.
DEFAULT_SEND_RATE_SMS = 50
DEFAULT_SEND_RATE_WHATSAPP = 80
# Price estimates shown before a broadcast goes, in XOF: set them from the
# provider's contract (SMS per segment, WhatsApp per template message).
DEFAULT_SMS_SEGMENT_COST_XOF = 20
DEFAULT_WHATSAPP_MESSAGE_COST_XOF = 5
# The sweeper (workers/sweeper.py): how long before a queued message with no
# live job is queued again, and before a message whose handover is in doubt
# (no answer from the provider) is settled from delivery reports or resent.
DEFAULT_SWEEP_STALE_SECONDS = 300
DEFAULT_SWEEP_IN_DOUBT_SECONDS = 600
DEFAULT_SWEEP_INTERVAL_SECONDS = 60
DEFAULT_FEEDBACK_DAILY_LIMIT = 3
"""New feedback tickets one number may file in 24 hours."""
DEFAULT_INBOUND_RATE_PER_MINUTE = 20
"""SMS or WhatsApp messages from one number answered in a minute (bot/channels/flood.py)."""

_PASSTHROUGH = (
    "PUBLIC_BASE_URL",
    "AT_USERNAME",
    "AT_API_KEY",
    "AT_SENDER_ID",
    "AT_USSD_CODE",
    "AT_WEBHOOK_TOKEN",
    "AT_API_BASE_URL",
    # Voice (bot/voice.py): the AT number citizens call and that "Appelez-moi"
    # calls come from; without it, requested calls go to the console provider.
    "AT_VOICE_NUMBER",
    "AT_VOICE_API_BASE_URL",
    "TWILIO_API_BASE_URL",
    "WHATSAPP_API_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_FROM",
    "TWILIO_WHATSAPP_FROM",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    # The phone simulator (/simulator) shows any number's messages: unset, it is
    # on only with no provider configured and ENV not production; "true" or
    # "false" decide instead (bot/simulator/access.py checks the value).
    "SIMULATOR_ENABLED",
)

_QUIET_HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")


def normalize_database_url(url: str) -> str:
    """Accept Heroku-style `postgres://` and pick the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive, got {value}")
    return value


def load_settings(env: Mapping[str, str], instance_path: str | Path) -> dict[str, Any]:
    """Build the Flask config from an environment mapping.

    Production (`ENV=production`) refuses embedded defaults: a lost SQLite file
    or an embedded Redis on a server would silently lose citizens' data.
    """
    instance = Path(instance_path)
    production = env.get("ENV", "development") == "production"
    missing = [name for name in ("SECRET_KEY", "DATABASE_URL", "REDIS_URL") if not env.get(name)]
    if production and missing:
        raise ConfigError(
            "ENV=production needs these settings, which are missing: "
            + ", ".join(missing)
            + " (see README, 'Deployment')"
        )
    quiet_hours = env.get("QUIET_HOURS", "21:00-07:00")
    if not _QUIET_HOURS.match(quiet_hours):
        raise ConfigError(f"QUIET_HOURS must look like 21:00-07:00, got {quiet_hours!r}")
    language = env.get("DEFAULT_LANGUAGE", "fr")
    if language not in ("fr", "en"):
        raise ConfigError(f"DEFAULT_LANGUAGE must be fr or en, got {language!r}")

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'communes.db'}"
    settings: dict[str, Any] = {
        "ENV": "production" if production else "development",
        "SECRET_KEY": env.get("SECRET_KEY") or secrets.token_hex(32),
        "DATABASE_URL": normalize_database_url(database_url),
        "REDIS_URL": env.get("REDIS_URL") or None,
        "DEFAULT_LANGUAGE": language,
        "TIMEZONE": env.get("TIMEZONE", "Africa/Porto-Novo"),
        "QUIET_HOURS": quiet_hours,
        "SEND_RATE_SMS": _positive_int(env, "SEND_RATE_SMS", DEFAULT_SEND_RATE_SMS),
        "SEND_RATE_WHATSAPP": _positive_int(env, "SEND_RATE_WHATSAPP", DEFAULT_SEND_RATE_WHATSAPP),
        "SMS_SEGMENT_COST_XOF": _positive_int(
            env, "SMS_SEGMENT_COST_XOF", DEFAULT_SMS_SEGMENT_COST_XOF
        ),
        "WHATSAPP_MESSAGE_COST_XOF": _positive_int(
            env, "WHATSAPP_MESSAGE_COST_XOF", DEFAULT_WHATSAPP_MESSAGE_COST_XOF
        ),
        "SWEEP_STALE_SECONDS": _positive_int(
            env, "SWEEP_STALE_SECONDS", DEFAULT_SWEEP_STALE_SECONDS
        ),
        "SWEEP_IN_DOUBT_SECONDS": _positive_int(
            env, "SWEEP_IN_DOUBT_SECONDS", DEFAULT_SWEEP_IN_DOUBT_SECONDS
        ),
        "SWEEP_INTERVAL_SECONDS": _positive_int(
            env, "SWEEP_INTERVAL_SECONDS", DEFAULT_SWEEP_INTERVAL_SECONDS
        ),
        "FEEDBACK_DAILY_LIMIT": _positive_int(
            env, "FEEDBACK_DAILY_LIMIT", DEFAULT_FEEDBACK_DAILY_LIMIT
        ),
        "INBOUND_RATE_PER_MINUTE": _positive_int(
            env, "INBOUND_RATE_PER_MINUTE", DEFAULT_INBOUND_RATE_PER_MINUTE
        ),
        # Webhook bodies are small forms; anything bigger is refused with 413.
        "MAX_CONTENT_LENGTH": _positive_int(env, "MAX_CONTENT_LENGTH", 1024 * 1024),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
    }
    for name in _PASSTHROUGH:
        settings[name] = env.get(name) or None
    return settings
