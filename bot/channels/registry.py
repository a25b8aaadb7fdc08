"""Which provider sends what, and one adapter instance per provider per app.

Without credentials a channel falls back to the console provider, so a
newcomer's machine works and nothing leaves it.
"""

from __future__ import annotations

from flask import Flask, current_app

from bot.channels.africastalking import AfricasTalkingAdapter
from bot.channels.base import Sender
from bot.channels.console import ConsoleSender
from bot.channels.twilio import TwilioAdapter
from bot.channels.whatsapp_cloud import WhatsAppCloudAdapter
from bot.models.enums import Channel, Provider


def _configured(app: Flask, provider: Provider, channel: Channel) -> bool:
    config = app.config
    if provider is Provider.AFRICASTALKING:
        return channel is Channel.SMS and bool(config["AT_USERNAME"] and config["AT_API_KEY"])
    if provider is Provider.TWILIO:
        sender = config[
            "TWILIO_WHATSAPP_FROM" if channel is Channel.WHATSAPP else "TWILIO_SMS_FROM"
        ]
        return bool(config["TWILIO_ACCOUNT_SID"] and config["TWILIO_AUTH_TOKEN"] and sender)
    if provider is Provider.META:
        return channel is Channel.WHATSAPP and bool(
            config["WHATSAPP_TOKEN"] and config["WHATSAPP_PHONE_NUMBER_ID"]
        )
    return provider is Provider.CONSOLE


def reply_provider(
    channel: Channel, inbound_provider: Provider, app: Flask | None = None
) -> Provider:
    """Answer through the provider the citizen wrote to, when we can send through it."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    if _configured(app, inbound_provider, channel):
        return inbound_provider
    return Provider.CONSOLE


def outbound_provider(channel: Channel, app: Flask | None = None) -> Provider:
    """The provider for messages we start (alerts, SMS copies of USSD screens)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    preferred = {
        Channel.SMS: (Provider.AFRICASTALKING, Provider.TWILIO),
        Channel.WHATSAPP: (Provider.META, Provider.TWILIO),
    }.get(channel, ())
    return next((p for p in preferred if _configured(app, p, channel)), Provider.CONSOLE)


def sender(provider: Provider, app: Flask | None = None) -> Sender:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache = app.extensions.setdefault("senders", {})
    if provider not in cache:
        cache[provider] = build_adapter(provider, app)
    return cache[provider]


def build_adapter(provider: Provider, app: Flask) -> Sender:
    if provider is Provider.AFRICASTALKING:
        return AfricasTalkingAdapter(app.config)
    if provider is Provider.TWILIO:
        return TwilioAdapter(app.config)
    if provider is Provider.META:
        return WhatsAppCloudAdapter(app.config)
    return ConsoleSender()
