"""The information flow: main menu, commune choice, and one screen per topic."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from bot.content.cache import communes
from bot.flows import callme, info, participate
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Step, Transition
from bot.flows.preferences import LanguageMenu, set_commune
from bot.i18n import t
from bot.models.enums import Channel

TOPICS: dict[str, Callable[[Context], Reply]] = {
    "budget": info.budget,
    "compte_administratif": info.compte_administratif,
    "projects": info.projects,
    "contracts": info.contracts,
    "agenda": info.agenda,
    "council": info.council,
    "reddition": info.reddition,
    "good_practices": info.good_practices,
    "about": info.about,
}


@functools.lru_cache(maxsize=64)  # a few communes times the languages, on every walk
def _main_menu(commune_name: str, lang: str, call_me: bool) -> Reply:
    options = [Option(topic, t(f"topic.{topic}", lang)) for topic in TOPICS]
    options.append(Option("participate", t("menu.participate", lang)))
    options.append(Option("communes", t("menu.change_commune", lang)))
    options.append(Option("language", t("menu.language", lang)))
    if call_me:
        options.append(Option("callme", t("voice.callme.option", lang)))
    return Reply(title=t("menu.title", lang, commune=commune_name), text="", options=tuple(options))


class MainMenu:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        if ctx.commune_slug is None:
            return CHOOSE_COMMUNE.prompt(ctx)
        name = next((c.name for c in communes(ctx.session) if c.slug == ctx.commune_slug), "")
        # Appelez-moi on USSD only: its callers may have no credit, SMS and WhatsApp
        # users can read, and a voice caller is already on the line.
        return _main_menu(name, ctx.lang, ctx.channel is Channel.USSD)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if ctx.commune_slug is None:
            return CHOOSE_COMMUNE.handle(ctx, answer)
        if answer.option in TOPICS or answer.option in ("participate", "communes", "language"):
            return Go(answer.option)
        if answer.option == "callme":
            return Go(callme.start(ctx))
        return Stay(t("menu.invalid", ctx.lang))


class CommuneMenu:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        options = tuple(Option(c.slug, c.name) for c in communes(ctx.session))
        return Reply(
            title=t("welcome.title", ctx.lang), text=t("welcome.choose", ctx.lang), options=options
        )

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option and any(c.slug == answer.option for c in communes(ctx.session)):
            set_commune(ctx, answer.option)
            return Go("main")
        return Stay(t("menu.invalid", ctx.lang))


@dataclass(frozen=True)
class TopicScreen:
    """A content screen; its own options (other years of a budget) refine it."""

    build: Callable[[Context], Reply]
    free_text = False
    needs_commune = True

    def prompt(self, ctx: Context) -> Reply:
        return self.build(ctx)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option and answer.option.startswith("year:"):
            ctx.data["year"] = int(answer.option.removeprefix("year:"))
            return Stay()
        return Stay(t("menu.invalid", ctx.lang))


CHOOSE_COMMUNE = CommuneMenu()

STEPS: dict[str, Step] = {
    "main": MainMenu(),
    "communes": CHOOSE_COMMUNE,
    "language": LanguageMenu(),
    **{topic: TopicScreen(build) for topic, build in TOPICS.items()},
    **participate.STEPS,
    **callme.STEPS,
}
