from pathlib import Path

import pytest

from bot import create_app
from bot.config import ConfigError, load_settings, normalize_database_url

INSTANCE = Path("/srv/instance")


def test_embedded_defaults() -> None:
    settings = load_settings({}, INSTANCE)
    assert settings["DATABASE_URL"] == "sqlite:////srv/instance/communes.db"
    assert settings["REDIS_URL"] is None
    assert settings["DEFAULT_LANGUAGE"] == "fr"
    assert settings["TIMEZONE"] == "Africa/Porto-Novo"
    assert settings["QUIET_HOURS"] == "21:00-07:00"
    assert settings["ENV"] == "development"
    assert len(settings["SECRET_KEY"]) == 64


def test_dev_secret_key_differs_per_start() -> None:
    assert load_settings({}, INSTANCE)["SECRET_KEY"] != load_settings({}, INSTANCE)["SECRET_KEY"]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/civic", "postgresql+psycopg://u:p@db:5432/civic"),
        ("postgresql://u@db/civic", "postgresql+psycopg://u@db/civic"),
        ("postgresql+psycopg://u@db/civic", "postgresql+psycopg://u@db/civic"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_url_normalized(given: str, expected: str) -> None:
    assert normalize_database_url(given) == expected
    assert load_settings({"DATABASE_URL": given}, INSTANCE)["DATABASE_URL"] == expected


PRODUCTION = {
    "ENV": "production",
    "SECRET_KEY": "s" * 40,
    "DATABASE_URL": "postgres://u@db/civic",
    "REDIS_URL": "redis://cache:6379/0",
}


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "REDIS_URL"])
def test_production_names_each_missing_setting(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    with pytest.raises(ConfigError, match=missing) as raised:
        load_settings(env, INSTANCE)
    others = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} - {missing}
    assert not any(name in str(raised.value) for name in others)


def test_production_lists_all_missing_settings() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY, DATABASE_URL, REDIS_URL"):
        load_settings({"ENV": "production"}, INSTANCE)


def test_production_complete_starts_with_secure_cookies() -> None:
    settings = load_settings(PRODUCTION, INSTANCE)
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SECRET_KEY"] == "s" * 40


def test_create_app_refuses_incomplete_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "production")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/civic")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        create_app()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"QUIET_HOURS": "9pm-7am"}, "QUIET_HOURS"),
        ({"QUIET_HOURS": "25:00-07:00"}, "QUIET_HOURS"),
        ({"SEND_RATE_SMS": "fast"}, "SEND_RATE_SMS"),
        ({"SEND_RATE_WHATSAPP": "0"}, "SEND_RATE_WHATSAPP"),
        ({"DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
    ],
)
def test_malformed_settings_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(env, INSTANCE)


def test_provider_settings_pass_through() -> None:
    settings = load_settings({"AT_USERNAME": "sandbox", "TWILIO_AUTH_TOKEN": "t"}, INSTANCE)
    assert settings["AT_USERNAME"] == "sandbox"
    assert settings["TWILIO_AUTH_TOKEN"] == "t"
    assert settings["WHATSAPP_TOKEN"] is None
