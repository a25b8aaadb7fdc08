"""The mairie staff dashboard, mounted at `/dashboard` (server-rendered, French first)."""

from bot.dashboard import audit_views as audit_views  # routes register on import
from bot.dashboard import auth, nav, views
from bot.dashboard import broadcasts_views as broadcasts_views  # routes register on import
from bot.dashboard import content_audio_views as content_audio_views  # routes register on import
from bot.dashboard import content_io_views as content_io_views  # routes register on import
from bot.dashboard import content_views as content_views  # routes register on import
from bot.dashboard import events_views as events_views  # routes register on import
from bot.dashboard import feedback_views as feedback_views  # routes register on import
from bot.dashboard import polls_views as polls_views  # routes register on import
from bot.dashboard import questions_views as questions_views  # routes register on import
from bot.dashboard import subscribers_views as subscribers_views  # routes register on import
from bot.dashboard.blueprint import bp

__all__ = ["auth", "bp", "nav", "views"]
