"""What the citizen chooses once and the service remembers: language and commune."""

from __future__ import annotations

import logging

from sqlalchemy import bindparam, update
from sqlalchemy.exc import OperationalError

from bot.contacts import create_with_commune, store_commune
from bot.content.cache import commune_id
from bot.db import get_autocommit_engine
from bot.flows.base import Answer, Context, Go, Option, Reply, Stay, Transition
from bot.i18n import available_languages, language_name, t
from bot.models import Contact

log = logging.getLogger(__name__)


def set_language(ctx: Context, lang: str) -> None:
    ctx.lang = lang
    ctx.session.execute(update(Contact).where(Contact.id == ctx.contact_id).values(language=lang))


class LanguageMenu:
    """Every language with a catalog, each by its own name; the one picked is remembered.

    Reached by LANGUE (any state) and the main menu's Langue option; the main menu
    follows, in the new language (French wherever that language has no text yet).
    """

    free_text = False
    needs_commune = False

    def prompt(self, ctx: Context) -> Reply:
        options = tuple(Option(code, language_name(code)) for code in available_languages())
        return Reply(title=t("language.title", ctx.lang), text="", options=options)

    def handle(self, ctx: Context, answer: Answer) -> Transition:
        if answer.option in available_languages():
            set_language(ctx, answer.option)
            return Go("main")
        return Stay(t("menu.invalid", ctx.lang))


_CONTACTS = Contact.__table__
# Core, built once: choosing a commune is on the USSD walk every citizen makes.
_SET_COMMUNE = (
    update(_CONTACTS)
    .where(_CONTACTS.c.id == bindparam("contact_id"))
    .values(commune_id=bindparam("commune_id"))
)


def set_commune(ctx: Context, slug: str) -> None:
    """Remember the commune; `slug` is one of `communes()` (a menu key or a matched name)."""
    ctx.commune_slug = slug
    chosen = commune_id(ctx.session, slug)
    if ctx.phone is not None and not ctx.session.in_transaction():
        # A USSD hop that wrote nothing else: the choice is one statement that
        # commits by itself, the cheapest write there is while the caller waits.
        try:
            store_commune(get_autocommit_engine(), ctx.phone, ctx.channel, chosen)
        except OperationalError:
            # Locked or unreachable: the session's state still carries the
            # commune, and the caller goes on rather than being cut off.
            log.warning("commune choice not stored", exc_info=True)
        return
    if ctx.known_contact_id is None and ctx.phone is not None:
        ctx.contact_id = create_with_commune(ctx.session, ctx.phone, ctx.channel, chosen)
        return
    ctx.session.connection().execute(
        _SET_COMMUNE, {"contact_id": ctx.contact_id, "commune_id": chosen}
    )
