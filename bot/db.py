"""Engine, session and declarative Base, bound to the app by `init_app`.

One engine per app; one session per request (or job), removed at teardown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from flask import Flask, current_app
from flask.globals import app_ctx
from sqlalchemy import Engine, MetaData, create_engine, event, make_url
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

# Stable constraint names: Alembic can only alter or drop what it can name, and
# SQLite batch migrations need names to recreate tables.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a SQLite writer waits for another's write lock before it gives up."""
AUTOCOMMIT_BUSY_TIMEOUT_MS = 1000
"""The same for the autocommit engine's lone writes, made while a caller waits: a
USSD hop goes on without its write rather than hold up the callers queued behind."""


def _sqlite_settings(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def configure(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the web process read while the worker writes.
        cursor.execute("PRAGMA journal_mode=WAL")
        # Durable across a crash of the app; only an OS crash or power cut may lose
        # the last commits. Without it every webhook waits for an fsync.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return configure


POSTGRES_CONNECT_TIMEOUT_SECONDS = 3
"""Longest a new PostgreSQL connection may take; libpq counts whole seconds, at least 2."""

_SQLITE_WRITE_LOCKS: dict[str, threading.Lock] = {}


def write_lock(session: Session) -> AbstractContextManager[object]:
    """Serialize this process's SQLite write transactions; a no-op elsewhere.

    SQLite takes one writer at a time, and a thread that finds the database
    locked sleeps in growing steps (busy_timeout) instead of waking when the
    lock frees: queueing on a Python lock instead keeps webhook latency flat.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        return nullcontext()
    return _SQLITE_WRITE_LOCKS.setdefault(str(bind.url), threading.Lock())


def make_engine(
    url: str, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **options: Any
) -> Engine:
    """The engine of `url`; `options` go to `create_engine` (an isolation level)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, **options)
        event.listen(engine, "connect", _sqlite_settings(busy_timeout_ms))
        return engine
    parsed = make_url(url)
    connect_args: dict[str, int] = {}
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        # psycopg waits 130 s by default for a server that accepts and never answers;
        # a webhook must give up (and answer 503 or USSD's polite END) long before.
        connect_args["connect_timeout"] = POSTGRES_CONNECT_TIMEOUT_SECONDS
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args=connect_args,
        **options,
    )


def _app_context_id() -> int:
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    app.extensions["db_engine"] = engine
    # A pool of its own: connections set to autocommit once, when they open,
    # where switching a shared connection back and forth costs more than the
    # statements run on it (bot/contacts.py).
    app.extensions["db_autocommit"] = make_engine(
        app.config["DATABASE_URL"],
        busy_timeout_ms=AUTOCOMMIT_BUSY_TIMEOUT_MS,
        isolation_level="AUTOCOMMIT",
    )
    # One session per app context (not per thread): a job run inside a test's
    # context, or a nested context, gets its own session and leaves others alone.
    app.extensions["db_session"] = scoped_session(factory, scopefunc=_app_context_id)

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        app.extensions["db_session"].remove()


def dispose_engines(app: Flask) -> None:
    """Close every pooled connection of the app's engines (tests, before a database goes)."""
    app.extensions["db_engine"].dispose()
    app.extensions["db_autocommit"].dispose()


def get_engine() -> Engine:
    return current_app.extensions["db_engine"]


def get_autocommit_engine() -> Engine:
    """The app's engine with every statement its own transaction: one statement, no BEGIN/COMMIT.

    For a lone read or write on a path answered while a caller waits (a USSD
    hop), where a session's transaction costs more than the statement.
    """
    return current_app.extensions["db_autocommit"]


def get_session() -> Session:
    """The session of the current app context (request, CLI command or job)."""
    return current_app.extensions["db_session"]()


_AFTER_COMMIT = "after_commit_calls"


def after_commit(session: Session, call: Callable[[], object]) -> None:
    """Run `call` once the session commits; forget it on rollback.

    For work outside the database (queueing a job) that must neither run for
    rows a rollback took back nor be skipped for rows that were committed.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(call)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for call in session.info.pop(_AFTER_COMMIT, ()):
        call()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


@contextmanager
def transaction() -> Iterator[Session]:
    """Commit on success, roll back on any error, so a failure records nothing."""
    session = get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
