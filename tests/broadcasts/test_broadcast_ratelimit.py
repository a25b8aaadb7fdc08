"""The token bucket shared by every worker: permits at the configured rate, waiting in turn."""

from __future__ import annotations

import pytest

from bot.broadcasts.ratelimit import SendRate
from bot.models.enums import Channel, Provider
from bot.redis import get_redis


def test_broadcast_send_rate_reserves_in_turn(app) -> None:
    bucket = SendRate(get_redis(app), Provider.AFRICASTALKING, Channel.SMS, rate=10)
    assert bucket.reserve(10) == 0
    assert bucket.reserve(10) == pytest.approx(1.0, abs=0.05)
    assert bucket.reserve(5) == pytest.approx(1.5, abs=0.05)
    other = SendRate(get_redis(app), Provider.TWILIO, Channel.SMS, rate=10)
    assert other.reserve(10) == 0


def test_broadcast_send_rate_refuses_more_than_one_second_at_once(app) -> None:
    bucket = SendRate(get_redis(app), Provider.CONSOLE, Channel.WHATSAPP, rate=3)
    with pytest.raises(ValueError):
        bucket.reserve(4)
    with pytest.raises(ValueError):
        bucket.reserve(0)
