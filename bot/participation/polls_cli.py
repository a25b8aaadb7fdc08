"""`flask poll ...`: staff create, follow, close and export polls from the command line.

Times are typed in Porto-Novo local time ("2026-12-01 18:00") and stored in UTC.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext

from bot.db import get_session, transaction
from bot.i18n import LOCAL_TIMEZONE, format_datetime
from bot.participation import poll_results, polls

group = click.Group("poll", help="Polls (sondages): create, follow, close, export.")


def local_time(value: str | None, option: str) -> datetime | None:
    """A local date and time typed by staff, as an aware UTC datetime."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date and time like 2026-12-01 18:00", param_hint=option
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TIMEZONE)
    return moment.astimezone(UTC)


@group.command("create")
@click.option("--commune", "commune_slug", required=True, help="e.g. cotonou")
@click.option("--question", required=True)
@click.option("--option", "options", multiple=True, help="A choice; repeat for each (2 to 9).")
@click.option("--closes", required=True, help='Local time, e.g. "2026-12-01 18:00".')
@click.option("--opens", default=None, help="Local time; default: now.")
@click.option("--political", is_flag=True, help="Touches political opinion: no number kept.")
@with_appcontext
def create(
    commune_slug: str,
    question: str,
    options: tuple[str, ...],
    closes: str,
    opens: str | None,
    political: bool,
) -> None:
    """Open a poll now (or at --opens); it closes by itself at --closes."""
    closes_at = local_time(closes, "--closes")
    assert closes_at is not None
    opens_at = local_time(opens, "--opens")
    try:
        with transaction() as session:
            poll = polls.create_poll(
                session, commune_slug, question, list(options), closes_at, opens_at, political
            )
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    polls.schedule_close(poll)
    kind = "political poll" if political else "poll"
    click.echo(f"{kind} {poll.id} open until {format_datetime(closes_at)}")


@group.command("results")
@click.argument("poll_id", type=int)
@with_appcontext
def results(poll_id: int) -> None:
    """Counts by option, then by arrondissement."""
    try:
        outcome = poll_results.results(get_session(), poll_id)
    except polls.UnknownPoll as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"poll {outcome.poll_id} ({outcome.status.value}): {outcome.question}")
    for option in outcome.options:
        click.echo(f"  {option.label}: {option.count} ({option.percent} %)")
    click.echo(f"  total: {outcome.total}")
    for area, counts in outcome.by_area.items():
        line = ", ".join(f"{label} {count}" for label, count in counts.items())
        click.echo(f"  {area}: {line}")


@group.command("close")
@click.argument("poll_id", type=int)
@with_appcontext
def close(poll_id: int) -> None:
    """Close now and send the results to those who answered (never twice)."""
    try:
        with transaction() as session:
            notified = poll_results.close_poll(session, poll_id)
    except polls.UnknownPoll as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"poll {poll_id} closed; results queued to {notified} participant(s)")


@group.command("export")
@click.argument("poll_id", type=int)
@with_appcontext
def export(poll_id: int) -> None:
    """The responses as CSV on stdout (a political poll's without any number)."""
    session = get_session()
    try:
        poll = polls.get_poll(session, poll_id)
    except polls.UnknownPoll as error:
        raise click.ClickException(str(error)) from None
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=poll_results.export_columns(poll), lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(poll_results.export_rows(session, poll_id))
    click.echo(buffer.getvalue(), nl=False)
