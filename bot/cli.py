"""`flask --app bot ...` commands (also `communes-bot ...`): thin shells over plain functions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from bot import migrate
from bot.broadcasts import cli as broadcasts_cli
from bot.db import transaction
from bot.participation import feedback_cli, polls_cli, questions_cli

db_cli = AppGroup("db", help="Database migrations (Alembic).")
content_cli = AppGroup("content", help="Commune content files in bot/content/.")
staff_cli = AppGroup("staff", help="Mairie staff accounts.")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate the database named by DATABASE_URL up to REVISION."""
    migrate.upgrade(current_app, revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Migrate down to REVISION (`base` empties the database)."""
    migrate.downgrade(current_app, revision)
    click.echo(f"database at {revision}")


@db_cli.command("check")
def db_check() -> None:
    """Fail when the models and the migrations disagree."""
    migrate.check(current_app)
    click.echo("models and migrations agree")


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    """Write a new migration from the difference between models and database."""
    migrate.revision(current_app, message)


_content_dir = click.option(
    "--dir",
    "directory",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="A folder of commune folders (default: bot/content/communes).",
)


@content_cli.command("validate")
@_content_dir
def content_validate(directory: Path | None) -> None:
    """Check every content file; list each error with file, line and field."""
    from bot.content.validate import CONTENT_ROOT, parse_tree

    communes, errors = parse_tree(directory or CONTENT_ROOT)
    for error in errors:
        click.echo(str(error), err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} error(s) in the content files")
    click.echo(f"content valid: {len(communes)} communes")


@content_cli.command("load")
@_content_dir
def content_load(directory: Path | None) -> None:
    """Load the content files into the database: all or nothing, idempotent."""
    from bot.content.cache import bump_content_version
    from bot.content.loader import ContentInvalid, load_content
    from bot.content.validate import CONTENT_ROOT
    from bot.redis import get_redis

    try:
        with transaction() as session:
            report = load_content(session, directory or CONTENT_ROOT)
    except ContentInvalid as invalid:
        for error in invalid.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            f"nothing loaded: {len(invalid.errors)} error(s) in the content files"
        ) from None
    if report.changed:
        # Web processes rebuild their in-process content cache within a second.
        bump_content_version(get_redis(current_app))
    click.echo(str(report))


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--national-admin", is_flag=True, help="Every role in every commune.")
def staff_create(email: str, name: str, password: str, national_admin: bool) -> None:
    """Create a staff login."""
    from bot.staff import StaffError, create_staff

    try:
        with transaction() as session:
            user = create_staff(
                session,
                email=email,
                name=name,
                password=password,
                national_admin=national_admin,
                actor="cli",
            )
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"staff user {user.email} created")


@staff_cli.command("set-role")
@click.option("--email", required=True)
@click.option("--commune", "commune_slug", required=True, help="e.g. cotonou")
@click.option("--role", required=True, help="admin, editor, agent or viewer")
def staff_set_role(email: str, commune_slug: str, role: str) -> None:
    """Give a staff user a role in one commune (replaces the previous one)."""
    from bot.staff import StaffError, set_role

    try:
        with transaction() as session:
            set_role(session, email=email, commune_slug=commune_slug, role=role, actor="cli")
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{email} is {role} of {commune_slug}")


@staff_cli.command("token-create")
@click.option("--email", required=True, help="The staff user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'open data export'.")
def staff_token_create(email: str, name: str) -> None:
    """Create an API token; it is printed once and cannot be shown again."""
    from bot.staff import StaffError, create_token

    try:
        with transaction() as session:
            token, clear = create_token(session, email=email, name=name, actor="cli")
            token_id = token.id
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"API token {token_id} for {email} (keep it secret, it is not shown again):")
    click.echo(clear)


@staff_cli.command("token-revoke")
@click.option("--id", "token_id", required=True, type=int)
def staff_token_revoke(token_id: int) -> None:
    """Revoke an API token at once."""
    from bot.staff import StaffError, revoke_token

    try:
        with transaction() as session:
            revoke_token(session, token_id, actor="cli")
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"API token {token_id} revoked")


@staff_cli.command("tokens")
@click.option("--email", required=True)
def staff_tokens(email: str) -> None:
    """List a staff user's API tokens (name, first characters, last use)."""
    from sqlalchemy import select

    from bot.models import ApiToken, StaffUser

    with transaction() as session:
        tokens = session.scalars(
            select(ApiToken)
            .join(StaffUser)
            .where(StaffUser.email == email.strip().lower())
            .order_by(ApiToken.id)
        ).all()
        for token in tokens:
            state = "revoked" if token.revoked_at else "active"
            used = (
                token.last_used_at.isoformat(timespec="minutes") if token.last_used_at else "never"
            )
            click.echo(f"{token.id}\t{token.prefix}...\t{state}\tlast used {used}\t{token.name}")
    if not tokens:
        click.echo(f"no API token for {email}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """An RQ worker with the scheduler on the high, default and bulk queues.

    Same as the Procfile's `rq worker`, but finds the embedded Redis itself.
    """
    from redis import Redis

    from bot.redis import QUEUE_NAMES, redis_url
    from workers.worker import AppWorker

    # No socket timeout: the worker blocks on the queues for minutes at a time.
    connection = Redis.from_url(redis_url(current_app))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    AppWorker(list(QUEUE_NAMES), connection=connection, app=app).work(
        with_scheduler=True, burst=burst
    )


simulate_cli = AppGroup("simulate", help="A phone on the command line, through the real webhooks.")


def _phone(raw: str) -> str:
    from bot.phone import InvalidPhoneNumber, normalize

    try:
        return normalize(raw)
    except InvalidPhoneNumber as error:
        raise click.BadParameter(error.reason, param_hint="--phone") from None


@simulate_cli.command("ussd")
@click.option("--phone", required=True, help="e.g. +2290197000001")
@click.option("--input", "inputs", default=None, help='Play these inputs, e.g. "1*2", then stop.')
def simulate_ussd(phone: str, inputs: str | None) -> None:
    """Dial the USSD code: interactive, or play --input and print the last screen."""
    from bot.simulate import ussd_session

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if inputs is not None:
        click.echo(ussd_session(app, _phone(phone), inputs.split("*") if inputs else []))
        return

    def typed() -> Iterator[str]:
        while True:
            yield click.prompt("", prompt_suffix="> ", default="", show_default=False)

    last = ussd_session(app, _phone(phone), typed(), show=lambda screen: click.echo(f"\n{screen}"))
    if last.startswith("END "):
        click.echo(f"\n{last}")


def _message_command(channel: str) -> click.Command:
    """`simulate sms` and `simulate whatsapp`: one message in, the replies printed."""

    @click.command(channel, help=f"Send one {channel} message; print the replies received.")
    @click.option("--phone", required=True)
    @click.argument("text")
    @with_appcontext
    def send(phone: str, text: str) -> None:
        from bot import simulate

        app = current_app._get_current_object()  # type: ignore[attr-defined]
        for reply in getattr(simulate, channel)(app, _phone(phone), text):
            click.echo(f"{reply}\n---")

    return send


for _channel in ("sms", "whatsapp"):
    simulate_cli.add_command(_message_command(_channel))


def init_app(app: Flask) -> None:
    participation = (feedback_cli.group, polls_cli.group, questions_cli.group)
    alerts = (broadcasts_cli.broadcast_group, broadcasts_cli.event_group)
    for command in (db_cli, content_cli, staff_cli, simulate_cli, worker, *participation, *alerts):
        app.cli.add_command(command)


def main() -> None:
    """The `communes-bot` console script: the same commands as `flask --app bot`."""
    from bot import create_app

    FlaskGroup(create_app=create_app)(sys.argv[1:])
