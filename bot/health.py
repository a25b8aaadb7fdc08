"""`GET /healthz` for load balancers: is the database up, is Redis up."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from bot.db import get_engine
from bot.redis import get_redis

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any driver error means "down" to a load balancer
        log.warning("health: database unreachable", exc_info=True)
        return False


def _redis_ok() -> bool:
    try:
        return bool(get_redis(current_app).ping())
    except Exception:  # connection refused, timeout, embedded server failing to start
        log.warning("health: redis unreachable", exc_info=True)
        return False


@bp.get("/healthz")
def healthz():
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    body = {name: "up" if ok else "down" for name, ok in checks.items()}
    body["status"] = "ok" if all(checks.values()) else "degraded"
    return jsonify(body), 200 if all(checks.values()) else 503
