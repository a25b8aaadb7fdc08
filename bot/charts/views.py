"""`GET /media/charts/<commune>/<year>/<lang>.png`: the budget chart, public.

Twilio and Meta fetch the image from here when they deliver a WhatsApp budget
answer, without credentials, so the route is public; it shows only what the
budget answers already say. An unknown commune, year or language is a 404,
a database that cannot be reached a 503, never a 500. The ETag lets a client
(or WhatsApp's media cache) ask again cheaply.
"""

from __future__ import annotations

import hashlib
import logging

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.exc import DBAPIError

from bot.charts import URL_PREFIX, cache
from bot.charts.data import budget_chart
from bot.charts.draw import render_png
from bot.content.cache import commune_id, snapshot
from bot.db import get_session
from bot.i18n import SUPPORTED_LANGUAGES

bp = Blueprint("charts", __name__, url_prefix=URL_PREFIX)
log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300
"""How long a client may reuse a chart unasked; the ETag makes asking again cheap."""
RETRY_AFTER_SECONDS = "30"


@bp.errorhandler(DBAPIError)
def _unavailable(_error: DBAPIError) -> tuple[Response, int, dict[str, str]]:
    get_session().rollback()
    log.exception("chart: database unreachable")
    body = jsonify(error="unavailable", description="try again later")
    return body, 503, {"Retry-After": RETRY_AFTER_SECONDS}


@bp.get("/<commune>/<int:year>/<lang>.png")
def budget_chart_png(commune: str, year: int, lang: str) -> Response:
    if lang not in SUPPORTED_LANGUAGES:
        abort(404, description="no chart in this language")
    session = get_session()
    # Checked against the cached list first: the snapshot cache keeps a lock per
    # name asked for, and this route is open to any name anyone types.
    if commune_id(session, commune) is None:
        abort(404, description="no such commune")
    snap = snapshot(session, commune)
    chart = budget_chart(snap, year) if snap is not None else None
    if snap is None or chart is None:
        abort(404, description="no budget for this commune and year")
    png = cache.chart_png(snap, year, lang, lambda: render_png(chart, lang))
    response = Response(png, mimetype="image/png")
    response.set_etag(hashlib.sha256(png).hexdigest()[:32])
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_SECONDS
    return response.make_conditional(request)
