"""The weekly SMS digest: what it says, who gets it, once a week, through the broadcast path.

Africa's Talking's bulk API is a fake server on loopback; the job, the broadcast
machinery and the worker are real.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import models
from bot.api.openapi import SCHEMAS
from bot.broadcasts import audience, compose
from bot.broadcasts.compose import BroadcastInvalid, message_text
from bot.dashboard import broadcast_edit
from bot.dashboard.forms import FormInvalid
from bot.gsm import is_gsm7, segment_info
from bot.i18n import t
from bot.models.enums import (
    BroadcastStatus,
    Channel,
    DocumentType,
    FeedbackCategory,
    FeedbackStatus,
    Topic,
)
from bot.models.types import utcnow
from bot.participation import digest
from bot.participation.digest import Item, WeekNews
from bot.redis import get_queue
from tests.broadcasts.conftest import BULK
from tests.fakes.provider import FakeProvider
from tests.participation.dialog import UssdPhone, message
from workers.digest import JOB, enqueue_if_due

PORTO_NOVO = ZoneInfo("Africa/Porto-Novo")
_numbers = itertools.count(1)


@pytest.fixture
def subscriber(session: Session, loaded: None) -> Callable[..., models.Contact]:
    def make(
        topic: Topic = Topic.DIGEST,
        commune: str = "cotonou",
        language: str | None = None,
        opted_out: bool = False,
    ) -> models.Contact:
        contact = models.Contact(
            phone_e164=f"+22901971{next(_numbers):05d}",
            language=language,
            opted_out_at=utcnow() if opted_out else None,
        )
        session.add(contact)
        session.flush()
        commune_id = session.scalar(select(models.Commune.id).where(models.Commune.slug == commune))
        session.add(
            models.Subscription(
                contact_id=contact.id, commune_id=commune_id, topic=topic, channel=Channel.SMS
            )
        )
        session.commit()
        return contact

    return make


def _received(fake: FakeProvider) -> dict[str, str]:
    """Each number the fake AT took a message for, with the text it got (each once)."""
    got: dict[str, str] = {}
    for request in fake.requests_to(BULK):
        for number in request.form["to"].split(","):
            assert number not in got, f"{number} got two messages"
            got[number] = request.form["message"]
    return got


def _digests(session: Session) -> list[models.Broadcast]:
    session.rollback()
    return list(
        session.scalars(select(models.Broadcast).where(models.Broadcast.topic == Topic.DIGEST))
    )


def test_the_job_run_twice_sends_one_sms_to_each_subscriber(
    app, session, subscriber, fake_at, run_jobs
) -> None:
    french = subscriber()
    english = subscriber(language="en")
    subscriber(topic=Topic.ALL)  # every alert, but not the digest
    subscriber(opted_out=True)
    subscriber(commune="abomey-calavi", opted_out=True)  # its only subscriber said STOP
    queue = get_queue("default", app)
    queue.enqueue(JOB)
    queue.enqueue(JOB)
    run_jobs()
    queue.enqueue(JOB)  # and once more, later in the week
    run_jobs()

    got = _received(fake_at)
    assert set(got) == {french.phone_e164, english.phone_e164}
    [sent] = _digests(session)
    assert sent.status is BroadcastStatus.DONE and sent.channels == ["sms"]
    assert sent.count_sent == 2
    # The sample content was loaded just now: its documents are this week's news.
    assert got[french.phone_e164].startswith("Communes+ Cotonou")
    assert t("sample.label", "fr") in got[french.phone_e164]
    assert "Nouveaux documents" in got[french.phone_e164]
    assert "New documents" in got[english.phone_e164]
    for text in got.values():
        assert is_gsm7(text) and segment_info(text).segments <= digest.SMS_MAX_SEGMENTS
        assert "STOP" in text


MONDAY = datetime(2030, 1, 7, 9, 30, tzinfo=PORTO_NOVO).astimezone(UTC)
"""A Monday long after the sample content's sessions and documents."""


def test_nothing_goes_for_a_commune_with_no_news(session, subscriber) -> None:
    subscriber()
    sent = digest.send_weekly(session, MONDAY)
    assert sent.unchanged == ["cotonou"]
    assert sent.started == [] and _digests(session) == []


def _ticket(session: Session, commune: str, ref: str) -> models.Feedback:
    ticket = models.Feedback(
        ref=ref,
        commune_id=session.scalar(select(models.Commune.id).where(models.Commune.slug == commune)),
        channel=Channel.SMS,
        category=FeedbackCategory.VOIRIE,
        text="Nid de poule",
    )
    session.add(ticket)
    session.flush()
    return ticket


