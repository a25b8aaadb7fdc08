"""Database down: the webhooks still answer in time and lose nothing.

Inbound SMS and WhatsApp never wait on the database: the webhook buffers them in Redis
and answers 200, and the ingest job stores them once the database is back (a 503 here
would only make the provider send again what is already safe). STOP is obeyed before
the 200, so it alone gets a 503 and is retried. A USSD hop that cannot read what it
needs answers the polite END; one that cannot store the commune chosen goes on. The
same app serves again when the database returns, without a restart.

SQLite cannot be "down" while its file is there; what happens to it is another process
holding the write lock (a backup, a long migration): writers wait `busy_timeout`, then
give up. PostgreSQL (with DATABASE_URL) is refused and its connections cut, as when the
server restarts; a PostgreSQL that accepts and never answers is a server of the test's own.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, func, make_url, select, text

from bot import create_app, models
from bot.channels.inbound import ingest
from bot.config import normalize_database_url
from bot.db import (
    AUTOCOMMIT_BUSY_TIMEOUT_MS,
    POSTGRES_CONNECT_TIMEOUT_SECONDS,
    SQLITE_BUSY_TIMEOUT_MS,
    dispose_engines,
)
from bot.models.enums import Provider
from tests.faults.conftest import (
    POLITE_END,
    QUICK_SECONDS,
    USSD_DEADLINE_SECONDS,
    RedisUnderTest,
    SilentServer,
    at_sms_form,
    meta_body,
    release_retries,
    timed_get,
    timed_post,
    twilio_form,
    ussd_form,
)

SQLITE_BUSY_SECONDS = SQLITE_BUSY_TIMEOUT_MS / 1000
"""How long a SQLite writer waits for the lock."""
AUTOCOMMIT_BUSY_SECONDS = AUTOCOMMIT_BUSY_TIMEOUT_MS / 1000
"""The same for a USSD hop's lone write (bot/db.py)."""


def _buffered_messages(client) -> list:
    return [
        timed_post(
            client,
            "/webhooks/at/sms",
            data=at_sms_form("+2290197200001", "BUDGET COTONOU", "at-db-1"),
        ),
        timed_post(
            client,
            "/webhooks/twilio/messages",
            data=twilio_form("+2290197200002", "budget calavi", "SMdb1", whatsapp=True),
        ),
        timed_post(
            client,
            "/webhooks/whatsapp",
            data=meta_body("+2290197200003", "pta akpro", "wamid.db1"),
            content_type="application/json",
        ),
    ]


BUFFERED = {
    (Provider.AFRICASTALKING, "at-db-1"),
    (Provider.TWILIO, "SMdb1"),
    (Provider.META, "wamid.db1"),
}
STOP_PHONE = "+2290197200004"


def _stop(client):
    return timed_post(
        client, "/webhooks/at/sms", data=at_sms_form(STOP_PHONE, "STOP", "at-db-stop")
    )


def _stored(session) -> list[tuple[Provider, str]]:
    session.rollback()
    return sorted(
        session.execute(
            select(models.InboundMessage.provider, models.InboundMessage.external_id)
        ).all()
    )


def _recovered(client, session, run_jobs, app: Flask) -> None:
    """What must hold once the database is back: same app, nothing lost, nothing twice."""
    assert client.post("/webhooks/at/ussd", data=ussd_form("+2290197200009")).text.startswith(
        "CON "
    )
    assert _stop(client).status == 200  # the provider's retry of the STOP
    release_retries(app)  # ingest jobs that failed meanwhile: their retry time has come
    run_jobs()
    assert _buffered_messages(client)[0].status == 200  # a late provider retry, dropped
    run_jobs()
    stored = _stored(session)
    assert set(stored) == BUFFERED | {(Provider.AFRICASTALKING, "at-db-stop")}
    assert len(stored) == len(set(stored))
    contact = session.scalar(select(models.Contact).where(models.Contact.phone_e164 == STOP_PHONE))
    assert contact.opted_out_at is not None
    answered = session.scalar(select(func.count(func.distinct(models.OutboundMessage.contact_id))))
    assert answered == len(BUFFERED) + 1


@contextmanager
def sqlite_write_locked(database_url: str) -> Iterator[None]:
    """Another process's write transaction, held: every writer of the app waits, then fails."""
    holder = sqlite3.connect(make_url(database_url).database, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


@contextmanager
def postgres_refusing(database_url: str) -> Iterator[None]:
    """The database refuses new connections and its open ones are cut (a server restart)."""
    name = make_url(database_url).database
    admin = create_engine(
        make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
        admin.dispose()


@dataclass(frozen=True)
class DatabaseFault:
    down: Callable[[str], AbstractContextManager[None]]
    wait_seconds: float  # what a writer waits before it gives up
    reads_fail: bool


# The fault of the database the suite runs on: SQLite's, or PostgreSQL's with DATABASE_URL.
FAULT = (
    DatabaseFault(postgres_refusing, wait_seconds=0.0, reads_fail=True)
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))
    else DatabaseFault(sqlite_write_locked, wait_seconds=SQLITE_BUSY_SECONDS, reads_fail=False)
)


