"""Fixtures on real parts: an embedded Redis (or REDIS_URL), a SQLite database
(or the PostgreSQL server of DATABASE_URL, in a database made for this run)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from rq import SimpleWorker
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.orm import Session

from bot import create_app, migrate, passwords
from bot.config import normalize_database_url
from bot.content.loader import load_content
from bot.db import Base, dispose_engines, get_session
from bot.models import Commune, StaffRole, StaffUser
from bot.models.enums import StaffRoleName
from bot.redis import QUEUE_NAMES, EmbeddedRedis, get_queue, get_redis
from bot.staff import create_staff

STAFF_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    """argon2id with its smallest cost: the same code and format, a millisecond a hash.

    Production's cost (about 0.3 s a hash on this machine) is right against a
    stolen database and wrong for hundreds of test logins; test_passwords.py
    checks the production parameters themselves.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
        )
        yield


def redis_database_url(configured: str) -> str:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    parts = urlsplit(configured)
    database = int(parts.path.strip("/") or 0) + offset
    return urlunsplit(parts._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set (its database is flushed by every test), else an embedded server.

    Under pytest-xdist each process takes the next database number of REDIS_URL,
    so two processes never flush each other's data.
    """
    if os.environ.get("REDIS_URL"):
        url = redis_database_url(os.environ["REDIS_URL"])
        yield url
        return
    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis-instance"))
    embedded.ensure_running()
    yield embedded.url
    embedded.stop()


def _migrated(url: str, instance: Path) -> None:
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(instance), "TESTING": True})
    migrate.upgrade(app)
    dispose_engines(app)


@contextmanager
def fresh_server_database(configured: str, prefix: str, instance: Path) -> Iterator[str]:
    """A new, migrated database on the server of `configured`, dropped on leaving."""
    server = make_url(normalize_database_url(configured))
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        _migrated(url, instance)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def server_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """With DATABASE_URL set: a fresh database on that server, migrated, dropped at the end."""
    configured = os.environ.get("DATABASE_URL")
    if not configured:
        yield None
        return
    with fresh_server_database(
        configured, "communes_test", tmp_path_factory.mktemp("pg-instance")
    ) as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy, cheaper than migrating again."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    _migrated(f"sqlite:///{directory / 'template.db'}", directory)
    return directory / "template.db"


@pytest.fixture
def database_url(
    server_database_url: str | None, sqlite_template: Path, tmp_path: Path
) -> Iterator[str]:
    if server_database_url is None:
        target = tmp_path / "communes.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    yield server_database_url
    engine = create_engine(server_database_url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "test-secret",
        }
    )
    get_redis(app).flushdb()
    yield app
    dispose_engines(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def run_jobs(app: Flask) -> Callable[[], None]:
    """Run every queued job on a real RQ worker (in burst mode, in this process)."""

    def run() -> None:
        with app.app_context():
            queues = [get_queue(name, app) for name in QUEUE_NAMES]
            SimpleWorker(queues, connection=get_redis(app)).work(burst=True)

    return run


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context():
        yield get_session()


@pytest.fixture
def communes(session: Session) -> dict[str, Commune]:
    load_content(session)
    session.commit()
    return {c.slug: c for c in session.scalars(select(Commune))}


@pytest.fixture
def make_staff(session: Session, communes: dict[str, Commune]) -> Callable[..., StaffUser]:
    def make(
        email: str,
        *,
        name: str = "Agent Test",
        national_admin: bool = False,
        roles: dict[str, str] | None = None,
    ) -> StaffUser:
        user = create_staff(
            session,
            email=email,
            name=name,
            password=STAFF_PASSWORD,
            national_admin=national_admin,
            actor="test",
        )
        for slug, role in (roles or {}).items():
            session.add(
                StaffRole(
                    staff_user_id=user.id,
                    commune_id=communes[slug].id,
                    role=StaffRoleName(role),
                )
            )
        session.commit()
        return user

    return make
