"""Closing a poll at its closing time, and sending its results to those who answered."""

from __future__ import annotations

from bot.db import get_session
from bot.participation import poll_results, polls
from workers.context import job_context


def close_poll(poll_id: int) -> str:
    """RQ job (queue `default`, scheduled at the poll's closing time by `schedule_close`).

    Running it again, or after staff closed the poll by hand, sends nothing twice.
    """
    with job_context():
        session = get_session()
        try:
            notified = poll_results.close_poll(session, poll_id)
        except polls.UnknownPoll:
            return f"no poll {poll_id}"
        session.commit()
        return f"poll {poll_id} closed; results queued to {notified} participant(s)"
