"""Polls in the conversation: pick a poll, pick a choice, learn until when it can change.

`SONDAGE` (or Participer > Sondages) lists the commune's open polls; with only
one open, its question comes at once, and `SONDAGE 2` or `SONDAGE oui` answers
it in one message. Answering again shows the current choice and replaces it.
The choice is stored as soon as it is made (bot/participation/polls.py).
"""

from __future__ import annotations

from bot.content.cache import communes
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Step, Transition
from bot.flows.info_common import shortened
from bot.i18n import format_datetime, t
from bot.matching import pick_option
from bot.models import Poll, PollOption
from bot.models.types import utcnow
from bot.participation.polls import answerable, current_choice, open_polls, respond

CHOOSE, ANSWER, DONE = "poll.choose", "poll.answer", "poll.done"
QUESTION_CHARS = 40
"""A question as listed among several polls: a few fit one USSD screen."""
_OPTION = "option:"
_POLL = "poll:"


def _ended(text: str) -> Reply:
    return Reply(text=text, end=True)


def _none_open(ctx: Context) -> Reply:
    name = next((c.name for c in communes(ctx.session) if c.slug == ctx.commune_slug), "")
    return _ended(t("poll.none", ctx.lang, commune=name))


def _question(ctx: Context, poll: Poll) -> Reply:
    """The poll's question and its choices, with the citizen's current choice if any."""
    options = tuple(Option(f"{_OPTION}{option.id}", option.label) for option in poll.options)
    text = poll.question
    current = current_choice(ctx.session, poll.id, ctx.contact_id)
    if current is not None:
        text += "\n" + t("poll.current", ctx.lang, choice=current.label)
    return Reply(title=t("poll.title", ctx.lang), text=text, options=options)


def _record(ctx: Context, option_id: int) -> Transition:
    """Store the choice; a poll closed since its question was shown is refused politely."""
    option = ctx.session.get(PollOption, option_id)
    ctx.draft.clear()
    if option is None:
        ctx.draft["refused"] = True
        return Go(DONE)
    ctx.draft.update(poll_id=option.poll_id, choice=option.label)
    try:
        ctx.draft["changed"] = respond(
            ctx.session, option.poll_id, ctx.contact_id, option.id, ctx.channel
        )
        ctx.private_answer = option.poll.political
    except ValueError:
        ctx.draft["refused"] = True
    return Go(DONE)


class ChoosePoll:
    """The open polls, by their shortened question; with one open, its question itself."""

    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        polls = open_polls(ctx.session, ctx.commune_slug) if ctx.commune_slug else []
        if not polls:
            return _none_open(ctx)
        if len(polls) == 1:
            return _question(ctx, polls[0])
        options = tuple(
            Option(f"{_POLL}{poll.id}", shortened(poll.question, QUESTION_CHARS)) for poll in polls
        )
        return Reply(title=t("poll.choose", ctx.lang), text="", options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option and answer.option.startswith(_POLL):
            ctx.draft.clear()
            ctx.draft["poll_id"] = int(answer.option.removeprefix(_POLL))
            return Go(ANSWER)
        if answer.option and answer.option.startswith(_OPTION):
            return _record(ctx, int(answer.option.removeprefix(_OPTION)))
        return Stay(t("menu.invalid", ctx.lang))


class AnswerPoll:
    """One poll's question; picking a choice records it."""

    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        poll_id = ctx.draft.get("poll_id")
        if poll_id is None:
            # No poll in the draft (a conversation stored without one): the polls again.
            return _CHOOSE.prompt(ctx)
        poll = ctx.session.get(Poll, poll_id)
        if poll is None or not answerable(poll, utcnow()):
            return _ended(t("poll.unavailable", ctx.lang))
        return _question(ctx, poll)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        return _CHOOSE.handle(ctx, answer)


class PollDone:
    """Thanks, and until when the choice can still change."""

    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        poll_id = ctx.draft.get("poll_id")
        poll = ctx.session.get(Poll, poll_id) if poll_id else None
        if poll is None or ctx.draft.get("refused") or poll.closes_at is None:
            return _ended(t("poll.unavailable", ctx.lang))
        key = "poll.changed" if ctx.draft.get("changed") else "poll.thanks"
        thanks = t(key, ctx.lang, choice=ctx.draft.get("choice", ""))
        until = t("poll.until", ctx.lang, when=format_datetime(poll.closes_at, ctx.lang))
        return _ended(f"{thanks} {until}")

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        return Stay()


_CHOOSE = ChoosePoll()
STEPS: dict[str, Step] = {CHOOSE: _CHOOSE, ANSWER: AnswerPoll(), DONE: PollDone()}


def _typed_option(poll: Poll, text: str) -> PollOption | None:
    """The choice named after the keyword: its number ("2") or its words ("oui")."""
    index = pick_option(text, [option.label for option in poll.options])
    return poll.options[index] if index is not None else None


def start(ctx: Context, answer: Answer) -> str:
    """SONDAGE [choice]: the list of open polls, the only one's question, or the answer itself."""
    ctx.draft.clear()
    polls = open_polls(ctx.session, ctx.commune_slug) if ctx.commune_slug else []
    if len(polls) != 1:
        return CHOOSE
    poll = polls[0]
    ctx.draft["poll_id"] = poll.id
    option = _typed_option(poll, answer.text)
    if option is None:
        return ANSWER
    _record(ctx, option.id)
    return DONE
