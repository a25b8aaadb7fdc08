"""Provider send rates: one token bucket per provider and channel, in Redis.

Every worker takes its permits from the same bucket, so the configured rate
(`SEND_RATE_SMS`, `SEND_RATE_WHATSAPP`, in messages per second) holds however
many workers run. A caller reserves permits and is told how long to wait
before using them; reserving ahead (the bucket may go below zero) queues
workers in the order they asked, without polling. The bucket holds at most
one second of permits, so no burst exceeds the provider's per-second limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis

from bot.models.enums import Channel, Provider

# The clock is Redis's (TIME), so workers on several machines share one.
_RESERVE = """
redis.replicate_commands()
local rate = tonumber(ARGV[1])
local wanted = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or rate
local at = tonumber(state[2]) or now
tokens = math.min(rate, tokens + (now - at) * rate) - wanted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], 3600)
if tokens >= 0 then
  return '0'
end
return tostring(-tokens / rate)
"""


def send_rate(config: Mapping[str, Any], channel: Channel) -> int:
    """Messages per second allowed on `channel`."""
    return config["SEND_RATE_WHATSAPP" if channel is Channel.WHATSAPP else "SEND_RATE_SMS"]


class SendRate:
    def __init__(
        self, client: redis.Redis, provider: Provider, channel: Channel, rate: int
    ) -> None:
        self.rate = rate
        self._key = f"sendrate:{provider.value}:{channel.value}"
        self._script = client.register_script(_RESERVE)

    def reserve(self, count: int) -> float:
        """Take `count` permits (at most `rate`); seconds to wait before sending them."""
        if not 0 < count <= self.rate:
            raise ValueError(f"reserve between 1 and {self.rate} permits, not {count}")
        return float(self._script(keys=[self._key], args=[self.rate, count]))
