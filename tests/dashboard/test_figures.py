"""The overview's figures: attribution to communes, local days, buckets, and their cost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert

from bot.dashboard import figures
from bot.models import Broadcast, Contact, Feedback, InboundMessage, OutboundMessage
from bot.models.enums import (
    BroadcastStatus,
    Channel,
    FeedbackCategory,
    FeedbackStatus,
    Provider,
    Topic,
)

TODAY = date(2026, 11, 22)  # a Porto-Novo date
NOW = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


@contextmanager
def count_queries(session) -> Iterator[list[str]]:
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def _contact(session, phone: str, commune_id: int | None) -> Contact:
    contact = Contact(phone_e164=phone, commune_id=commune_id)
    session.add(contact)
    session.flush()
    return contact


def _inbound(session, contact: Contact, at: datetime) -> None:
    session.add(
        InboundMessage(
            provider=Provider.CONSOLE,
            external_id=f"in-{contact.id}-{at.isoformat()}",
            channel=Channel.SMS,
            contact_id=contact.id,
            sender=contact.phone_e164,
            received_at=at,
        )
    )


def _outbound(session, contact: Contact, at: datetime, broadcast: Broadcast | None = None) -> None:
    session.add(
        OutboundMessage(
            contact_id=contact.id,
            channel=Channel.SMS,
            provider=Provider.CONSOLE,
            text="Bonjour",
            broadcast_id=broadcast.id if broadcast else None,
            created_at=at,
        )
    )


def _broadcast(session, commune_id: int, started_at: datetime | None, **counts: int) -> Broadcast:
    row = Broadcast(
        commune_id=commune_id,
        topic=Topic.BUDGET,
        text_by_language={"fr": "Avis"},
        channels=["sms"],
        status=BroadcastStatus.DONE if started_at else BroadcastStatus.DRAFT,
        started_at=started_at,
        **{f"count_{name}": value for name, value in counts.items()},
    )
    session.add(row)
    session.flush()
    return row


def _feedback(session, commune_id: int, status: FeedbackStatus, created_at: datetime) -> None:
    number = session.query(Feedback).count()
    session.add(
        Feedback(
            ref=f"AV-{number:04d}",
            commune_id=commune_id,
            channel=Channel.SMS,
            category=FeedbackCategory.VOIRIE,
            text="Nid de poule",
            status=status,
            created_at=created_at,
        )
    )
    session.flush()


def _day(rows: list[figures.DayMessages], day: date) -> tuple[int, int]:
    [row] = [r for r in rows if r.day == day]
    return row.inbound, row.outbound


def test_messages_count_for_the_contacts_commune_on_local_days(session, communes) -> None:
    cotonou, calavi = communes["cotonou"].id, communes["abomey-calavi"].id
    citizen = _contact(session, "+2290197000001", cotonou)
    # 23:30 UTC is 00:30 the next day in Porto-Novo.
    _inbound(session, citizen, datetime(2026, 11, 21, 23, 30, tzinfo=UTC))
    _inbound(session, citizen, datetime(2026, 11, 21, 22, 30, tzinfo=UTC))
    _outbound(session, citizen, datetime(2026, 11, 22, 10, 0, tzinfo=UTC))
    # The first of the 30 days starts at local midnight, 23:00 UTC the day before.
    _inbound(session, citizen, datetime(2026, 10, 23, 23, 0, tzinfo=UTC))
    _inbound(session, citizen, datetime(2026, 10, 23, 22, 59, tzinfo=UTC))
    session.commit()

    found = figures.messages_per_day(session, [cotonou, calavi], TODAY)
    assert [r.day for r in found[cotonou]] == figures.local_days(TODAY)
    assert len(found[cotonou]) == 30
    assert found[cotonou][0].day == date(2026, 10, 24)
    assert _day(found[cotonou], TODAY) == (1, 1)
    assert _day(found[cotonou], date(2026, 11, 21)) == (1, 0)
    assert _day(found[cotonou], date(2026, 10, 24)) == (1, 0)
    assert sum(r.inbound for r in found[cotonou]) == 3
    assert sum(r.inbound + r.outbound for r in found[calavi]) == 0


def test_a_broadcast_message_counts_for_the_broadcasts_commune(session, communes) -> None:
    cotonou, calavi = communes["cotonou"].id, communes["abomey-calavi"].id
    lives_in_calavi = _contact(session, "+2290197000002", calavi)
    nowhere = _contact(session, "+2290197000003", None)
    alert = _broadcast(session, cotonou, NOW, sent=1)
    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    _outbound(session, lives_in_calavi, at, alert)
    _outbound(session, nowhere, at, alert)
    _outbound(session, lives_in_calavi, at)
    # No commune chosen and no broadcast: counted nowhere.
    _outbound(session, nowhere, at)
    _inbound(session, nowhere, at)
    session.commit()

    found = figures.messages_per_day(session, [cotonou, calavi], TODAY)
    assert _day(found[cotonou], TODAY) == (0, 2)
    assert _day(found[calavi], TODAY) == (0, 1)


def test_feedback_by_status_lists_every_status(session, communes) -> None:
    cotonou, akpro = communes["cotonou"].id, communes["akpro-missere"].id
    _feedback(session, cotonou, FeedbackStatus.RECEIVED, NOW)
    _feedback(session, cotonou, FeedbackStatus.RECEIVED, NOW)
    _feedback(session, cotonou, FeedbackStatus.RESOLVED, NOW)
    session.commit()
    found = figures.feedback_by_status(session, [cotonou, akpro])
    assert found[cotonou] == {
        "received": 2,
        "acknowledged": 0,
        "in_progress": 0,
        "resolved": 1,
        "rejected": 0,
        "duplicate": 0,
    }
    assert set(found[akpro].values()) == {0}


def test_open_feedback_falls_in_age_buckets(session, communes) -> None:
    cotonou = communes["cotonou"].id
    ages = {
        timedelta(hours=47): FeedbackStatus.RECEIVED,
        timedelta(days=2): FeedbackStatus.ACKNOWLEDGED,
        timedelta(days=6): FeedbackStatus.IN_PROGRESS,
        timedelta(days=8): FeedbackStatus.RECEIVED,
        timedelta(days=29): FeedbackStatus.RECEIVED,
        timedelta(days=31): FeedbackStatus.IN_PROGRESS,
        timedelta(days=400): FeedbackStatus.IN_PROGRESS,
    }
    for age, status in ages.items():
        _feedback(session, cotonou, status, NOW - age)
    # Closed tickets are not open, however old.
    _feedback(session, cotonou, FeedbackStatus.RESOLVED, NOW - timedelta(days=60))
    _feedback(session, cotonou, FeedbackStatus.DUPLICATE, NOW - timedelta(hours=1))
    session.commit()

    found = figures.open_feedback_by_age(session, [cotonou], NOW)[cotonou]
    assert found == {
        "lt_2d": {"received": 1, "acknowledged": 0, "in_progress": 0},
        "2_7d": {"received": 0, "acknowledged": 1, "in_progress": 1},
        "7_30d": {"received": 2, "acknowledged": 0, "in_progress": 0},
        "gt_30d": {"received": 0, "acknowledged": 0, "in_progress": 2},
    }


def test_delivery_of_the_ten_most_recent_started_broadcasts(session, communes) -> None:
    cotonou, calavi = communes["cotonou"].id, communes["abomey-calavi"].id
    for n in range(12):
        _broadcast(session, cotonou, NOW - timedelta(days=n), sent=n, delivered=10, failed=2)
    _broadcast(session, cotonou, None)  # a draft never started
    _broadcast(session, calavi, NOW, queued=5)
    session.commit()

    found = figures.recent_broadcast_delivery(session, [cotonou, calavi])
    assert len(found[cotonou]) == 10
    assert [b.started_at for b in found[cotonou]] == [NOW - timedelta(days=n) for n in range(10)]
    newest = found[cotonou][0]
    assert (newest.sent, newest.delivered, newest.failed) == (0, 10, 2)
    assert newest.rate == pytest.approx(100 * 10 / 12)
    assert found[cotonou][9].rate == pytest.approx(100 * 10 / 21)
    # Still all queued: nothing handed to a provider yet, so no rate rather than 0 %.
    [queued] = found[calavi]
    assert queued.rate is None


def test_figures_of_no_commune_ask_nothing(session) -> None:
    with count_queries(session) as statements:
        assert figures.messages_per_day(session, [], TODAY) == {}
        assert figures.feedback_by_status(session, []) == {}
        assert figures.open_feedback_by_age(session, [], NOW) == {}
        assert figures.recent_broadcast_delivery(session, []) == {}
        assert figures.subscriber_counts(session, []) == {}
    assert statements == []


def test_100000_messages_are_counted_in_two_grouped_queries(session, communes) -> None:
    ids = [c.id for c in communes.values()]
    contacts = [
        {"phone_e164": f"+22901970{n:05d}", "commune_id": ids[n % 3] if n % 10 else None}
        for n in range(300)
    ]
    session.execute(insert(Contact), contacts)
    contact_ids = [c.id for c in session.query(Contact.id).order_by(Contact.id)]
    start = datetime(2026, 10, 24, tzinfo=UTC)
    inbound = [
        {
            "provider": Provider.CONSOLE,
            "external_id": f"bulk-{n}",
            "channel": Channel.SMS,
            "contact_id": contact_ids[n % 300],
            "sender": "+2290197000000",
            "text": "",
            "media": [],
            "received_at": start + timedelta(minutes=n % 43_000),
        }
        for n in range(60_000)
    ]
    outbound = [
        {
            "contact_id": contact_ids[n % 300],
            "channel": Channel.SMS,
            "provider": Provider.CONSOLE,
            "text": "Bonjour",
            "status": "sent",
            "attempts": 0,
            "segments": 1,
            "cost": 0,
            "created_at": start + timedelta(minutes=n % 43_000),
            "updated_at": start,
        }
        for n in range(40_000)
    ]
    session.execute(insert(InboundMessage), inbound)
    session.execute(insert(OutboundMessage), outbound)
    session.commit()

    began = time.perf_counter()
    with count_queries(session) as statements:
        found = figures.messages_per_day(session, ids, TODAY)
    elapsed = time.perf_counter() - began

    assert len(statements) == 2
    # Contacts 0, 10, 20... chose no commune: a tenth of the messages is counted nowhere.
    assert sum(r.inbound for rows in found.values() for r in rows) == 54_000
    assert sum(r.outbound for rows in found.values() for r in rows) == 36_000
    assert elapsed < 5, f"{elapsed:.2f} s for 100,000 messages"
