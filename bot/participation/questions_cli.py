"""`questions` commands: staff see a session's question groups and answer them."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from bot.db import get_session
from bot.i18n import to_local
from bot.models import Event
from bot.participation.questions import answer_group, question_groups

group = click.Group("questions", help="Citizens' questions for sessions: groups and answers.")

_event = click.option("--event", "event_id", type=int, required=True, help="The event's id.")


@group.command("list")
@_event
@with_appcontext
def list_groups(event_id: int) -> None:
    """The event's question groups, most-asked first: group id, count, state, first question."""
    session = get_session()
    event = session.get(Event, event_id)
    if event is None:
        raise click.ClickException(f"no event {event_id}")
    click.echo(f"{event.title} ({to_local(event.starts_at):%Y-%m-%d %H:%M})")
    groups = question_groups(session, event_id)
    if not groups:
        click.echo("no questions yet")
    for found in groups:
        state = "answered" if found.answered else "open"
        click.echo(f"{found.cluster_id}\t{found.count}\t{state}\t{found.text}")


@group.command("answer")
@_event
@click.option("--group", "cluster_id", type=int, required=True, help="The group's id (list).")
@click.option("--text", required=True, help="The answer sent to every citizen who asked.")
@with_appcontext
def answer(event_id: int, cluster_id: int, text: str) -> None:
    """Answer a group: every citizen who asked and was not answered yet receives it."""
    try:
        sent = answer_group(get_session(), event_id, cluster_id, text, actor="cli")
    except (LookupError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"answer recorded; sent to {sent} citizen(s)")
