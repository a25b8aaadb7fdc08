"""The shared Playwright harness: the real app in a real browser.

What you get (fixtures):

- `live_server`: the app served for real over HTTP on 127.0.0.1 (a free port),
  by werkzeug in a thread of the test process, on its own database (a copy of
  the migrated SQLite template, or a fresh database on the PostgreSQL server of
  DATABASE_URL) loaded with the sample content, its own Redis database (the
  embedded server, or REDIS_URL, under another database number) and the
  console provider (every provider setting cleared). A real RQ worker runs
  beside it for the whole session, started like the Procfile's (`rq worker
  --with-scheduler --worker-class workers.worker.AppWorker ... high default
  bulk`): replies, ingest jobs and broadcasts complete as in production.
  `live_server.url` is the origin; `live_server.app` is the same Flask app, for
  reading or writing through the service layer in a test:
  `with live_server.app.app_context(): session = get_session(); ...` (e.g. a
  staff login for dashboard tests: `bot.staff.create_staff(...)`, then commit).
- `browser`: headless Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH) through
  Playwright's sync API, one per session.
- `page`: a fresh browser context (own cookies) and page per test, with
  `base_url` set to the live server, so `page.goto("/simulator/")` works, a
  French locale and a 10 s default timeout. When the test fails, a full-page
  screenshot goes to `test-artifacts/screenshots/<test name>.png`.
- `screenshot`: `screenshot("name")` saves the page to
  `test-artifacts/screenshots/name.png`; `screenshot("name", docs=True)` also
  writes `docs/screenshots/name.png` when UPDATE_DOCS_SCREENSHOTS=1 (run that
  on purpose to refresh the README's pictures; ordinary runs leave docs alone).

Every test in this folder is marked `browser` (`pytest -m "not browser"` skips
them). Without Chromium or Playwright they are skipped with the reason, except
under CI=true, where that is a failure. Import Playwright's `expect` from here
(`from tests.browser.conftest import expect`), not from Playwright, so that a
missing Playwright skips instead of breaking collection.

The server, database and worker are shared by the whole session, so keep tests
independent of each other: each uses its own phone numbers, staff e-mails and
texts, and looks only for what it created itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from flask import Flask
from rq import Worker
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from bot import create_app
from bot.content.loader import load_content
from bot.db import dispose_engines, get_session
from bot.redis import QUEUE_NAMES, get_redis
from tests.conftest import fresh_server_database

try:
    from playwright.sync_api import expect
except ImportError:  # the tests are then skipped, or fail under CI (see _missing_browser)
    expect = None

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))

DEFAULT_TIMEOUT_MS = 10_000
WORKER_START_SECONDS = 30.0
WORKER_STOP_SECONDS = 10.0
LIVE_REDIS_DB_OFFSET = 8
"""The live server's Redis database is the tests' own plus this, modulo 16: the
other tests flush theirs between tests, and test processes under pytest-xdist
use consecutive numbers (tests/conftest.py), fewer than eight of them."""

# Settings that would send through a real provider or change webhook checks.
PROVIDER_SETTINGS = (
    "AT_USERNAME",
    "AT_API_KEY",
    "AT_SENDER_ID",
    "AT_WEBHOOK_TOKEN",
    "AT_API_BASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_FROM",
    "TWILIO_WHATSAPP_FROM",
    "TWILIO_API_BASE_URL",
    "WHATSAPP_TOKEN",
    "WHATSAPP_PHONE_NUMBER_ID",
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_API_BASE_URL",
    "PUBLIC_BASE_URL",
    "SIMULATOR_ENABLED",
)


def _missing_browser() -> str | None:
    """Why no browser can run here, or None."""
    if expect is None:
        return "Playwright is not installed (pip install -e '.[dev]')"
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Skipping here, before any fixture, spares starting the server for nothing.
    # Under CI the `browser` fixture fails instead.
    missing = None if os.environ.get("CI") == "true" else _missing_browser()
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Kept on the item so the page fixture knows, at teardown, whether the test failed.
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@dataclass(frozen=True)
class LiveServer:
    url: str
    app: Flask
    worker_log: Path


class _QuietHandler(WSGIRequestHandler):
    # One line per request would drown the test output; failures show in the page.
    def log_request(self, *_args: Any, **_kwargs: Any) -> None:
        return


def _other_redis_database(url: str) -> str:
    """`url` pointing at its database number plus LIVE_REDIS_DB_OFFSET, modulo 16."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        current = int(query.get("db", 0))
    else:
        current = int(parts.path.strip("/") or query.get("db", 0))
    number = str((current + LIVE_REDIS_DB_OFFSET) % 16)
    if parts.scheme == "unix":
        # urlunsplit would drop the `//` of `unix:///path` (an empty host).
        query["db"] = number
        return f"{url.partition('?')[0]}?{urlencode(query)}"
    query.pop("db", None)
    return urlunsplit(parts._replace(path=f"/{number}", query=urlencode(query)))


