"""`flask feedback ...`: the mairie's side of tickets until the dashboard (list, move on)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.db import get_session
from bot.models import Commune, Contact, Feedback
from bot.models.enums import FeedbackStatus
from bot.participation.feedback import RefusedChange, change_status
from bot.phone import mask

group = click.Group("feedback", help="Citizen feedback tickets.")


def _who(ticket: Feedback, contact: Contact | None) -> str:
    """Staff see a masked number, and not even that for an anonymous ticket."""
    if ticket.anonymous:
        return "anonyme"
    return mask(contact.phone_e164) if contact else "efface"


@group.command("list")
@click.option("--commune", "commune_slug", help="Only this commune (slug).")
@click.option("--status", type=click.Choice([s.value for s in FeedbackStatus]))
@with_appcontext
def list_tickets(commune_slug: str | None, status: str | None) -> None:
    """Tickets, newest first."""
    query = (
        select(Feedback, Contact)
        .join(Commune, Feedback.commune_id == Commune.id)
        .outerjoin(Contact, Feedback.contact_id == Contact.id)
        .order_by(Feedback.id.desc())
    )
    if commune_slug:
        query = query.where(Commune.slug == commune_slug)
    if status:
        query = query.where(Feedback.status == FeedbackStatus(status))
    for ticket, contact in get_session().execute(query):
        click.echo(
            f"{ticket.ref}  {ticket.status.value:<12} {ticket.category.value:<14} "
            f"{_who(ticket, contact):<20} {' '.join(ticket.text.split())[:60]}"
        )


@group.command("status")
@click.argument("ref")
@click.argument("new_status", type=click.Choice([s.value for s in FeedbackStatus]))
@click.option("--note", help="Public note sent to the citizen with the news.")
@with_appcontext
def set_status(ref: str, new_status: str, note: str | None) -> None:
    """Move ticket REF to NEW_STATUS and tell the citizen."""
    session = get_session()
    ticket = session.scalar(select(Feedback).where(Feedback.ref == ref.upper()))
    if ticket is None:
        raise click.ClickException(f"no ticket {ref}")
    try:
        change_status(session, ticket, FeedbackStatus(new_status), note)
    except RefusedChange as refused:
        raise click.ClickException(str(refused)) from None
    session.commit()
    click.echo(f"{ticket.ref}: {new_status}")
