"""The JSON API for mairie staff tools, under `/api/v1`, with per-staff tokens.

Same roles and rules as the dashboard (`bot.dashboard.permissions`), same write
functions; described by the OpenAPI document at `/api/v1/openapi.json`.
"""

from bot.api import content_writes, core, reads, writes
from bot.api.blueprint import bp

__all__ = ["bp", "content_writes", "core", "reads", "writes"]
