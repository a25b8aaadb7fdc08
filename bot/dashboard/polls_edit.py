"""Staff create and close polls: checks with a message per field, then the service layer.

Shared by the dashboard pages and the JSON API. Times are typed in Porto-Novo
local time, as a `datetime-local` input gives them ("2026-12-01T18:00"). Each
write adds an audit row; the caller commits, and the closing job of a new poll
is queued only once the commit has happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.dashboard.forms import FormInvalid, flag, local_moment, text
from bot.dashboard.text import translate
from bot.db import after_commit
from bot.matching import fold
from bot.models import Commune, Poll, StaffUser
from bot.models.enums import PollStatus
from bot.models.types import utcnow
from bot.participation import poll_results, polls

QUESTION_MAX = 200
"""Characters of a question: shown with its choices on a 160-character USSD screen,
a longer one is cut into pages the citizen must scroll before answering."""

MAX_DURATION = timedelta(days=366)
"""How far ahead a poll may close: further is a typing slip (2062 for 2026)."""

_P = "dashboard.participation.polls."


def poll_in_commune(session: Session, commune: Commune, poll_id: int) -> Poll | None:
    return session.scalar(select(Poll).where(Poll.id == poll_id, Poll.commune_id == commune.id))


def _labels(values: Mapping[str, object]) -> list[str]:
    """The options: one per line in a form, or a list of strings from the API."""
    raw = values.get("options")
    lines = raw.splitlines() if isinstance(raw, str) else raw if isinstance(raw, list) else []
    labels = [" ".join(line.split()) for line in lines if isinstance(line, str)]
    return [label for label in labels if label]


def _options_error(labels: list[str]) -> str | None:
    if not polls.MIN_OPTIONS <= len(labels) <= polls.MAX_OPTIONS:
        return translate(
            _P + "options_count", low=polls.MIN_OPTIONS, high=polls.MAX_OPTIONS, count=len(labels)
        )
    if any(len(label) > polls.MAX_LABEL_CHARS for label in labels):
        return translate(_P + "option_too_long", max=polls.MAX_LABEL_CHARS)
    if len({fold(label) for label in labels}) < len(labels):
        return translate(_P + "options_alike")
    return None


def _times(values: Mapping[str, object], errors: dict[str, str]) -> tuple[datetime, datetime]:
    now = utcnow()
    opens_typed, closes_typed = text(values, "opens_at"), text(values, "closes_at")
    opens_at = local_moment(opens_typed) if opens_typed else now
    closes_at = local_moment(closes_typed) if closes_typed else None
    if opens_at is None:
        errors["opens_at"] = translate(_P + "bad_time")
    if closes_at is None:
        errors["closes_at"] = translate(_P + ("bad_time" if closes_typed else "closes_missing"))
    elif closes_at <= now:
        errors["closes_at"] = translate(_P + "closes_past")
    elif closes_at > now + MAX_DURATION:
        errors["closes_at"] = translate(_P + "closes_too_far", days=MAX_DURATION.days)
    elif opens_at is not None and closes_at <= opens_at:
        errors["closes_at"] = translate(_P + "closes_before_opens")
    return opens_at or now, closes_at or now


def create(
    session: Session, staff: StaffUser, commune: Commune, values: Mapping[str, object]
) -> Poll:
    """A poll of `commune`, open from `opens_at` (empty: now) until `closes_at`.

    `values`: "question"; "options", one per line (or a list), 2 to 9;
    "opens_at", "closes_at" in local time; "political" ("1", "on", "true").
    The poll closes by itself at its closing time: the job is queued when the
    caller commits.
    """
    errors: dict[str, str] = {}
    question = " ".join(text(values, "question").split())
    if not question:
        errors["question"] = translate(_P + "question_missing")
    elif len(question) > QUESTION_MAX:
        errors["question"] = translate(_P + "question_too_long", max=QUESTION_MAX)
    labels = _labels(values)
    options_error = _options_error(labels)
    if options_error:
        errors["options"] = options_error
    opens_at, closes_at = _times(values, errors)
    if errors:
        raise FormInvalid(errors)
    political = flag(values, "political")
    try:
        poll = polls.create_poll(
            session, commune.slug, question, labels, closes_at, opens_at, political
        )
    except ValueError:
        # The checks above mirror create_poll's: this is only reached if the clock
        # passed the closing time between the two.
        raise FormInvalid({"closes_at": translate(_P + "closes_past")}) from None
    audit.record(
        session,
        staff,
        "poll.create",
        "poll",
        poll.id,
        commune.id,
        after={**audit.snapshot(poll), "options": labels},
    )
    after_commit(session, partial(polls.schedule_close, poll))
    return poll


def close(session: Session, staff: StaffUser, commune: Commune, poll: Poll) -> int:
    """Close `poll` now; how many participants are queued its results (sent on commit)."""
    if poll.commune_id != commune.id or poll.status is PollStatus.CLOSED:
        raise FormInvalid({"poll": translate(_P + "already_closed")})
    before = audit.snapshot(poll)
    notified = poll_results.close_poll(session, poll.id)
    audit.record(
        session,
        staff,
        "poll.close",
        "poll",
        poll.id,
        commune.id,
        before=before,
        after={**audit.snapshot(poll), "notified": notified},
    )
    return notified
