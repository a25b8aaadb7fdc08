"""Recordings page: `/dashboard/<commune>/audio/<kind>/<id>`, one recording per language.

Linked from a document's edit page and a session's page; every method needs
`edit_content` in the commune. An upload is a multipart form (the CSRF token in
a field, as everywhere); its body may be larger than the app's limit for webhook
forms, up to one recording and the form around it. Bigger bodies get the
dashboard's 413 page, a file refused on its bytes gets this page again with why.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.content.audio import MAX_AUDIO_BYTES, RECORDABLE, AudioRefused, media_path
from bot.dashboard import content_audio
from bot.dashboard.blueprint import bp
from bot.dashboard.content_views import commit_content
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.i18n import available_languages, language_name
from bot.models import Commune

UPLOAD_BODY_LIMIT = MAX_AUDIO_BYTES + 64 * 1024
"""Bytes of an upload request: the recording, the multipart headers and the few fields."""

KIND_PATH = "<any(" + ", ".join(RECORDABLE) + "):kind>"
DONE = ("created", "replaced", "unchanged", "deleted")
UPLOAD_ENDPOINT = "dashboard.content_audio_page"
BYTES_PER_MEGABYTE = 1024 * 1024


@bp.url_value_preprocessor
def _room_for_a_recording(endpoint: str | None, _values: dict[str, Any] | None) -> None:
    # URL value preprocessors run before every before_request hook: the app's body
    # size check (bot/request_limits.py) and the CSRF check, which parses the form, must
    # both see the upload's limit, not the one of webhook forms.
    if endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        request.max_content_length = UPLOAD_BODY_LIMIT


@bp.context_processor
def _recordable_kinds() -> dict[str, object]:
    return {"recordable_kinds": tuple(RECORDABLE)}


def _item_or_404(commune: Commune, kind: str, row_id: int) -> Any:
    try:
        return content_audio.item_of(get_session(), commune, kind, row_id)
    except content_audio.ItemNotFound:
        abort(404)


def _back_url(commune: Commune, kind: str, row_id: int) -> str:
    if kind == "events":
        return url_for(".event", commune=commune.slug, event_id=row_id)
    return url_for(".content_edit_page", commune=commune.slug, kind=kind, row_id=row_id)


def _page(
    commune: Commune,
    kind: str,
    item: Any,
    *,
    error: str | None = None,
    chosen: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    recordings = content_audio.recordings_of(get_session(), kind, item.id)
    languages = [
        (code, language_name(code), recordings.get(code)) for code in available_languages()
    ]
    done = request.args.get("done")
    page = render_template(
        "dashboard/content/audio.html",
        kind=kind,
        item=item,
        languages=languages,
        path_of=lambda row: media_path(row.id, row.sha256, row.content_type),
        kilobytes=lambda row: -(-row.size_bytes // 1024),
        limit_mb=MAX_AUDIO_BYTES // BYTES_PER_MEGABYTE,
        error=error,
        chosen=chosen,
        done=done if done in DONE else None,
        back_url=_back_url(commune, kind, item.id),
    )
    return page, status


def _refusal(refused: AudioRefused) -> tuple[str, int]:
    message = translate(
        f"dashboard.audio.refused.{refused.reason}", limit=MAX_AUDIO_BYTES // BYTES_PER_MEGABYTE
    )
    return message, 413 if refused.reason == "too_large" else 422


@bp.route(f"/<commune>/audio/{KIND_PATH}/<int:row_id>", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def content_audio_page(commune: Commune, kind: str, row_id: int) -> ResponseReturnValue:
    item = _item_or_404(commune, kind, row_id)
    if request.method == "GET":
        return _page(commune, kind, item)
    language = request.form.get("language", "")
    upload = request.files.get("file")
    # One byte over the limit is enough to know the file is too big.
    data = upload.stream.read(MAX_AUDIO_BYTES + 1) if upload is not None else b""
    try:
        outcome = content_audio.store(get_session(), g.staff, commune, kind, row_id, language, data)
    except AudioRefused as refused:
        get_session().rollback()
        message, status = _refusal(refused)
        return _page(commune, kind, item, error=message, chosen=language, status=status)
    commit_content()
    target = url_for(
        ".content_audio_page", commune=commune.slug, kind=kind, row_id=row_id, done=outcome
    )
    return redirect(target, 303)


@bp.post(f"/<commune>/audio/{KIND_PATH}/<int:row_id>/delete")
@commune_page(Capability.EDIT_CONTENT)
def content_audio_delete(commune: Commune, kind: str, row_id: int) -> ResponseReturnValue:
    item = _item_or_404(commune, kind, row_id)
    language = request.form.get("language", "")
    if not content_audio.remove(get_session(), g.staff, commune, kind, row_id, language):
        get_session().rollback()
        error = translate("dashboard.audio.refused.nothing")
        return _page(commune, kind, item, error=error, status=422)
    commit_content()
    target = url_for(
        ".content_audio_page", commune=commune.slug, kind=kind, row_id=row_id, done="deleted"
    )
    return redirect(target, 303)
