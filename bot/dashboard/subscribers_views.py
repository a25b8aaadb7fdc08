"""A commune's subscribers: counts, and a paged list showing masked numbers only.

Staff never see a citizen's full number here and cannot export any: the list is
for answering "is this person subscribed, since when, to what", not for calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import render_template, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dashboard import figures, nav
from bot.dashboard.blueprint import bp
from bot.dashboard.paging import Page, page_number
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.views import CHANNEL_KEY, TOPIC_KEY
from bot.db import get_session
from bot.models import Commune, Contact, Subscription
from bot.phone import mask

PAGE_SIZE = 50


@dataclass(frozen=True)
class SubscriptionRow:
    masked_phone: str
    channel: str
    topic: str
    language: str | None
    since: datetime


def subscriptions(
    session: Session, commune_id: int, number: int, size: int = PAGE_SIZE
) -> Page[SubscriptionRow]:
    """Active subscriptions of contacts who have not opted out, newest first.

    The number is masked here, so no caller can put the full one on a page.
    A page past the last one gives the last page.
    """
    where = (
        Subscription.commune_id == commune_id,
        Subscription.active.is_(True),
        Contact.opted_out_at.is_(None),
    )
    joined = select(func.count()).select_from(Subscription).join(Contact)
    total = session.scalar(joined.where(*where)) or 0
    number = min(number, max(1, -(-total // size)))
    query = (
        select(
            Contact.phone_e164,
            Subscription.channel,
            Subscription.topic,
            Contact.language,
            Subscription.created_at,
        )
        .join(Contact, Contact.id == Subscription.contact_id)
        .where(*where)
        .order_by(Subscription.created_at.desc(), Subscription.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    )
    rows = [
        SubscriptionRow(mask(phone), str(channel), str(topic), language, since)
        for phone, channel, topic, language, since in session.execute(query)
    ]
    return Page(rows, number, size, total)


@bp.get("/<commune>/subscribers")
@commune_page(Capability.READ)
def subscribers(commune: Commune) -> str:
    session = get_session()
    counts = figures.subscriber_counts(session, [commune.id])[commune.id]
    return render_template(
        "dashboard/subscribers/index.html",
        commune=commune,
        counts=counts,
        languages=figures.subscribers_by_language(session, commune.id),
        opted_out=figures.opted_out_count(session, commune.id),
        page=subscriptions(session, commune.id, page_number(request.args.get("page"))),
        topic_key=TOPIC_KEY,
        channel_key=CHANNEL_KEY,
    )


nav.register("dashboard.subscribers", "dashboard.subscribers.menu", 70, Capability.READ)
