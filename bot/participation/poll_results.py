"""What a poll gave: its results by option and by arrondissement, the message sent to
participants when it closes, and the rows staff may export.

A political poll's export carries no number, no contact id, no voter key and only
the day of each answer (bot/participation/polls.py says why responses hold no
contact for such a poll).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.i18n import format_percent, t, to_local
from bot.matching import fold
from bot.models import Area, Contact, Poll, PollOption, PollParticipant, PollResponse
from bot.models.enums import AreaKind, PollStatus
from bot.models.types import utcnow
from bot.outbox import notify
from bot.participation.polls import get_poll
from bot.phone import mask

UNKNOWN_AREA = "non précisé"
"""The results bucket of citizens whose arrondissement is not known."""


@dataclass(frozen=True)
class OptionResult:
    label: str
    count: int
    percent: int  # whole percent of all responses, rounded half up; 0 when there are none


@dataclass(frozen=True)
class PollResults:
    poll_id: int
    question: str
    status: PollStatus
    political: bool
    options: tuple[OptionResult, ...]
    total: int
    # Arrondissement name (or UNKNOWN_AREA) -> option label -> count, every label present.
    by_area: dict[str, dict[str, int]]


def _arrondissements(session: Session, area_ids: set[int]) -> dict[int, str]:
    """Area id -> its arrondissement's name (a quartier counts in its arrondissement)."""
    if not area_ids:
        return {}
    areas = {a.id: a for a in session.scalars(select(Area).where(Area.id.in_(area_ids)))}
    names: dict[int, str] = {}
    for area_id, area in areas.items():
        if area.kind is AreaKind.QUARTIER and area.parent is not None:
            area = area.parent
        names[area_id] = area.name
    return names


def _percent(count: int, total: int) -> int:
    if total == 0:
        return 0
    return int((Decimal(count * 100) / total).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def results(session: Session, poll_id: int) -> PollResults:
    """Counts by option, and by arrondissement (UNKNOWN_AREA where none is known)."""
    poll = get_poll(session, poll_id)
    rows = session.execute(
        select(PollResponse.option_id, PollResponse.area_id).where(PollResponse.poll_id == poll_id)
    ).all()
    labels = {option.id: option.label for option in poll.options}
    areas = _arrondissements(session, {area for _, area in rows if area is not None})
    counts = dict.fromkeys(labels, 0)
    by_area: dict[str, dict[str, int]] = {}
    for option_id, area_id in rows:
        counts[option_id] += 1
        area = areas.get(area_id, UNKNOWN_AREA) if area_id is not None else UNKNOWN_AREA
        by_area.setdefault(area, dict.fromkeys(labels.values(), 0))[labels[option_id]] += 1
    total = len(rows)
    ordered = sorted(by_area, key=lambda name: (name == UNKNOWN_AREA, _area_order(name)))
    return PollResults(
        poll_id=poll.id,
        question=poll.question,
        status=poll.status,
        political=poll.political,
        options=tuple(
            OptionResult(label, counts[option_id], _percent(counts[option_id], total))
            for option_id, label in labels.items()
        ),
        total=total,
        by_area={name: by_area[name] for name in ordered},
    )


def _area_order(name: str) -> tuple[int, str]:
    """Numbered arrondissements in number order ("2e" before "10e"), others by name."""
    digits = "".join(c for c in name.split(" ", 1)[0] if c.isdigit())
    return (int(digits) if digits else 0, fold(name))


def results_message(outcome: PollResults, lang: str | None) -> str:
    """The short text sent to participants: the question, each choice with % and count."""
    lines = "\n".join(
        t(
            "poll.results_line",
            lang,
            label=option.label,
            percent=format_percent(option.count, outcome.total, lang),
            count=option.count,
        )
        for option in outcome.options
    )
    return t("poll.results", lang, question=outcome.question, lines=lines, total=outcome.total)


def close_poll(session: Session, poll_id: int) -> int:
    """Close the poll and queue its results to each participant not yet sent them.

    Not committed: the caller commits the closing, the claims and the
    messages together. Each participant is claimed by setting results_sent_at
    in one UPDATE, so a second closing (or two at once) sends no one the
    results twice. Returns how many messages were queued (opted-out and erased
    contacts get none).
    """
    poll = get_poll(session, poll_id)
    poll.status = PollStatus.CLOSED
    session.flush()
    claimed = session.execute(
        update(PollParticipant)
        .where(PollParticipant.poll_id == poll_id, PollParticipant.results_sent_at.is_(None))
        .values(results_sent_at=utcnow())
        .returning(PollParticipant.contact_id, PollParticipant.channel)
    ).all()
    if not claimed:
        return 0
    outcome = results(session, poll_id)
    languages = dict(
        session.execute(
            select(Contact.id, Contact.language).where(
                Contact.id.in_([contact_id for contact_id, _ in claimed])
            )
        ).all()
    )
    texts: dict[str | None, str] = {}
    notified = 0
    for contact_id, channel in claimed:
        lang = languages.get(contact_id)
        if lang not in texts:
            texts[lang] = results_message(outcome, lang)
        if notify(session, contact_id, channel, texts[lang]):
            notified += 1
    return notified


def export_columns(poll: Poll) -> list[str]:
    """The columns of `export_rows`: a political poll's have no phone."""
    columns = ["option", "area", "channel", "responded_at"]
    return columns if poll.political else [*columns, "phone"]


def export_rows(session: Session, poll_id: int) -> list[dict[str, str]]:
    """The responses as staff may download them.

    Times are in Porto-Novo time. A political poll's rows hold the choice, the
    arrondissement, the channel and only the day: no phone, no contact id, no
    key, and no order or minute that could be matched against message logs.
    Other polls add the masked phone (empty once the citizen was erased).
    """
    poll = get_poll(session, poll_id)
    rows = session.execute(
        select(PollResponse, PollOption.label, PollOption.position, Contact.phone_e164)
        .join(PollOption, PollOption.id == PollResponse.option_id)
        .outerjoin(Contact, Contact.id == PollResponse.contact_id)
        .where(PollResponse.poll_id == poll_id)
        .order_by(PollResponse.id)
    ).all()
    areas = _arrondissements(session, {r.area_id for r, *_ in rows if r.area_id is not None})
    exported: list[tuple[tuple[str, int, str], dict[str, str]]] = []
    for response, label, position, phone in rows:
        local = to_local(response.responded_at)
        area = areas.get(response.area_id, UNKNOWN_AREA) if response.area_id else UNKNOWN_AREA
        row = {"option": label, "area": area, "channel": response.channel.value}
        if poll.political:
            row["responded_at"] = local.date().isoformat()
        else:
            row["responded_at"] = local.isoformat(timespec="seconds")
            row["phone"] = mask(phone) if phone else ""
        exported.append(((row["responded_at"], position, area), row))
    if poll.political:
        exported.sort(key=lambda item: item[0])
    return [row for _, row in exported]
