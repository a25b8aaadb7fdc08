"""`flask broadcast ...` and `flask event ...`: alerts from the command line.

Times are typed in Porto-Novo local time ("2026-12-01 18:00") and stored in
UTC. Every change is written to the audit log under the actor "cli".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.broadcasts import compose, event_alerts, sending
from bot.content.cache import commune_id
from bot.db import get_session, transaction
from bot.i18n import format_datetime
from bot.models import Broadcast, Commune, Event
from bot.participation.polls_cli import local_time
from workers.sweeper import sweep

broadcast_group = click.Group("broadcast", help="Alerts to subscribers: send, follow, pause.")
event_group = click.Group("event", help="Council and accountability sessions and their alerts.")

_COUNTERS = ("queued", "sent", "delivered", "failed", "skipped")


def _audit(
    session: Session,
    action: str,
    entity: str,
    entity_id: int,
    commune_id: int,
    after: dict[str, Any],
) -> None:
    audit.record(session, None, action, entity, entity_id, commune_id, after=after, actor="cli")


def _variables(pairs: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        key, sign, value = pair.partition("=")
        if not sign or not key.strip():
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint="--var")
        found[key.strip()] = value
    return found


def _when(moment: Any) -> str:
    return format_datetime(moment, "fr") if moment else "-"


def _show_estimate(estimate: compose.Estimate, broadcast: Broadcast) -> None:
    for line in estimate.lines:
        click.echo(
            f"{line.channel.value} {line.language}: {line.recipients} recipient(s), "
            f"{line.segments} segment(s) each, about {line.cost_xof} F CFA"
        )
        if line.replaced:
            click.echo(f"  replaced for SMS (would cost UCS-2): {' '.join(line.replaced)}")
        if line.outside_window:
            fate = "template" if broadcast.whatsapp_template else "skipped: no template"
            click.echo(f"  {line.outside_window} outside the WhatsApp 24 h window ({fate})")
        click.echo("  | " + line.text.replace("\n", "\n  | "))
    click.echo(f"total: {estimate.recipients} recipient(s), about {estimate.cost_xof} F CFA")
    if estimate.held_until:
        click.echo(f"quiet hours: held until {_when(estimate.held_until)}")


@broadcast_group.command("send")
@click.option("--commune", "commune_slug", required=True, help="e.g. cotonou")
@click.option("--topic", required=True, help="sessions, reddition, budget, urgences or all")
@click.option("--text-fr", default="", help="The French text (the default).")
@click.option("--text-en", default="", help="The English text, for those who chose English.")
@click.option(
    "--channel",
    "channels",
    multiple=True,
    default=("sms", "whatsapp"),
    show_default=True,
    help="sms or whatsapp; repeat for both.",
)
@click.option("--template", default=None, help="Approved WhatsApp template (Twilio ContentSid).")
@click.option("--var", "variables", multiple=True, help="Template variable KEY=VALUE; repeat.")
@click.option("--at", "at", default=None, help='Local time, e.g. "2026-12-01 08:00"; default now.')
@click.option("--urgent", is_flag=True, help="Goes even in quiet hours.")
@click.option(
    "--dry-run", is_flag=True, help="Show what would go and what it costs; store nothing."
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def send(
    commune_slug: str,
    topic: str,
    text_fr: str,
    text_en: str,
    channels: tuple[str, ...],
    template: str | None,
    variables: tuple[str, ...],
    at: str | None,
    urgent: bool,
    dry_run: bool,
    yes: bool,
) -> None:
    """Check, price and send (or schedule) a broadcast."""
    session = get_session()
    try:
        broadcast = compose.create(
            session,
            commune_slug=commune_slug,
            topic=topic,
            texts={"fr": text_fr, "en": text_en},
            channels=channels,
            whatsapp_template=template,
            template_variables=_variables(variables),
            scheduled_at=local_time(at, "--at"),
            urgent=urgent,
        )
    except compose.BroadcastInvalid as error:
        session.rollback()
        raise click.ClickException(str(error)) from None
    _show_estimate(compose.estimate(session, broadcast), broadcast)
    if dry_run or not (yes or click.confirm("Send it?")):
        session.rollback()
        click.echo("nothing sent")
        return
    sending.request_start(session, broadcast)
    _audit(
        session,
        "send",
        "broadcast",
        broadcast.id,
        broadcast.commune_id,
        {
            "topic": broadcast.topic.value,
            "channels": broadcast.channels,
            "scheduled_at": broadcast.scheduled_at.isoformat(),
            "urgent": urgent,
        },
    )
    session.commit()
    click.echo(f"broadcast {broadcast.id} scheduled for {_when(broadcast.scheduled_at)}")


@broadcast_group.command("list")
@click.option("--commune", "commune_slug", default=None)
@with_appcontext
def list_broadcasts(commune_slug: str | None) -> None:
    """The latest broadcasts with their counters."""
    query = select(Broadcast, Commune.slug).join(Commune).order_by(Broadcast.id.desc()).limit(50)
    if commune_slug:
        _known_commune(commune_slug)
        query = query.where(Commune.slug == commune_slug)
    for broadcast, slug in get_session().execute(query).all():
        figures = " ".join(f"{name} {getattr(broadcast, f'count_{name}')}" for name in _COUNTERS)
        click.echo(
            f"{broadcast.id}\t{slug}\t{broadcast.kind.value}\t{broadcast.topic.value}\t"
            f"{broadcast.status.value}\t{_when(broadcast.scheduled_at)}\t{figures}"
        )


def _known_commune(slug: str) -> None:
    if commune_id(get_session(), slug) is None:
        raise click.ClickException(f"no commune {slug!r}")


def _broadcast(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise click.ClickException(f"no broadcast {broadcast_id}")
    return broadcast


@broadcast_group.command("status")
@click.argument("broadcast_id", type=int)
@with_appcontext
def status(broadcast_id: int) -> None:
    """A broadcast's state and live counters, as JSON."""
    broadcast = _broadcast(get_session(), broadcast_id)
    click.echo(
        json.dumps(
            {
                "id": broadcast.id,
                "kind": broadcast.kind.value,
                "status": broadcast.status.value,
                "scheduled_at": broadcast.scheduled_at.isoformat()
                if broadcast.scheduled_at
                else None,
                "started_at": broadcast.started_at.isoformat() if broadcast.started_at else None,
                "finished_at": broadcast.finished_at.isoformat() if broadcast.finished_at else None,
                **{name: getattr(broadcast, f"count_{name}") for name in _COUNTERS},
            },
            indent=2,
        )
    )