def test_database_down_answers_in_time_and_the_same_app_recovers(
    app, client, communes, session, run_jobs, database_url
) -> None:
    bound = FAULT.wait_seconds + QUICK_SECONDS
    session.close()  # on PostgreSQL its connection is cut too; it reconnects afterwards
    caller = "+2290197200008"
    with FAULT.down(database_url):
        dial = timed_post(client, "/webhooks/at/ussd", data=ussd_form(caller))
        # Choosing the commune is the caller's first write (the dial only reads).
        choice = timed_post(client, "/webhooks/at/ussd", data=ussd_form(caller, "1"))
        buffered = _buffered_messages(client)
        stop = _stop(client)
        report = timed_post(
            client,
            "/webhooks/twilio/status",
            data={"MessageSid": "SMout1", "MessageStatus": "delivered", "AccountSid": "AC1"},
        )
        health = timed_get(client, "/healthz")
        run_jobs()  # the ingest job gives up and is retried later
    if FAULT.reads_fail:
        assert (dial.status, dial.text, dial.seconds < QUICK_SECONDS) == (200, POLITE_END, True)
    else:
        assert (dial.status, dial.text[:4], dial.seconds < QUICK_SECONDS) == (200, "CON ", True)
        # The choice waits the autocommit engine's shorter busy timeout, then the
        # caller goes on in Cotonou's menu, the choice held by the session alone.
        assert (choice.status, choice.text[:4]) == (200, "CON ")
        assert "Communes+ Cotonou" in choice.text
        assert choice.seconds < AUTOCOMMIT_BUSY_SECONDS + QUICK_SECONDS
        assert (
            session.scalar(select(models.Contact).where(models.Contact.phone_e164 == caller))
            is None
        )
    for answer in buffered:
        assert (answer.status, answer.seconds < QUICK_SECONDS) == (200, True)
    assert (stop.status, stop.response.headers["Retry-After"]) == (503, "30")
    assert stop.seconds < bound
    if FAULT.reads_fail:
        for answer in (report, health):
            assert (answer.status, answer.seconds < QUICK_SECONDS) == (503, True)
        assert health.response.get_json()["database"] == "down"
    else:
        # Under SQLite's write lock reads go on: the health check and a report for a
        # message we never sent (a read, nothing to write) are answered as usual.
        assert (report.status, health.status) == (200, 200)
    assert _stored(session) == []
    _recovered(client, session, run_jobs, app)


def test_hung_postgres_gives_up_within_the_connect_timeout(
    tmp_path: Path, redis_under_test: RedisUnderTest, silent_server: SilentServer
) -> None:
    """A server that accepts and never answers: no webhook waits psycopg's 130 s default."""
    url = normalize_database_url(f"postgresql://communes@127.0.0.1:{silent_server.port}/communes")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": url,
            "REDIS_URL": redis_under_test.url,
            "SECRET_KEY": "test-secret",
        }
    )
    client = app.test_client()
    bound = POSTGRES_CONNECT_TIMEOUT_SECONDS + QUICK_SECONDS
    dial = timed_post(client, "/webhooks/at/ussd", data=ussd_form("+2290197200008"))
    assert (dial.status, dial.text) == (200, POLITE_END)
    assert dial.seconds < min(bound, USSD_DEADLINE_SECONDS)
    health = timed_get(client, "/healthz")
    assert (health.status, health.seconds < bound) == (503, True)
    sms = timed_post(client, "/webhooks/at/sms", data=at_sms_form("+2290197200001", "AIDE", "x1"))
    assert (sms.status, sms.seconds < QUICK_SECONDS) == (200, True)  # buffered in Redis
    assert silent_server.accepted >= 1
    dispose_engines(app)


def _sms(client, phone: str, text: str, message_id: str) -> None:
    assert client.post("/webhooks/at/sms", data=at_sms_form(phone, text, message_id)).status == (
        "200 OK"
    )


def _replies(session, phone: str) -> list[str]:
    session.rollback()
    return session.scalars(
        select(models.OutboundMessage.text)
        .join(models.Contact)
        .where(models.Contact.phone_e164 == phone)
        .order_by(models.OutboundMessage.id)
    ).all()


def test_a_reply_that_failed_while_the_database_was_down_is_sent_once_when_it_returns(
    app, client, communes, session, run_jobs, database_url
) -> None:
    """The message is stored; its reply job fails and is retried until it can answer.

    The retry plays the turn from where the conversation stood: had the failed try
    saved its state, the retry would read the area's "1" as the answer to the next
    question (the turn itself writes nothing; storing its reply is what fails).
    """
    walk = ("AVIS les caniveaux de Zogbo debordent", "1", "1")  # the commune, the area
    control, phone = "+2290197200011", "+2290197200010"
    for n, said in enumerate(walk):
        _sms(client, control, said, f"at-db-control-{n}")
        run_jobs()
    for n, said in enumerate(walk[:-1]):
        _sms(client, phone, said, f"at-db-{n}")
        run_jobs()
    _sms(client, phone, walk[-1], "at-db-area")
    with app.app_context():
        assert ingest() == 1  # stored; its reply job is queued
    session.close()
    with FAULT.down(database_url):
        run_jobs()  # the reply job cannot write its reply: it fails, a retry is scheduled
    assert release_retries(app) == 1
    run_jobs()
    assert release_retries(app) == 0  # the retry answered: nothing left to try again
    assert _replies(session, phone) == _replies(session, control)
    unanswered = select(func.count()).where(models.InboundMessage.answered_at.is_(None))
    assert session.scalar(unanswered) == 0
