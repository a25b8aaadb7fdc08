"""Content import and export pages: CSV per kind, and contracts as OCDS JSON.

Import is two steps: POST a file to see the preview (nothing written), then POST
the preview's token to apply it. Exports are public data: any reader may fetch them.
"""

from __future__ import annotations

import json

from flask import Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from bot.dashboard import content_import
from bot.dashboard.blueprint import bp
from bot.dashboard.content_check import describe
from bot.dashboard.content_export import export_csv, rows
from bot.dashboard.content_kinds import KINDS, Kind
from bot.dashboard.content_views import KIND_PATH, commit_content
from bot.dashboard.ocds import release_package
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.models import Commune
from bot.models.types import utcnow
from bot.redis import get_redis


def _column_label(kind: Kind, column: str | None) -> str:
    """The content form's label for a column of `kind`; a column it lacks stays as written."""
    if column in kind.columns:
        return translate(f"dashboard.content.field.{column}")
    return column or ""


def _upload_page(
    kind: str,
    status: int = 200,
    error: str | None = None,
    result: content_import.Preview | None = None,
    token: str | None = None,
) -> tuple[str, int]:
    spec = KINDS[kind]
    page = render_template(
        "dashboard/content/import.html",
        kind=spec,
        column_label=lambda column: _column_label(spec, column),
        error=error,
        result=result,
        token=token,
        describe=lambda message: describe(message, g.lang),
        limit_kb=content_import.IMPORT_MAX_BYTES // 1024,
    )
    return page, status


@bp.route(f"/<commune>/content/{KIND_PATH}/import", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def content_import_page(commune: Commune, kind: str) -> ResponseReturnValue:
    if request.method == "GET":
        return _upload_page(kind)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _upload_page(kind, 422, translate("dashboard.content.import.no_file"))
    data = upload.stream.read(content_import.IMPORT_MAX_BYTES + 1)
    if content_import.too_large(data):
        limit = content_import.IMPORT_MAX_BYTES // 1024
        return _upload_page(kind, 413, translate("dashboard.content.import.too_large", limit=limit))
    result = content_import.preview(get_session(), commune, KINDS[kind], data, upload.filename)
    if not result.ok:
        return _upload_page(kind, 422, result=result)
    token = content_import.stash(get_redis(), g.staff, commune, result)
    return _upload_page(kind, result=result, token=token)


@bp.post(f"/<commune>/content/{KIND_PATH}/import/<token>")
@commune_page(Capability.EDIT_CONTENT)
def content_import_confirm(commune: Commune, kind: str, token: str) -> ResponseReturnValue:
    spec = KINDS[kind]
    held = content_import.take(get_redis(), g.staff, commune, spec, token)
    if held is None:
        return _upload_page(kind, 410, translate("dashboard.content.import.expired"))
    filename, data = held
    session = get_session()
    # Checked again: the database may have changed since the preview.
    result = content_import.preview(session, commune, spec, data, filename)
    if not result.ok:
        return _upload_page(kind, 422, result=result)
    counts = content_import.apply(session, g.staff, commune, result)
    commit_content()
    target = url_for(
        ".content_list",
        commune=commune.slug,
        kind=kind,
        done="imported",
        created=counts["create"],
        updated=counts["update"],
    )
    return redirect(target, 303)


@bp.get(f"/<commune>/content/{KIND_PATH}/export.csv")
@commune_page(Capability.READ)
def content_export(commune: Commune, kind: str) -> ResponseReturnValue:
    body = export_csv(get_session(), commune, KINDS[kind])
    filename = f"{commune.slug}-{kind}.csv"
    return Response(
        body,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<commune>/content/contracts/ocds.json")
@commune_page(Capability.READ)
def content_ocds(commune: Commune) -> ResponseReturnValue:
    contracts = rows(get_session(), commune, KINDS["contracts"])
    package = release_package(commune, contracts, request.base_url, utcnow())
    body = json.dumps(package, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json")
