"""Model behaviour that the database must enforce, on SQLite and PostgreSQL alike."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from bot.models import (
    Broadcast,
    BudgetLine,
    Commune,
    Contact,
    InboundMessage,
    OutboundMessage,
    Project,
)
from bot.models.enums import (
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    Channel,
    MessageStatus,
    ProjectStatus,
    Provider,
    Topic,
)
from bot.models.messaging import status_can_move


@pytest.fixture
def commune(session):
    commune = Commune(slug="cotonou", name="Cotonou", department="Littoral")
    session.add(commune)
    session.commit()
    return commune


def test_datetimes_come_back_aware_utc(session) -> None:
    porto_novo = timezone(timedelta(hours=1))
    contact = Contact(
        phone_e164="+2290197123456",
        whatsapp_last_inbound_at=datetime(2026, 3, 1, 9, 30, tzinfo=porto_novo),
    )
    session.add(contact)
    session.commit()
    session.expire_all()
    stored = session.scalar(select(Contact)).whatsapp_last_inbound_at
    assert stored == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(session) -> None:
    session.add(Contact(phone_e164="+2290197000001", opted_out_at=datetime(2026, 1, 1)))
    with pytest.raises(StatementError, match="naive datetime"):
        session.commit()


def test_enums_are_stored_by_value(session, commune) -> None:
    session.add(
        BudgetLine(
            commune_id=commune.id,
            fiscal_year=2025,
            phase=BudgetPhase.VOTED,
            direction=BudgetDirection.DEPENSE,
            section=BudgetSection.INVESTISSEMENT,
            sector="voirie",
            amount_xof=45_200_000_000,
        )
    )
    session.commit()
    row = session.execute(text("SELECT phase, direction, section, amount_xof FROM budget_lines"))
    assert tuple(row.one()) == ("voted", "depense", "investissement", 45_200_000_000)


def test_project_progress_is_a_percentage(session, commune) -> None:
    session.add(
        Project(
            commune_id=commune.id,
            fiscal_year=2025,
            title="Pavage",
            sector="voirie",
            status=ProjectStatus.IN_PROGRESS,
            progress=140,
            budget_xof=1,
        )
    )
    with pytest.raises(IntegrityError):
        session.commit()


def test_inbound_retry_cannot_be_stored_twice(session) -> None:
    def message() -> InboundMessage:
        return InboundMessage(
            provider=Provider.AFRICASTALKING,
            external_id="5f0c2a91",
            channel=Channel.SMS,
            sender="+2290196112233",
            text="Bonjour mairie",
        )

    session.add(message())
    session.commit()
    session.add(message())
    with pytest.raises(IntegrityError):
        session.commit()


def test_broadcast_cannot_send_twice_to_one_person_on_one_channel(session, commune) -> None:
    contact = Contact(phone_e164="+2290197123456")
    broadcast = Broadcast(commune_id=commune.id, topic=Topic.REDDITION)
    session.add_all([contact, broadcast])
    session.flush()

    def row(channel: Channel) -> OutboundMessage:
        return OutboundMessage(
            contact_id=contact.id,
            broadcast_id=broadcast.id,
            channel=channel,
            provider=Provider.CONSOLE,
            text="Reddition de comptes samedi",
        )

    session.add_all([row(Channel.SMS), row(Channel.WHATSAPP)])
    session.commit()
    session.add(row(Channel.SMS))
    with pytest.raises(IntegrityError):
        session.commit()


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        (MessageStatus.QUEUED, MessageStatus.SENT, True),
        (MessageStatus.SENT, MessageStatus.DELIVERED, True),
        (MessageStatus.DELIVERED, MessageStatus.SENT, False),
        (MessageStatus.DELIVERED, MessageStatus.READ, True),
        (MessageStatus.READ, MessageStatus.DELIVERED, False),
        (MessageStatus.SENT, MessageStatus.FAILED, True),
        (MessageStatus.FAILED, MessageStatus.DELIVERED, False),
        (MessageStatus.QUEUED, MessageStatus.QUEUED, False),
    ],
)
def test_status_only_moves_forward(current, new, moves) -> None:
    assert status_can_move(current, new) is moves
