"""MES DONNEES and SUPPRIMER: what is held about the number, and erasing it.

The summary is one short reply (bot/participation/privacy.py summary). SUPPRIMER
asks for confirmation; a yes only sets `ctx.erase_requested`: the engine (USSD)
or the reply worker (SMS, WhatsApp) erases the contact once the confirmation
has been sent, since after that there is no number to send it to.
"""

from __future__ import annotations

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
from bot.i18n import SUPPORTED_LANGUAGES, t
from bot.models.enums import Channel
from bot.participation.privacy import DataSummary, summary


def show_data(ctx: Context, answer: Answer) -> str:
    ctx.draft.clear()
    return "privacy.data"


def start_erase(ctx: Context, answer: Answer) -> str:
    ctx.draft.clear()
    return "privacy.erase"


def _language(held: DataSummary, lang: str) -> str:
    if held.language is None:
        return t("privacy.unset", lang)
    if held.language in SUPPORTED_LANGUAGES:
        return t(f"privacy.language.{held.language}", lang)
    return held.language


def _lines(held: DataSummary, lang: str) -> str:
    none = t("privacy.none", lang)
    alerts = [
        t("privacy.subscription", lang, commune=name, topic=t(f"subscribe.topic.{topic}", lang))
        for name, topic in held.subscriptions
    ]
    return t(
        "privacy.summary",
        lang,
        phone=held.phone,
        language=_language(held, lang),
        commune=held.commune or t("privacy.unset", lang),
        subscriptions=", ".join(alerts) or none,
        consents=held.consents,
        feedback=", ".join(held.feedback_refs) or none,
        questions=held.questions,
        polls=held.polls,
        messages=held.messages,
    )


class DataStep:
    """The summary. Keywords are typed on SMS and WhatsApp only: USSD offers erasing as
    an option instead of the "send SUPPRIMER" line, so its citizens can erase too."""

    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        text = _lines(summary(ctx.session, ctx.contact_id), ctx.lang)
        title = t("privacy.title", ctx.lang)
        if ctx.channel is Channel.USSD:
            erase = Option("erase", t("privacy.erase_option", ctx.lang))
            return Reply(title=title, text=text, options=(erase,))
        return Reply(title=title, text=f"{text}\n{t('privacy.erase_hint', ctx.lang)}", end=True)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option == "erase":
            return Go("privacy.erase")
        return Stay(t("menu.invalid", ctx.lang))


class EraseStep:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        options = (
            Option("yes", t("privacy.erase_yes", ctx.lang)),
            Option("no", t("privacy.erase_no", ctx.lang)),
        )
        return Reply(
            title=t("privacy.erase_title", ctx.lang),
            text=t("privacy.erase_confirm", ctx.lang),
            options=options,
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option == "yes":
            ctx.erase_requested = True
            return Go("privacy.erased")
        if answer.option == "no":
            return Go("privacy.kept")
        return Stay(t("menu.invalid", ctx.lang))


STEPS: dict[str, Step] = {
    "privacy.data": DataStep(),
    "privacy.erase": EraseStep(),
    "privacy.erased": LastWord("privacy.erased"),
    "privacy.kept": LastWord("privacy.kept"),
}
