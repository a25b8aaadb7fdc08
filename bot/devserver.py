"""`make run`: one command from a fresh clone to a running service.

Migrates, loads the sample content into an empty database, makes sure a demo
staff login exists, starts the embedded Redis (unless REDIS_URL is set), then
the web app and one RQ worker with the scheduler; Ctrl-C stops them all.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from bot import create_app, migrate
from bot.db import transaction
from bot.models import Commune, StaffUser
from bot.redis import EmbeddedRedis

DEMO_EMAIL = "demo@example.org"


def prepare_database(app: Flask) -> str:
    """Migrate, load sample content when empty; return what was done, for the banner."""
    migrate.upgrade(app)
    with app.app_context(), transaction() as session:
        if session.scalar(select(func.count(Commune.id))):
            return "database ready (existing data kept)"
        from bot.content.loader import load_content

        return f"sample content loaded: {load_content(session)}"


def ensure_demo_login(app: Flask) -> tuple[str, str]:
    """The demo staff login, created once; its password is kept in the instance folder."""
    from bot.staff import create_staff

    secret_file = Path(app.instance_path) / "demo-login.txt"
    with app.app_context(), transaction() as session:
        exists = session.scalar(select(StaffUser).where(StaffUser.email == DEMO_EMAIL))
        if exists and secret_file.exists():
            return DEMO_EMAIL, secret_file.read_text().strip()
        password = secrets.token_urlsafe(12)
        if exists:
            from bot.passwords import hash_password

            exists.password_hash = hash_password(password)
        else:
            create_staff(
                session,
                email=DEMO_EMAIL,
                name="Demo (national admin)",
                password=password,
                national_admin=True,
                actor="make run",
            )
    secret_file.write_text(password + "\n")
    secret_file.chmod(0o600)
    return DEMO_EMAIL, password


def _spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A new process group: Ctrl-C reaches us once, and we stop children in order.
    return subprocess.Popen(args, env=env, start_new_session=True)


def main() -> int:
    app = create_app()
    port = os.environ.get("PORT", "5000")
    print(prepare_database(app), flush=True)
    email, password = ensure_demo_login(app)

    embedded = None if app.config["REDIS_URL"] else EmbeddedRedis(app.instance_path)
    started_redis = embedded.ensure_running() if embedded else False
    env = dict(os.environ)
    flask = [sys.executable, "-m", "flask", "--app", "bot"]
    children = [
        _spawn(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "bot:create_app()",
            ],
            env,
        ),
        _spawn([*flask, "worker"], env),
    ]
    base = f"http://127.0.0.1:{port}"
    print(
        "\n".join(
            [
                "",
                "Communes+ bot is running (Ctrl-C stops everything).",
                f"  simulator:    {base}/simulator/  (a phone and WhatsApp in the browser)",
                f"  dashboard:    {base}/dashboard/  login {email} / {password}",
                f"  API:          {base}/api/v1/openapi.json",
                f"  health:       {base}/healthz",
                f"  webhooks:     {base}/webhooks/...  (see README)",
                f"  redis:        {embedded.url if embedded else 'REDIS_URL'}",
                f"  database:     {app.config['DATABASE_URL']}",
                "",
            ]
        ),
        flush=True,
    )

    stopping = False

    def _stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    exit_code = 0
    while not stopping:
        for child in children:
            if child.poll() is not None:
                print(f"a child process exited ({child.args[2]}): stopping", flush=True)
                stopping, exit_code = True, 1
        time.sleep(0.2)

    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
    if embedded and started_redis:
        embedded.stop()
    print("stopped", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
