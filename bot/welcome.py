"""The main menu of the three communes: the service's first screen on every channel.

The conversation flows (bot/flows/) will grow from here; until then a citizen
picks a commune and gets its basic facts.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.gsm import to_gsm7
from bot.i18n import t
from bot.models import Commune


def communes(session: Session) -> list[Commune]:
    # Largest first: most callers live in Cotonou and Abomey-Calavi.
    return list(session.scalars(select(Commune).order_by(Commune.population.desc(), Commune.name)))


def menu_text(session: Session, lang: str | None) -> str:
    lines = [t("welcome.title", lang), t("welcome.choose", lang)]
    lines += [f"{n}. {c.name}" for n, c in enumerate(communes(session), start=1)]
    return "\n".join(lines)


def commune_facts(commune: Commune, lang: str | None) -> str:
    return t(
        "welcome.commune_facts",
        lang,
        name=commune.name,
        department=commune.department,
        population=f"{commune.population:,}".replace(",", " "),
        year=commune.population_year,
    )


def choose(session: Session, answer: str) -> Commune | None:
    """The commune picked by its menu number, or None."""
    listed = communes(session)
    answer = answer.strip()
    if answer.isdigit() and 1 <= int(answer) <= len(listed):
        return listed[int(answer) - 1]
    return None


def ussd_screen(session: Session, text: str, lang: str | None) -> str:
    """The USSD answer for AT's `text` (all inputs since the dial, `*`-joined)."""
    last = text.rsplit("*", 1)[-1] if text else ""
    commune = choose(session, last) if text else None
    if commune is not None:
        return "END " + to_gsm7(commune_facts(commune, lang))
    return "CON " + to_gsm7(menu_text(session, lang))


def reply_text(session: Session, text: str, lang: str | None) -> str:
    """The SMS or WhatsApp answer to a message, before the flows exist."""
    commune = choose(session, text)
    if commune is not None:
        return commune_facts(commune, lang)
    return menu_text(session, lang) + "\n" + t("welcome.reply_hint", lang)
