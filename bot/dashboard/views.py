"""Dashboard pages. The overview: subscribers of each commune the staff may see."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from flask import g, render_template
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dashboard.auth import login_required
from bot.dashboard.blueprint import bp
from bot.dashboard.permissions import communes_visible
from bot.db import get_session
from bot.models import Commune, Contact, Subscription
from bot.models.enums import Channel, Topic


@dataclass
class CommuneFigures:
    commune: Commune
    total: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)


def subscriber_figures(session: Session, communes: list[Commune]) -> list[CommuneFigures]:
    """Active subscribers (distinct contacts not opted out) per commune, topic and channel."""
    figures = {c.id: CommuneFigures(c) for c in communes}
    if not figures:
        return []
    subscriber = func.count(func.distinct(Subscription.contact_id))
    active = (
        select(Subscription.commune_id)
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(
            Subscription.active.is_(True),
            Contact.opted_out_at.is_(None),
            Subscription.commune_id.in_(figures),
        )
        .group_by(Subscription.commune_id)
    )
    topic_counts: dict[int, dict[str, int]] = defaultdict(dict)
    channel_counts: dict[int, dict[str, int]] = defaultdict(dict)
    for commune_id, total in session.execute(active.add_columns(subscriber)):
        figures[commune_id].total = total
    for commune_id, topic, count in session.execute(
        active.add_columns(Subscription.topic, subscriber).group_by(Subscription.topic)
    ):
        topic_counts[commune_id][Topic(topic).value] = count
    for commune_id, channel, count in session.execute(
        active.add_columns(Subscription.channel, subscriber).group_by(Subscription.channel)
    ):
        channel_counts[commune_id][Channel(channel).value] = count
    for commune_id, item in figures.items():
        item.by_topic = {t.value: topic_counts[commune_id].get(t.value, 0) for t in Topic}
        item.by_channel = {c.value: channel_counts[commune_id].get(c.value, 0) for c in Channel}
    return [figures[c.id] for c in communes]


@bp.get("/")
@login_required
def overview():
    session = get_session()
    communes = communes_visible(session, g.staff)
    return render_template("dashboard/overview.html", figures=subscriber_figures(session, communes))
