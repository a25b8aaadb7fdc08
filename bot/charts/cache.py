"""Chart PNGs kept in memory: drawn once per content snapshot, commune, year and language.

A snapshot (bot/content/cache.py) is one content version of one commune: it is
replaced when the content version moves (a load or an edit bumps it), and the
chart drawn from the old one is then drawn again. Keying on the snapshot
itself, rather than on a version number read separately, means a chart is
never drawn from one version and filed under the next. Only charts of
existing communes, years and languages get here, so the cache stays as small
as the content (3 communes x a few years x 2 languages).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from bot.content.cache import CommuneSnapshot


@dataclass(frozen=True)
class _Entry:
    snapshot: weakref.ReferenceType[CommuneSnapshot]
    png: bytes


_lock = threading.Lock()
_entries: dict[tuple[str, int, str], _Entry] = {}


def chart_png(snap: CommuneSnapshot, year: int, lang: str, draw: Callable[[], bytes]) -> bytes:
    """The PNG of this snapshot's chart for `year` and `lang`, drawn by `draw` at most once.

    Threads asking for a chart being drawn wait for it rather than draw it again.
    """
    key = (snap.slug, year, lang)
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry.snapshot() is snap:
            return entry.png
        png = draw()
        _entries[key] = _Entry(weakref.ref(snap), png)
        return png


def clear() -> None:
    """Forget every chart (for tests)."""
    with _lock:
        _entries.clear()
