"""Budget charts for WhatsApp: drawn with Pillow, cached per process, served as PNG.

A WhatsApp budget answer carries the chart of its commune, year and language
(bot/flows/info_budget.py); Twilio and Meta fetch it from the public route in
bot/charts/views.py, which draws it once per content snapshot (bot/charts/cache.py).
"""

from __future__ import annotations

URL_PREFIX = "/media/charts"


def chart_path(commune_slug: str, year: int, lang: str) -> str:
    """The app path of a budget chart, e.g. /media/charts/cotonou/2025/fr.png."""
    return f"{URL_PREFIX}/{commune_slug}/{year}/{lang}.png"
