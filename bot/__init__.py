"""Communes+ bot: the Flask application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from bot import api, cli, cookie_sessions, dashboard, db, health, media, request_limits, simulator
from bot import redis as redis_ext
from bot.channels import views as webhooks
from bot.charts import views as chart_views
from bot.config import load_settings
from bot.errors import register_error_handlers
from bot.logging import configure_logging


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app from the environment; `config` overrides (tests use it).

    Raises `bot.config.ConfigError` naming any missing production setting.
    """
    config = dict(config or {})
    # The instance folder holds the SQLite file and the embedded Redis.
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("INSTANCE_PATH")
    app = Flask(__name__, instance_path=os.path.abspath(instance_path) if instance_path else None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_settings(os.environ, app.instance_path))
    app.config.update(config)
    configure_logging()
    # One proxy hop (the platform's router) sets X-Forwarded-*; signatures are
    # checked against the public URL rebuilt from them.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]

    cookie_sessions.init_app(app)
    db.init_app(app)
    redis_ext.init_app(app)
    register_error_handlers(app)
    request_limits.init_app(app)
    app.register_blueprint(health.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(simulator.bp)
    app.register_blueprint(chart_views.bp)
    app.register_blueprint(media.bp)
    cli.init_app(app)
    return app
