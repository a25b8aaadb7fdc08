"""The overview: for each commune the staff may see, its subscribers, messages,
feedback and broadcast delivery, as charts with the same figures in tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from babel.dates import format_date as babel_format_date
from flask import g, render_template
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.dashboard import charts, figures
from bot.dashboard.auth import login_required
from bot.dashboard.blueprint import bp
from bot.dashboard.permissions import communes_visible
from bot.dashboard.text import translate
from bot.db import get_session
from bot.i18n import format_percent, to_local
from bot.models import Commune
from bot.models.types import utcnow

# One wording per thing across the dashboard: the feedback pages' status names,
# the broadcast pages' topic names; the channel names here serve the ticket page too.
STATUS_KEY = "dashboard.participation.feedback.status."
TOPIC_KEY = "dashboard.broadcasts.topic."
CHANNEL_KEY = "dashboard.overview.channel."


@dataclass
class CommuneOverview:
    commune: Commune
    subscribers: figures.SubscriberCounts
    days: list[figures.DayMessages]
    feedback_status: dict[str, int]
    feedback_age: dict[str, dict[str, int]]
    broadcasts: list[figures.BroadcastDelivery]
    charts: dict[str, Markup] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.subscribers.total

    @property
    def by_topic(self) -> dict[str, int]:
        return self.subscribers.by_topic

    @property
    def by_channel(self) -> dict[str, int]:
        return self.subscribers.by_channel


def overview_figures(session: Session, communes: list[Commune]) -> list[CommuneOverview]:
    """Every figure of the overview for `communes`, in a fixed number of queries."""
    ids = [c.id for c in communes]
    now = utcnow()
    subscribers = figures.subscriber_counts(session, ids)
    days = figures.messages_per_day(session, ids, to_local(now).date())
    status = figures.feedback_by_status(session, ids)
    age = figures.open_feedback_by_age(session, ids, now)
    broadcasts = figures.recent_broadcast_delivery(session, ids)
    return [
        CommuneOverview(c, subscribers[c.id], days[c.id], status[c.id], age[c.id], broadcasts[c.id])
        for c in communes
    ]


def _short_day(day: date) -> str:
    return babel_format_date(day, "d MMM", locale=g.lang)


def _percent(value: float) -> str:
    return format_percent(value, 100, g.lang)


def _draw(item: CommuneOverview) -> dict[str, Markup]:
    slug = item.commune.slug
    name = item.commune.name
    status_label = {s: translate(STATUS_KEY + s) for s in item.feedback_status}
    return {
        "messages": charts.line_chart(
            f"chart-{slug}-messages",
            translate("dashboard.overview.messages.chart", commune=name),
            [_short_day(d.day) for d in item.days],
            [
                (translate("dashboard.overview.messages.in"), [d.inbound for d in item.days]),
                (translate("dashboard.overview.messages.out"), [d.outbound for d in item.days]),
            ],
        ),
        "feedback_status": charts.bar_chart(
            f"chart-{slug}-feedback-status",
            translate("dashboard.overview.feedback.status_chart", commune=name),
            [(status_label[s], count) for s, count in item.feedback_status.items()],
        ),
        "feedback_age": charts.stacked_bar_chart(
            f"chart-{slug}-feedback-age",
            translate("dashboard.overview.feedback.age_chart", commune=name),
            [translate(f"dashboard.overview.age.{b}") for b in figures.AGE_BUCKETS],
            [
                (
                    status_label[s.value],
                    [item.feedback_age[b][s.value] for b in figures.AGE_BUCKETS],
                )
                for s in figures.OPEN_STATUSES
            ],
        ),
        "delivery": charts.bar_chart(
            f"chart-{slug}-delivery",
            translate("dashboard.overview.delivery.chart", commune=name),
            [(f"#{b.id}", b.rate or 0) for b in reversed(item.broadcasts)],
            top=100,
            fmt=_percent,
        ),
    }


@bp.get("/")
@login_required
def overview() -> str:
    session = get_session()
    items = overview_figures(session, communes_visible(session, g.staff))
    for item in items:
        item.charts = _draw(item)
    return render_template(
        "dashboard/overview.html",
        figures=items,
        age_buckets=figures.AGE_BUCKETS,
        open_statuses=[s.value for s in figures.OPEN_STATUSES],
        status_key=STATUS_KEY,
        topic_key=TOPIC_KEY,
        channel_key=CHANNEL_KEY,
        percent=_percent,
    )
