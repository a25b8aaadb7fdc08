"""What the citizen chooses once and the service remembers: language and commune."""

from __future__ import annotations

from sqlalchemy import bindparam, update

from bot.content.cache import commune_id
from bot.flows.base import Context
from bot.i18n import SUPPORTED_LANGUAGES
from bot.models import Contact


def set_language(ctx: Context, lang: str) -> None:
    ctx.lang = lang
    ctx.session.execute(update(Contact).where(Contact.id == ctx.contact_id).values(language=lang))


def switch_language(ctx: Context) -> None:
    """French to English and back (the menu offers the other language)."""
    set_language(ctx, next(lang for lang in SUPPORTED_LANGUAGES if lang != ctx.lang))


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
    ctx.session.connection().execute(
        _SET_COMMUNE, {"contact_id": ctx.contact_id, "commune_id": commune_id(ctx.session, slug)}
    )
