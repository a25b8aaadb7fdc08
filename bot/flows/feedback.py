"""Filing a feedback ticket, following it (SUIVI), and saying whether it was solved.

The flow asks only what is missing, in this order: category, arrondissement,
quartier, description, photo and position (WhatsApp only), anonymity. `AVIS
<text>` brings the description, and often the category with it ("les
ordures ne sont pas ramassées" is assainissement), so the citizen answers
two or three questions instead of six. A caller cannot type: after the
category, the message is recorded instead (bot/voice.py files the ticket).
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from bot.flows.base import (
    Answer,
    Context,
    Go,
    LastWord,
    Option,
    Reply,
    Stay,
    Step,
    Transition,
)
from bot.i18n import format_date, t
from bot.matching import Place, fold, match_commune
from bot.models import Area, Commune, Feedback
from bot.models.enums import AreaKind, Channel, FeedbackCategory, Satisfaction
from bot.participation import feedback as tickets

MIN_TEXT_LETTERS = 5
ARRONDISSEMENT_WORD = " arrondissement"
UNKNOWN_AREA = "unknown"
DONE = "done"
RECORD_STEP = "feedback.record"


def start(ctx: Context, answer: Answer) -> str:
    """AVIS / PLAINTE [text], or the menu: a new draft with what was already said."""
    ctx.draft.clear()
    ctx.draft["draft_id"] = uuid.uuid4().hex
    if not tickets.can_file(ctx.session, ctx.contact_id):
        return "feedback.limit"
    _take_description(ctx, answer)
    if answer.location:
        ctx.draft["location"] = answer.location
    return next_step(ctx)


def _take_description(ctx: Context, answer: Answer) -> None:
    words = fold(answer.text).split()
    if sum(len(w) for w in words) >= MIN_TEXT_LETTERS:
        ctx.draft["text"] = answer.text.strip()[: tickets.MAX_TEXT]
        category = tickets.guess_category(words)
        if category is not None and "category" not in ctx.draft:
            ctx.draft["category"] = category.value
    if answer.media:
        ctx.draft.setdefault("media", []).extend(answer.media)


def next_step(ctx: Context) -> str:
    """The first question still unanswered, or the submission."""
    draft = ctx.draft
    if "category" not in draft:
        return "feedback.category"
    if ctx.channel is Channel.VOICE:
        return RECORD_STEP
    if "area" not in draft:
        return "feedback.area"
    if "quartier" not in draft and draft["area"] != UNKNOWN_AREA:
        return "feedback.quartier"
    if "text" not in draft:
        return "feedback.text"
    if ctx.channel is Channel.WHATSAPP and "attached" not in draft:
        return "feedback.attach"
    if "anonymous" not in draft:
        return "feedback.anonymous"
    return "feedback.done"


def _arrondissements(ctx: Context) -> list[tuple[int, str, tuple[str, ...]]]:
    rows = ctx.session.execute(
        select(Area.id, Area.name, Area.variants)
        .join(Commune, Area.commune_id == Commune.id)
        .where(Commune.slug == ctx.commune_slug, Area.kind == AreaKind.ARRONDISSEMENT)
        .order_by(Area.id)
    )
    return [(id_, name, tuple(variants or ())) for id_, name, variants in rows]


def _quartiers(ctx: Context, arrondissement_id: int) -> list[Place]:
    rows = ctx.session.execute(
        select(Area.id, Area.name, Area.variants).where(
            Area.parent_id == arrondissement_id, Area.kind == AreaKind.QUARTIER
        )
    )
    return [Place(str(id_), name, tuple(variants or ())) for id_, name, variants in rows]


class Category:
    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        options = tuple(
            Option(c.value, t(f"feedback.category.{c.value}", ctx.lang)) for c in FeedbackCategory
        )
        return Reply(
            title=t("feedback.title", ctx.lang),
            text=t("feedback.ask_category", ctx.lang),
            options=options,
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        ctx.draft["category"] = FeedbackCategory(answer.option).value
        return Go(next_step(ctx))


class Arrondissement:
    """A numbered list; a typed name ("7e", "godomey") is matched with its spellings."""

    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        # "7e", not "7e arrondissement": the question already says it, and 13 of them
        # must fit a USSD page or two and an SMS.
        options = [
            Option(str(id_), name.removesuffix(ARRONDISSEMENT_WORD))
            for id_, name, _ in _arrondissements(ctx)
        ]
        options.append(Option(UNKNOWN_AREA, t("feedback.area_unknown", ctx.lang)))
        return Reply(text=t("feedback.ask_area", ctx.lang), options=tuple(options))

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        area = answer.option
        if area is None:
            places = [
                Place(str(id_), name, variants) for id_, name, variants in _arrondissements(ctx)
            ]
            area = match_commune(answer.text, places)
        if area is None:
            return Stay(t("feedback.area_not_found", ctx.lang))
        ctx.draft["area"] = area if area == UNKNOWN_AREA else int(area)
        return Go(next_step(ctx))


class Quartier:
    """Free text, kept as typed unless it is a known quartier's spelling."""

    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        return Reply(
            text=t("feedback.ask_quartier", ctx.lang),
            options=(Option("skip", t("feedback.skip", ctx.lang)),),
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option == "skip":
            ctx.draft["quartier"] = None
            return Go(next_step(ctx))
        typed = " ".join(answer.text.split())[: tickets.MAX_QUARTIER]
        if not fold(typed):
            return Stay(t("feedback.ask_quartier_again", ctx.lang))
        known = _quartiers(ctx, ctx.draft["area"])
        match = match_commune(typed, known)
        ctx.draft["quartier"] = next((q.name for q in known if q.slug == match), typed)
        return Go(next_step(ctx))


class Description:
    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        return Reply(text=t("feedback.ask_text", ctx.lang))

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        _take_description(ctx, answer)
        if "text" not in ctx.draft:
            return Stay(t("feedback.text_too_short", ctx.lang))
        return Go(next_step(ctx))


class Attachments:
    """WhatsApp: photos and a shared position, as many as the citizen sends, then Terminer."""

    free_text = True
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        return Reply(
            text=t("feedback.ask_attach", ctx.lang),
            options=(Option(DONE, t("feedback.attach_done", ctx.lang)),),
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option == DONE:
            ctx.draft["attached"] = True
            return Go(next_step(ctx))
        if not answer.media and not answer.location:
            return Stay(t("feedback.attach_expected", ctx.lang))
        if answer.media:
            ctx.draft.setdefault("media", []).extend(answer.media)
        if answer.location:
            ctx.draft["location"] = answer.location
        return Stay(t("feedback.attach_received", ctx.lang))


class Recording:
    """Voice: the message spoken after the beep. bot/voice.py renders it as <Record>
    and files the ticket when AT posts the recording, never before."""

    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        return Reply(text=t("voice.record_prompt", ctx.lang))

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        # Never reached: a recording is not an answer to a step (bot/voice.py).
        return Stay()


class Anonymity:
    """The last question: the ticket is filed when it is answered."""

    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        options = (
            Option("named", t("feedback.named", ctx.lang)),
            Option("anonymous", t("feedback.anonymous", ctx.lang)),
        )
        return Reply(text=t("feedback.ask_anonymous", ctx.lang), options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        ctx.draft["anonymous"] = answer.option == "anonymous"
        return Go(submit(ctx))


def submit(ctx: Context) -> str:
    draft = ctx.draft
    area = draft.get("area")
    try:
        ticket, _created = tickets.file(
            ctx.session,
            tickets.Draft(
                commune_slug=ctx.commune_slug or "",
                contact_id=ctx.contact_id,
                channel=ctx.channel,
                category=FeedbackCategory(draft["category"]),
                text=draft["text"],
                draft_id=draft["draft_id"],
                area_id=None if area == UNKNOWN_AREA else area,
                quartier_text=draft.get("quartier"),
                anonymous=draft["anonymous"],
                media=draft.get("media", []),
                location=draft.get("location"),
            ),
        )
    except tickets.LimitReached:
        return "feedback.limit"
    draft["ref"] = ticket.ref
    return "feedback.done"


class Filed:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        ref = ctx.draft.get("ref")
        if ref is None:
            # Reached without a ticket (a stale conversation): nothing was filed.
            return Reply(text=t("feedback.not_filed", ctx.lang), end=True)
        return Reply(
            title=t("feedback.filed_title", ctx.lang),
            text=t("feedback.filed", ctx.lang, ref=ref),
            end=True,
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        return Stay()


def track(ctx: Context, answer: Answer) -> str:
    """SUIVI [ref]: one ticket of the citizen's own, or their latest ones."""
    ctx.draft.clear()
    ref = tickets.find_ref(answer.text)
    if ref is None:
        ctx.draft["refs"] = [ticket.ref for ticket in tickets.recent(ctx.session, ctx.contact_id)]
        return "feedback.mine"
    ticket = tickets.for_author(ctx.session, ctx.contact_id, ref)
    ctx.draft["ref"] = ref
    if ticket is None:
        return "feedback.unknown"
    ctx.draft["feedback_id"] = ticket.id
    return "feedback.status"


def _status_line(ctx: Context, ticket: Feedback) -> str:
    status = t(f"feedback.status.{ticket.status.value}", ctx.lang)
    line = t(
        "feedback.status_line",
        ctx.lang,
        ref=ticket.ref,
        status=status,
        date=format_date(ticket.updated_at, ctx.lang),
    )
    note = next((u.public_note for u in reversed(ticket.updates) if u.public_note), None)
    return f"{line} {note}" if note else line


class MyTickets:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        refs = ctx.draft.get("refs", [])
        found = [tickets.for_author(ctx.session, ctx.contact_id, ref) for ref in refs]
        lines = [_status_line(ctx, ticket) for ticket in found if ticket is not None]
        if not lines:
            return Reply(text=t("feedback.none_yet", ctx.lang), end=True)
        lines.append(t("feedback.track_hint", ctx.lang))
        return Reply(title=t("feedback.mine_title", ctx.lang), text="\n".join(lines), end=True)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        return Stay()


class Satisfied:
    """ "Réglé ?" after a ticket is resolved: asked by SUIVI, or sent with the news."""

    free_text = False
    needs_commune = False

    def __init__(self, show_status: bool) -> None:
        self.show_status = show_status

    def _ticket(self, ctx: Context) -> Feedback | None:
        ticket = ctx.session.get(Feedback, ctx.draft.get("feedback_id", 0))
        return ticket if ticket is not None and ticket.contact_id == ctx.contact_id else None

    def prompt(self, ctx: Context) -> Reply:
        ticket = self._ticket(ctx)
        if ticket is None:
            return Reply(
                text=t("feedback.unknown_ref", ctx.lang, ref=ctx.draft.get("ref", "")), end=True
            )
        status = _status_line(ctx, ticket) if self.show_status else ""
        if not tickets.awaits_satisfaction(ticket):
            return Reply(text=status, end=True)
        options = tuple(
            Option(c.value, t(f"feedback.satisfaction.{c.value}", ctx.lang))
            for c in tickets.SATISFACTION_CHOICES
        )
        question = t("feedback.satisfaction.question", ctx.lang)
        return Reply(text=f"{status}\n{question}".strip(), options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        ticket = self._ticket(ctx)
        if ticket is not None:
            tickets.record_satisfaction(
                ctx.session, ctx.contact_id, ticket.id, Satisfaction(answer.option)
            )
        return Go("feedback.thanks")


STEPS: dict[str, Step] = {
    "feedback.category": Category(),
    "feedback.area": Arrondissement(),
    "feedback.quartier": Quartier(),
    "feedback.text": Description(),
    "feedback.attach": Attachments(),
    RECORD_STEP: Recording(),
    "feedback.anonymous": Anonymity(),
    "feedback.done": Filed(),
    "feedback.limit": LastWord("feedback.limit"),
    "feedback.mine": MyTickets(),
    "feedback.unknown": LastWord("feedback.unknown_ref"),
    "feedback.status": Satisfied(show_status=True),
    tickets.SATISFACTION_STEP: Satisfied(show_status=False),
    "feedback.thanks": LastWord("feedback.satisfaction.thanks"),
}
