"""Did every message the app took get stored once and answered, each reply handed over once?

Judged from three ledgers that do not depend on each other: the traffic's (what got a
200), the database's (`inbound_messages`, the reply rows) and the fake AT's (what it
accepted, per number).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import Engine, select

from bench.traffic import Ledger
from bot.models import Contact, InboundMessage, OutboundMessage
from bot.models.enums import MessageStatus, Provider

HANDED_OVER = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
IN_FLIGHT = (MessageStatus.QUEUED, MessageStatus.SENDING)


@dataclass(frozen=True)
class Reckoning:
    sent: int  # distinct messages posted
    accepted: int  # of those, answered 200 (at the first try or a retry)
    stored: int  # of those, found in inbound_messages
    stored_twice: int  # (provider, id) stored more than once
    unanswered: int  # stored, but no reply row handed over to its sender
    replies: int  # reply rows of those senders
    replies_in_flight: int  # still queued or sending
    replies_failed: int
    at_replies: int  # reply rows handed over to the fake AT
    at_twice: int  # numbers the fake accepted more often than their rows say
    at_never: int  # numbers the fake accepted less often

    @property
    def missing(self) -> int:
        return self.accepted - self.stored

    @property
    def exactly_once(self) -> bool:
        return (
            self.accepted == self.sent
            and self.missing == 0
            and self.stored_twice == 0
            and self.unanswered == 0
            and self.replies_in_flight == 0
            and self.at_twice == 0
            and self.at_never == 0
        )

    @property
    def settled(self) -> bool:
        """Nothing more will move: everything stored and every reply out of flight."""
        return self.missing == 0 and self.unanswered == 0 and self.replies_in_flight == 0

    def describe(self) -> str:
        return (
            f"{self.sent:,} messages posted, {self.accepted:,} taken (200), {self.stored:,} stored"
            f" ({self.stored_twice} twice, {self.missing} missing); {self.replies:,} replies"
            f" ({self.unanswered} senders unanswered, {self.replies_in_flight} in flight,"
            f" {self.replies_failed} failed); {self.at_replies:,} SMS replies handed to the"
            f" fake AT: {self.at_twice} accepted twice, {self.at_never} never"
        )


def reckon(
    engine: Engine, ledger: Ledger, fake_counts: dict[str, int], sent_before: float | None = None
) -> Reckoning:
    """The messages first sent before `sent_before` (all: None) and their replies."""
    messages = ledger.messages(sent_before)
    accepted = {(sent.provider, i) for i, (sent, taken) in messages.items() if taken}
    senders = {sent.phone for sent, taken in messages.values() if taken}
    with engine.connect() as connection:
        stored = Counter(
            (provider.value, external_id)
            for provider, external_id in connection.execute(
                select(InboundMessage.provider, InboundMessage.external_id)
            )
        )
        replies = connection.execute(
            select(Contact.phone_e164, OutboundMessage.provider, OutboundMessage.status)
            .join(Contact, Contact.id == OutboundMessage.contact_id)
            .where(OutboundMessage.broadcast_id.is_(None))
        ).all()
    mine = [r for r in replies if r.phone_e164 in senders]
    handed = {r.phone_e164 for r in mine if r.status in HANDED_OVER}
    at_rows = Counter(
        r.phone_e164
        for r in mine
        if r.provider is Provider.AFRICASTALKING and r.status in HANDED_OVER
    )
    at_numbers = set(at_rows) | {n for n in fake_counts if n in senders}
    return Reckoning(
        sent=len(messages),
        accepted=len(accepted),
        stored=sum(1 for key in accepted if stored[key]),
        stored_twice=sum(1 for key in accepted if stored[key] > 1),
        unanswered=len(senders - handed),
        replies=len(mine),
        replies_in_flight=sum(1 for r in mine if r.status in IN_FLIGHT),
        replies_failed=sum(1 for r in mine if r.status is MessageStatus.FAILED),
        at_replies=sum(at_rows.values()),
        at_twice=sum(1 for n in at_numbers if fake_counts.get(n, 0) > at_rows[n]),
        at_never=sum(1 for n in at_numbers if fake_counts.get(n, 0) < at_rows[n]),
    )