def test_answers_to_feedback_are_counted_not_told(session, subscriber) -> None:
    subscriber()
    answered = _ticket(session, "cotonou", "AV-TEST2")
    filed_only = _ticket(session, "cotonou", "AV-TEST3")
    elsewhere = _ticket(session, "abomey-calavi", "AV-TEST4")
    week_ago = MONDAY - timedelta(days=8)
    for ticket, at, old in (
        (answered, MONDAY - timedelta(days=3), None),
        (answered, MONDAY - timedelta(days=2), FeedbackStatus.RECEIVED),
        (answered, MONDAY - timedelta(days=1), FeedbackStatus.IN_PROGRESS),
        (filed_only, MONDAY - timedelta(days=1), None),
        (elsewhere, MONDAY - timedelta(days=1), FeedbackStatus.RECEIVED),
        (filed_only, week_ago, FeedbackStatus.RECEIVED),  # last week's answer
    ):
        session.add(
            models.FeedbackUpdate(
                feedback_id=ticket.id,
                old_status=old,
                new_status=FeedbackStatus.IN_PROGRESS,
                public_note="Equipe envoyee",
                created_at=at,
            )
        )
    session.commit()
    cotonou = session.scalar(select(models.Commune).where(models.Commune.slug == "cotonou"))
    week = digest.news(session, cotonou, MONDAY)
    assert (week.events, week.documents, week.answers) == ((), (), 1)
    text = digest.digest_text(week, "fr")
    assert t("digest.answers_one", "fr") in text
    # Nothing of sample content in it: no sample label; no note, no reference either.
    assert t("sample.label", "fr") not in text
    assert "AV-TEST2" not in text and "Equipe" not in text
    assert digest.send_weekly(session, MONDAY).started == ["cotonou"]


def test_a_second_run_in_the_week_writes_nothing(session, subscriber) -> None:
    subscriber()
    session.add(
        models.Document(
            commune_id=session.scalar(
                select(models.Commune.id).where(models.Commune.slug == "cotonou")
            ),
            type=DocumentType.PTA,
            fiscal_year=2030,
            title="Plan de travail annuel 2030",
            is_sample=False,
            created_at=MONDAY - timedelta(days=1),
        )
    )
    session.commit()
    assert digest.send_weekly(session, MONDAY).started == ["cotonou"]
    assert digest.send_weekly(session, MONDAY + timedelta(days=3)).already == ["cotonou"]
    next_week = digest.send_weekly(session, MONDAY + timedelta(days=7))
    assert next_week.unchanged == ["cotonou"]  # the document is last week's news now
    assert len(_digests(session)) == 1


def _week(events: int, documents: int, answers: int, sample: bool, title: str) -> WeekNews:
    start = datetime(2030, 1, 9, 8, 0, tzinfo=UTC)
    return WeekNews(
        commune_id=1,
        commune="Akpro-Missérété",
        events=tuple(Item(title, start + timedelta(days=i), sample) for i in range(events)),
        documents=tuple(Item(title, None, sample) for _ in range(documents)),
        answers=answers,
    )


LONG_TITLE = (
    "Session extraordinaire du conseil municipal « sur l'état des lieux » – "
    "l'œuvre des comités de quartier, la fête de l'igname et le budget rectificatif"
)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("sample", [False, True])
@pytest.mark.parametrize(
    ("events", "documents", "answers"),
    [(1, 0, 0), (0, 1, 0), (0, 0, 1), (2, 1, 3), (5, 4, 120), (1, 2, 0)],
)
@pytest.mark.parametrize("title", ["Session ordinaire", LONG_TITLE])
def test_every_digest_is_gsm7_in_two_segments_at_most(
    lang, sample, events, documents, answers, title
) -> None:
    week = _week(events, documents, answers, sample, title)
    sms = message_text(digest.digest_text(week, lang), lang, Channel.SMS)
    assert is_gsm7(sms)
    assert segment_info(sms).segments <= digest.SMS_MAX_SEGMENTS
    # Feedback answers are never sample data: only sessions and documents can be.
    assert (t("sample.label", lang) in sms) == (sample and bool(events or documents))
    assert sms.startswith("Communes+ Akpro-Missérété")


def test_the_week_starts_on_monday_at_nine_in_porto_novo() -> None:
    start = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)  # 09:00 in Porto-Novo (UTC+1)
    for now in (start, start + timedelta(hours=5), start + timedelta(days=6, hours=23)):
        assert digest.week_start(now, PORTO_NOVO) == start
    assert digest.week_start(start - timedelta(minutes=1), PORTO_NOVO) == start - timedelta(days=7)