def _change(action: str, apply: Callable[[Session, Broadcast], object]) -> Callable[[int], None]:
    def command(broadcast_id: int) -> None:
        try:
            with transaction() as session:
                broadcast = _broadcast(session, broadcast_id)
                result = apply(session, broadcast)
                _audit(
                    session,
                    action,
                    "broadcast",
                    broadcast.id,
                    broadcast.commune_id,
                    {"status": broadcast.status.value},
                )
        except sending.BroadcastStateError as error:
            raise click.ClickException(str(error)) from None
        extra = f" ({result} message(s) skipped)" if isinstance(result, int) else ""
        click.echo(f"broadcast {broadcast_id}: {broadcast.status.value}{extra}")

    return command


for _name, _apply, _help in (
    ("pause", sending.pause, "Stop handing messages over; resume later."),
    ("resume", sending.resume, "Go on with a paused broadcast."),
    ("cancel", sending.cancel, "Cancel; messages not yet handed over are skipped."),
):
    broadcast_group.command(_name, help=_help)(
        click.argument("broadcast_id", type=int)(with_appcontext(_change(_name, _apply)))
    )


@broadcast_group.command("sweep")
@with_appcontext
def sweep_command() -> None:
    """Settle messages a crash left behind (workers do it every minute)."""
    click.echo(str(sweep(get_session())))


@event_group.command("list")
@click.option("--commune", "commune_slug", required=True)
@with_appcontext
def list_events(commune_slug: str) -> None:
    _known_commune(commune_slug)
    query = (
        select(Event).join(Commune).where(Commune.slug == commune_slug).order_by(Event.starts_at)
    )
    for event in get_session().scalars(query):
        published = "published" if event.published_at else "not published"
        click.echo(
            f"{event.id}\t{event.type.value}\t{_when(event.starts_at)}\t"
            f"{event.status.value}\t{published}\t{event.title}"
        )


def _event_change(
    action: str, session: Session, event_id: int, apply: Callable[[Session, Event], list[Broadcast]]
) -> None:
    event = session.get(Event, event_id)
    if event is None:
        raise click.ClickException(f"no event {event_id}")
    try:
        planned = apply(session, event)
    except event_alerts.EventStateError as error:
        session.rollback()
        raise click.ClickException(str(error)) from None
    _audit(
        session,
        action,
        "event",
        event.id,
        event.commune_id,
        {
            "status": event.status.value,
            "starts_at": event.starts_at.isoformat(),
            "alerts": [alert.id for alert in planned],
        },
    )
    session.commit()
    click.echo(f"event {event.id}: {event.status.value}")
    for alert in planned:
        click.echo(f"  alert {alert.id}: {alert.kind.value} at {_when(alert.scheduled_at)}")


@event_group.command("publish")
@click.argument("event_id", type=int)
@with_appcontext
def publish(event_id: int) -> None:
    """Publish: announce now, remind the day before, alert at the start."""
    _event_change("publish", get_session(), event_id, event_alerts.publish)


@event_group.command("move")
@click.argument("event_id", type=int)
@click.option("--to", "to", required=True, help='New local start, e.g. "2026-12-03 10:00".')
@with_appcontext
def move(event_id: int, to: str) -> None:
    """Move; pending alerts follow, those already alerted are told."""
    starts_at = local_time(to, "--to")
    _event_change(
        "move",
        get_session(),
        event_id,
        lambda session, event: event_alerts.move(session, event, starts_at),
    )


@event_group.command("cancel")
@click.argument("event_id", type=int)
@with_appcontext
def cancel_event(event_id: int) -> None:
    """Cancel; pending alerts are cancelled, those already alerted are told."""
    _event_change("cancel", get_session(), event_id, event_alerts.cancel)


@event_group.command("held")
@click.argument("event_id", type=int)
@click.option("--summary", default="", help="What was said and decided, for subscribers.")
@with_appcontext
def held(event_id: int, summary: str) -> None:
    """Mark held and send its summary to subscribers."""
    _event_change(
        "held",
        get_session(),
        event_id,
        lambda session, event: event_alerts.mark_held(session, event, summary),
    )
