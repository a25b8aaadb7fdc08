"""The console provider: nothing leaves the machine.

The embedded default when no provider credentials are configured. The message
row is already stored (the simulator and the dashboard read it); sending only
logs it, with the number masked like everywhere else. A voice row is a call
a citizen asked for ("Appelez-moi"): it is logged as a call not placed.
"""

from __future__ import annotations

import logging
import uuid

from bot.channels.base import OutboundMessage, SendResult
from bot.models.enums import Channel, MessageStatus, Provider

log = logging.getLogger(__name__)


class ConsoleSender:
    provider = Provider.CONSOLE

    def send(self, message: OutboundMessage) -> SendResult:
        if message.channel is Channel.VOICE:
            log.info(
                "console provider: call not placed",
                extra={"fields": {"channel": message.channel.value, "to": message.to}},
            )
            return SendResult(external_id=f"console-call-{uuid.uuid4().hex}")
        log.info(
            "console provider: message not sent anywhere",
            extra={
                "fields": {
                    "channel": message.channel.value,
                    "to": message.to,
                    "text": message.text,
                    # A file's link, for whoever reads the log in place of a phone.
                    "media": message.media.url if message.media else None,
                    "template": message.template.name if message.template else None,
                }
            },
        )
        return SendResult(external_id=f"console-{uuid.uuid4().hex}", status=MessageStatus.DELIVERED)
