"""The phone simulator: USSD, SMS and WhatsApp in a browser page, through the real webhooks."""

from bot.simulator.views import bp

__all__ = ["bp"]