def test_the_workers_queue_the_job_once_on_monday_daytime(app) -> None:
    connection = get_queue("default", app).connection
    start = datetime(2030, 1, 7, 8, 0, tzinfo=UTC)
    assert not enqueue_if_due(app, connection, start - timedelta(minutes=1))  # Monday 08:59
    assert enqueue_if_due(app, connection, start + timedelta(minutes=1))
    assert not enqueue_if_due(app, connection, start + timedelta(minutes=2))
    assert not enqueue_if_due(app, connection, start + timedelta(days=1, hours=5))  # next day
    assert [job.func_name for job in get_queue("default", app).get_jobs()] == [JOB]
    assert enqueue_if_due(app, connection, start + timedelta(days=7, minutes=1))


def test_abonne_resume_subscribes_to_the_digest_by_sms(client, session, loaded, run_jobs) -> None:
    phone = "+2290197998877"
    [consent] = message(client, session, run_jobs, phone, "ABONNE COTONOU RESUME")
    assert "par SMS chaque lundi un court résumé des nouveautés de Cotonou" in consent
    [done] = message(client, session, run_jobs, phone, "OUI")
    assert done.startswith("C'est fait")
    [again] = message(client, session, run_jobs, phone, "ABONNE COTONOU RESUME")
    assert again.startswith("Vous recevez déjà")
    contact = session.scalar(select(models.Contact).where(models.Contact.phone_e164 == phone))
    [subscription] = session.scalars(
        select(models.Subscription).where(models.Subscription.contact_id == contact.id)
    )
    assert (subscription.topic, subscription.channel) == (Topic.DIGEST, Channel.SMS)
    [consent_row] = session.scalars(
        select(models.Consent).where(models.Consent.contact_id == contact.id)
    )
    assert consent_row.channel is Channel.SMS and consent_row.withdrawn_at is None


def test_a_whatsapp_subscriber_is_recorded_with_the_channel_of_the_yes(
    client, session, loaded, run_jobs
) -> None:
    phone = "+2290197998866"
    message(client, session, run_jobs, phone, "abonner calavi hebdo", Channel.WHATSAPP)
    message(client, session, run_jobs, phone, "OUI", Channel.WHATSAPP)
    contact = session.scalar(select(models.Contact).where(models.Contact.phone_e164 == phone))
    subscription = session.scalar(
        select(models.Subscription).where(models.Subscription.contact_id == contact.id)
    )
    consent = session.scalar(select(models.Consent).where(models.Consent.contact_id == contact.id))
    assert (subscription.topic, subscription.channel) == (Topic.DIGEST, Channel.SMS)
    assert consent.channel is Channel.WHATSAPP


def test_the_digest_is_no_broadcast_topic_and_not_part_of_all(app, session, subscriber) -> None:
    only_digest = subscriber()
    everything = subscriber(topic=Topic.ALL)
    with pytest.raises(BroadcastInvalid) as refused:
        compose.create(
            session, commune_slug="cotonou", topic="digest", texts={"fr": "x"}, channels=["sms"]
        )
    assert refused.value.field == "topic" and "digest" not in refused.value.why
    to_all = compose.create(
        session, commune_slug="cotonou", topic=Topic.ALL, texts={"fr": "Alerte"}, channels=["sms"]
    )
    [group] = audience.groups(to_all, "fr")
    recipients = set(session.scalars(audience.recipients(to_all, group)))
    assert everything.id in recipients and only_digest.id not in recipients


def test_staff_forms_and_the_api_do_not_offer_the_digest(app) -> None:
    values = {"topic": "digest", "text_fr": "Bonjour", "channels": ["sms"]}
    with app.test_request_context(), pytest.raises(FormInvalid) as refused:
        broadcast_edit.check(values)
    assert set(refused.value.errors) == {"topic"}
    offered = SCHEMAS["BroadcastInput"]["properties"]["topic"]["enum"]
    assert "digest" not in offered and "all" in offered


def test_a_basic_phone_subscribes_from_the_ussd_menu(client, session, loaded) -> None:
    phone = UssdPhone(client, "+2290197998855")
    phone.participate(t("participate.subscribe", "fr"))
    consent = phone.choose(t("subscribe.topic.digest", "fr"))
    assert "par SMS chaque lundi" in consent
    done = phone.choose(t("subscribe.yes", "fr"))
    assert done.startswith("END C'est fait")
    session.rollback()
    subscription = session.scalar(select(models.Subscription))
    assert (subscription.topic, subscription.channel) == (Topic.DIGEST, Channel.SMS)
