"""What delivery reports tell the sweeper about messages whose handover is in doubt.

Two facts are kept in Redis, per provider:

- a report whose id we never recorded, under its recipient, for two hours: it
  may be for a message a crash left `sending`, and settles that message as the
  provider saw it;
- the watermark: the latest `sent_at` among messages a report came back for.
  Providers report roughly in the order they send, so once reports have come
  back for messages sent well after an in-doubt one, and none named its
  recipient, the provider never had it. Reports can lag minutes behind a
  large broadcast; the watermark lets the sweeper wait exactly as long as
  they do instead of guessing a delay.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from bot.channels.base import StatusUpdate
from bot.models.enums import MessageStatus, Provider
from bot.redis import get_redis

UNMATCHED_REPORT_SECONDS = 7200
"""How long a report with an unknown id is kept; past it, doubt is settled as failed."""

_RAISE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1])
end
return 1
"""


def _unmatched_key(provider: Provider, recipient: str) -> str:
    return f"report:unmatched:{provider.value}:{recipient}"


def _watermark_key(provider: Provider) -> str:
    return f"report:watermark:{provider.value}"


def remember_unmatched(update: StatusUpdate) -> None:
    if update.recipient is None:
        return
    kept = {
        "id": update.external_id,
        "status": update.status.value,
        "code": update.error_code,
        "at": time.time(),
    }
    get_redis().set(
        _unmatched_key(update.provider, update.recipient),
        json.dumps(kept),
        ex=UNMATCHED_REPORT_SECONDS,
    )


def unmatched_report(
    provider: Provider, recipient: str, claimed_at: datetime
) -> StatusUpdate | None:
    """A report for `recipient` with an unknown id that came after `claimed_at`, if any.

    One that came before cannot be about a message claimed later (it may be
    for an earlier message to the same number).
    """
    raw = get_redis().get(_unmatched_key(provider, recipient))
    if raw is None:
        return None
    kept = json.loads(raw)
    if kept["at"] < claimed_at.timestamp():
        return None
    return StatusUpdate(
        provider=provider,
        external_id=kept["id"],
        status=MessageStatus(kept["status"]),
        error_code=kept["code"],
        recipient=recipient,
    )


def forget_unmatched(provider: Provider, recipient: str) -> None:
    get_redis().delete(_unmatched_key(provider, recipient))


def raise_watermark(provider: Provider, sent_at: datetime) -> None:
    client = get_redis()
    client.register_script(_RAISE)(keys=[_watermark_key(provider)], args=[sent_at.timestamp()])


def watermark(provider: Provider) -> datetime | None:
    raw = get_redis().get(_watermark_key(provider))
    return datetime.fromtimestamp(float(raw), UTC) if raw else None
