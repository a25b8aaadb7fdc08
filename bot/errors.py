"""JSON errors for machines, never a traceback in a body."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from bot.api.blueprint import bp as api_bp
from bot.api.blueprint import http_error as api_http_error

log = logging.getLogger(__name__)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        # An unknown path or method under /api/v1 matched no API route, so its
        # blueprint's handler never ran: answer in the API's error format anyway.
        if request.path.startswith(api_bp.url_prefix + "/"):
            return api_http_error(error)
        return jsonify(error=error.name, description=error.description), error.code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return jsonify(error="Internal Server Error"), 500
