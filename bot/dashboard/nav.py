"""The dashboard's menu: each page module registers its entry at import time."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, request, url_for

from bot.dashboard.blueprint import bp
from bot.dashboard.permissions import Capability, can, communes_visible
from bot.dashboard.scope import may, menu_commune
from bot.db import get_session


@dataclass(frozen=True)
class Entry:
    endpoint: str
    """A commune page's endpoint: it is linked with `commune=<slug>`."""
    label_key: str
    order: int
    capability: Capability = Capability.READ


_ENTRIES: dict[str, Entry] = {}


def register(
    endpoint: str, label_key: str, order: int, capability: Capability = Capability.READ
) -> None:
    """Add a menu entry; lower `order` comes first (10 content, 20 events, ...)."""
    _ENTRIES[endpoint] = Entry(endpoint, label_key, order, capability)


def entries() -> list[tuple[Entry, str]]:
    """The entries this staff may open in the menu's commune, with that commune's slug."""
    commune = menu_commune()
    if commune is None:
        return []
    staff = g.get("staff")
    shown = sorted(_ENTRIES.values(), key=lambda entry: entry.order)
    return [(entry, commune.slug) for entry in shown if can(staff, entry.capability, commune.id)]


def commune_links() -> list[tuple[str, str, bool]]:
    """(name, url, is_current) per visible commune: this page there, else its first menu page."""
    staff = g.get("staff")
    current = menu_commune()
    endpoint = request.endpoint or ""
    args = dict(request.view_args or {})
    links = []
    for commune in communes_visible(get_session(), staff):
        if "commune" in args:
            url = url_for(endpoint, **{**args, "commune": commune.slug})
        else:
            first = next((e for e in sorted(_ENTRIES.values(), key=lambda e: e.order)), None)
            url = (
                url_for(first.endpoint, commune=commune.slug)
                if first
                else url_for("dashboard.overview")
            )
        links.append((commune.name, url, current is not None and commune.id == current.id))
    return links


@bp.context_processor
def _menu_globals() -> dict[str, object]:
    return {"menu_entries": entries, "commune_links": commune_links, "may": may}
