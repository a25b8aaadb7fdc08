"""The information flow: main menu, commune choice, and one screen per topic."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from bot.content.cache import communes
from bot.flows import info, participate
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Step, Transition
from bot.i18n import SUPPORTED_LANGUAGES, t
from bot.models import Commune, Contact

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


def set_language(ctx: Context, lang: str) -> None:
    ctx.lang = lang
    ctx.session.execute(update(Contact).where(Contact.id == ctx.contact_id).values(language=lang))


def switch_language(ctx: Context) -> None:
    """French to English and back (the menu offers the other language)."""
    set_language(ctx, next(lang for lang in SUPPORTED_LANGUAGES if lang != ctx.lang))


def set_commune(ctx: Context, slug: str) -> None:
    commune_id = ctx.session.scalar(select(Commune.id).where(Commune.slug == slug))
    ctx.commune_slug = slug
    ctx.session.execute(
        update(Contact).where(Contact.id == ctx.contact_id).values(commune_id=commune_id)
    )


class MainMenu:
    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        if ctx.commune_slug is None:
            return CHOOSE_COMMUNE.prompt(ctx)
        name = next((c.name for c in communes(ctx.session) if c.slug == ctx.commune_slug), "")
        options = [Option(topic, t(f"topic.{topic}", ctx.lang)) for topic in TOPICS]
        options.append(Option("participate", t("menu.participate", ctx.lang)))
        options.append(Option("communes", t("menu.change_commune", ctx.lang)))
        options.append(Option("language", t("menu.language", ctx.lang)))
        return Reply(title=t("menu.title", ctx.lang, commune=name), text="", options=tuple(options))

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if ctx.commune_slug is None:
            return CHOOSE_COMMUNE.handle(ctx, answer)
        if answer.option in TOPICS or answer.option in ("participate", "communes"):
            return Go(answer.option)
        if answer.option == "language":
            switch_language(ctx)
            return Stay()
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
    **{topic: TopicScreen(build) for topic, build in TOPICS.items()},
    **participate.STEPS,
}
