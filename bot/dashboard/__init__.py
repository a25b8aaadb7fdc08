"""The mairie staff dashboard, mounted at `/dashboard` (server-rendered, French first)."""

from bot.dashboard import auth, nav, views
from bot.dashboard.blueprint import bp

__all__ = ["auth", "bp", "nav", "views"]
