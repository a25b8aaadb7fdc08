"""The content screens, channel-agnostic: `(Context) -> Reply` for the commune
`ctx.commune_slug`, in `ctx.lang`, read from the in-memory snapshot
(bot/content/cache.py). Replies are plain text; the renderer numbers, pages and
transliterates. A reply built from sample content says so in its title. The
budget, compte administratif and PTA replies also carry their chart or document
(`Reply.attachments`, bot/flows/info_budget.py), which only WhatsApp sends.
"""

from bot.flows.info_budget import budget, compte_administratif, contracts, projects
from bot.flows.info_events import about, agenda, council, good_practices, reddition

__all__ = [
    "about",
    "agenda",
    "budget",
    "compte_administratif",
    "contracts",
    "council",
    "good_practices",
    "projects",
    "reddition",
]
