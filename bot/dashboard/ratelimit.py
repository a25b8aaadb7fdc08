"""Failed-login counters in Redis, per email and per client IP, in fixed windows.

A window starts at the first failure and lasts WINDOW_SECONDS; once a counter
reaches its limit every attempt (even with the right password) is refused until
the window ends. A successful login resets the email's counter, not the IP's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.redis import get_redis

WINDOW_SECONDS = 15 * 60
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 20
_PREFIX = "dashboard:login-failures"


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    # Hashed: Redis dumps and MONITOR output should not list staff addresses.
    email_digest = hashlib.sha256(email.encode()).hexdigest()
    return [
        (f"{_PREFIX}:email:{email_digest}", MAX_FAILURES_PER_EMAIL),
        (f"{_PREFIX}:ip:{ip}", MAX_FAILURES_PER_IP),
    ]


@dataclass(frozen=True)
class Blocked:
    retry_after: int
    """Seconds until the attempt may be made again."""


def check(email: str, ip: str) -> Blocked | None:
    """Blocked when either counter has reached its limit, else None."""
    redis = get_redis()
    waits = []
    for key, limit in _keys(email, ip):
        count = redis.get(key)
        if count is not None and int(count) >= limit:
            ttl = redis.ttl(key)
            waits.append(ttl if ttl > 0 else WINDOW_SECONDS)
    return Blocked(retry_after=max(waits)) if waits else None


def record_failure(email: str, ip: str) -> None:
    pipe = get_redis().pipeline()
    for key, _limit in _keys(email, ip):
        # SET NX EX opens the window once; INCR never moves its end.
        pipe.set(key, 0, ex=WINDOW_SECONDS, nx=True)
        pipe.incr(key)
    pipe.execute()


def reset_email(email: str) -> None:
    get_redis().delete(_keys(email, "")[0][0])
