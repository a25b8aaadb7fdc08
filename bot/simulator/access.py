"""When the simulator may answer at all.

It shows the messages of any number it is given, so it must not exist on a
server that talks to real citizens. By default it is on only where nothing can
reach a real phone: no provider credential or webhook secret configured (every
message goes to the console provider) and not `ENV=production`. The
`SIMULATOR_ENABLED` setting ("true" or "false") overrides that, e.g. for a
staging server wired to a provider's sandbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config import ConfigError

SETTING = "SIMULATOR_ENABLED"

PROVIDER_SECRETS = (
    "AT_USERNAME",
    "AT_API_KEY",
    "AT_WEBHOOK_TOKEN",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
)
"""Any of these set means a real provider is (being) wired up."""

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def forced(config: Mapping[str, Any]) -> bool | None:
    """The `SIMULATOR_ENABLED` choice: True, False, or None when unset (automatic).

    Raises ConfigError for a value that is neither, so a typo fails at start-up.
    """
    value = config.get(SETTING)
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    if not word:
        return None
    raise ConfigError(f"{SETTING} must be true or false, got {value!r}")


def console_only(config: Mapping[str, Any]) -> bool:
    """True when no provider is configured: every message stays on this machine."""
    return not any(config.get(name) for name in PROVIDER_SECRETS)


def enabled(config: Mapping[str, Any]) -> bool:
    choice = forced(config)
    if choice is not None:
        return choice
    return config.get("ENV") != "production" and console_only(config)
