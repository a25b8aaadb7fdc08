"""Quiet hours: no bulk send at night, in the communes' local time.

`QUIET_HOURS` is a local window like 21:00-07:00 (it may span midnight); a
broadcast that is not urgent waits for its end.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> QuietHours:
        # Shape already checked by bot.config.
        start, end = (time.fromisoformat(part) for part in config["QUIET_HOURS"].split("-"))
        return cls(start, end, ZoneInfo(config["TIMEZONE"]))

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone).time()
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def end_after(self, moment: datetime) -> datetime:
        """When the quiet window holding `moment` ends, in UTC."""
        local = moment.astimezone(self.zone)
        end = datetime.combine(local.date(), self.end, tzinfo=self.zone)
        if end <= local:
            end += timedelta(days=1)
        return end.astimezone(UTC)

    def release_time(self, moment: datetime, urgent: bool) -> datetime | None:
        """When a send due at `moment` may go: None for now, else the morning."""
        if urgent or not self.contains(moment):
            return None
        return self.end_after(moment)