@pytest.fixture(scope="session")
def live_database_url(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the live server's own: the other tests empty theirs between tests."""
    configured = os.environ.get("DATABASE_URL")
    if not configured:
        target = tmp_path_factory.mktemp("live-db") / "communes.db"
        shutil.copyfile(sqlite_template, target)
        yield f"sqlite:///{target}"
        return
    with fresh_server_database(
        configured, "communes_browser", tmp_path_factory.mktemp("live-migrate")
    ) as url:
        yield url


def _start_worker(env: dict[str, str], redis_url: str, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "rq.cli",
        "worker",
        "--with-scheduler",
        "--worker-class",
        "workers.worker.AppWorker",
        "--url",
        redis_url,
        *QUEUE_NAMES,
    ]
    with log.open("wb") as output:
        return subprocess.Popen(command, env=env, cwd=REPO, stdout=output, stderr=subprocess.STDOUT)


def _wait_for_worker(app: Flask, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while not Worker.all(connection=get_redis(app)):
        if process.poll() is not None:
            pytest.fail(f"the RQ worker exited at start:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"the RQ worker did not register in time; see {log}")
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()  # RQ's warm shutdown: the job at hand finishes first
    try:
        process.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def live_server(
    live_database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("live-instance")
    settings = {
        "DATABASE_URL": live_database_url,
        "REDIS_URL": _other_redis_database(redis_url),
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "browser-tests-secret",
        "ENV": "development",
        # Off: these tests run at any hour, and at night every alert would be held
        # until 07:00 (quiet hours have tests of their own, in tests/broadcasts).
        "QUIET_HOURS": "00:00-00:00",
    }
    app = create_app({**settings, **dict.fromkeys(PROVIDER_SETTINGS)})
    get_redis(app).flushdb()
    with app.app_context():
        session = get_session()
        load_content(session)
        session.commit()

    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_SETTINGS}
    env.update(settings)
    log = instance / "worker.log"
    worker = _start_worker(env, settings["REDIS_URL"], log)
    server: BaseWSGIServer | None = None
    try:
        _wait_for_worker(app, worker, log)
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
        threading.Thread(target=server.serve_forever, name="live-server", daemon=True).start()
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app, worker_log=log)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        _stop(worker)
        get_redis(app).flushdb()
        dispose_engines(app)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    # Outside CI a missing browser was skipped at collection, with its reason;
    # here it can only be CI=true, where browser tests must run.
    missing = _missing_browser()
    if missing:
        pytest.fail(f"{missing} (CI=true: browser tests must run)", pytrace=False)
    from playwright.sync_api import Error, sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        except Error as error:
            # Installed but not starting is a broken machine: said, never skipped.
            pytest.fail(f"Chromium at {CHROMIUM} does not start: {error.message}", pytrace=False)
        yield chromium
        chromium.close()


def _file_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")[:150] or "screenshot"


@pytest.fixture
def page(browser: Any, live_server: LiveServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(
        base_url=live_server.url, locale="fr-FR", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{_file_name(request.node.nodeid)}.png", full_page=True)
    context.close()


@pytest.fixture
def screenshot(page: Any) -> Callable[..., Path]:
    def take(name: str, *, docs: bool = False) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{_file_name(name)}.png"
        page.screenshot(path=path, full_page=True)
        if docs and os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / path.name)
        return path

    return take
