"""Pages of one commune: `/dashboard/<commune>/...`, opened only to those with a role there.

`commune_page(capability)` wraps a view whose URL holds the commune's slug: it
logs the staff in (`login_required`), finds the commune (404), checks the
capability there (403), puts it in `g.commune` and remembers it for the menu.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, g, session
from sqlalchemy import select

from bot.dashboard.auth import login_required
from bot.dashboard.permissions import Capability, can, communes_visible
from bot.db import get_session
from bot.models import Commune

F = TypeVar("F", bound=Callable[..., Any])

SESSION_COMMUNE_KEY = "commune"


def commune_page(capability: Capability = Capability.READ) -> Callable[[F], F]:
    """Decorator for views taking `commune` (a slug): the view gets the Commune row."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, commune: str, **kwargs: Any) -> Any:
            row = load_commune(commune, capability)
            session[SESSION_COMMUNE_KEY] = row.slug
            return view(*args, commune=row, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorate


def load_commune(slug: str, capability: Capability) -> Commune:
    """The commune of `slug` for `g.staff`, in `g.commune`; 404 unknown, 403 not allowed."""
    row = get_session().scalar(select(Commune).where(Commune.slug == slug))
    if row is None:
        abort(404)
    if not can(g.staff, capability, row.id):
        abort(403)
    g.commune = row
    return row


def may(capability: Capability | str) -> bool:
    """In a commune page's template: may the staff do `capability` in `g.commune`?"""
    commune = g.get("commune")
    return commune is not None and can(g.get("staff"), capability, commune.id)


def menu_commune() -> Commune | None:
    """The commune the menu links to: the current one, else the last visited, else the first."""
    if g.get("commune") is not None:
        return g.commune
    visible = communes_visible(get_session(), g.get("staff"))
    remembered = session.get(SESSION_COMMUNE_KEY)
    for commune in visible:
        if commune.slug == remembered:
            return commune
    return visible[0] if visible else None
