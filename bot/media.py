"""`GET /media/audio/<id>-<sha8>.<ext>`: the recordings of content, public.

Public on purpose: Africa's Talking fetches the file a voice call's <Play> names,
with no credentials, and the recordings read published content aloud. The path
holds the start of the file's SHA-256, so a replaced recording gets a new path
and each path may be cached for a year; a path that does not name the current
file is 404.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from bot.content.audio import FORMATS, parse_media_name
from bot.db import get_session
from bot.models import ContentAudio

bp = Blueprint("media", __name__)

CACHE_SECONDS = 365 * 24 * 3600
"""How long a client may keep a recording: its path changes with its bytes."""


@bp.get("/media/audio/<name>")
def audio(name: str) -> Response:
    parsed = parse_media_name(name)
    if parsed is None:
        abort(404)
    audio_id, digest, extension = parsed
    row = get_session().get(ContentAudio, audio_id)
    if (
        row is None
        or not row.sha256.startswith(digest)
        or FORMATS[row.content_type].extension != extension
    ):
        abort(404)
    response = Response(row.data, mimetype=row.content_type)
    response.set_etag(row.sha256)
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Players seek with Range requests; If-None-Match gets a 304 without the bytes.
    return response.make_conditional(request, accept_ranges=True, complete_length=row.size_bytes)
