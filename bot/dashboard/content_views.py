"""Content pages: `/dashboard/<commune>/content/<kind>`: list, create, edit, delete.

Readers see the lists; writing needs `edit_content`. Checking and writing live
in `content_edit`; a view commits, then bumps the content version so USSD and
SMS caches reload. Import and export pages are in `content_io_views`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from bot.content.cache import bump_content_version
from bot.dashboard import content_edit, nav
from bot.dashboard.blueprint import bp
from bot.dashboard.content_check import context
from bot.dashboard.content_kinds import ATTRIBUTE_OF_COLUMN, KINDS, Kind
from bot.dashboard.forms import FormInvalid
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.i18n import format_amount, format_date, format_datetime
from bot.models import Commune, Project
from bot.redis import get_redis

PAGE_SIZE = 50
KIND_PATH = "<any(" + ", ".join(KINDS) + "):kind>"
DONE = ("created", "updated", "deleted", "imported")
AMOUNT_COLUMNS = frozenset({"amount_xof", "budget_xof"})

nav.register("dashboard.content_index", "dashboard.content.menu", 10)


def commit_content() -> None:
    """Commit the request's writes, then tell every process the content changed."""
    get_session().commit()
    bump_content_version(get_redis())


def display(kind: Kind, row: Any, column: str) -> str:
    """One cell of a list page, in the staff's language."""
    if column == "arrondissement":
        return row.area.name if row.area is not None else ""
    value = getattr(row, ATTRIBUTE_OF_COLUMN.get(column, column))
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return translate(f"dashboard.content.choice.{column}.{value.value}")
    if column in AMOUNT_COLUMNS:
        return format_amount(value, g.lang, precise=True)
    if column == "progress":
        return f"{value} %"
    if isinstance(value, datetime):
        return format_datetime(value, g.lang)
    if isinstance(value, date):
        return format_date(value, g.lang)
    return str(value)


@bp.get("/<commune>/content")
@commune_page(Capability.READ)
def content_index(commune: Commune) -> ResponseReturnValue:
    session = get_session()
    counts = {
        slug: session.scalar(
            select(func.count()).select_from(kind.model).where(kind.model.commune_id == commune.id)
        )
        for slug, kind in KINDS.items()
    }
    return render_template("dashboard/content/index.html", kinds=KINDS, counts=counts)


@bp.get(f"/<commune>/content/{KIND_PATH}")
@commune_page(Capability.READ)
def content_list(commune: Commune, kind: str) -> ResponseReturnValue:
    spec = KINDS[kind]
    session = get_session()
    scoped = select(spec.model).where(spec.model.commune_id == commune.id)
    total = session.scalar(select(func.count()).select_from(scoped.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int), 1), pages)
    if spec.slug == "projects":
        scoped = scoped.options(selectinload(Project.area))
    rows = session.scalars(
        scoped.order_by(*spec.order_by, spec.model.id)
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    done = request.args.get("done")
    return render_template(
        "dashboard/content/list.html",
        kind=spec,
        rows=rows,
        display=display,
        page=page,
        pages=pages,
        total=total,
        done=done if done in DONE else None,
        created=request.args.get("created", 0, type=int),
        updated=request.args.get("updated", 0, type=int),
    )


def form_values(spec: Kind, form: Mapping[str, str]) -> dict[str, str]:
    """The posted form as file cells: a checkbox becomes `true`/`false`."""
    values = {column: form.get(column, "") for column in spec.columns}
    values["sample"] = "true" if form.get("sample") else "false"
    return values


def _form_page(
    commune: Commune,
    spec: Kind,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    row: Any | None = None,
    status: int = 200,
) -> tuple[str, int]:
    areas = list(context(get_session(), commune).arrondissements)
    page = render_template(
        "dashboard/content/form.html",
        kind=spec,
        values=values,
        errors=errors,
        row=row,
        areas=areas,
    )
    return page, status


@bp.route(f"/<commune>/content/{KIND_PATH}/new", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def content_new(commune: Commune, kind: str) -> ResponseReturnValue:
    spec = KINDS[kind]
    if request.method == "GET":
        return _form_page(commune, spec, {"sample": "false"}, {})
    values = form_values(spec, request.form)
    try:
        content_edit.create(get_session(), g.staff, commune, kind, values)
    except FormInvalid as invalid:
        get_session().rollback()
        return _form_page(commune, spec, values, invalid.errors, status=422)
    commit_content()
    return redirect(url_for(".content_list", commune=commune.slug, kind=kind, done="created"), 303)


def _row_or_404(commune: Commune, kind: str, row_id: int) -> Any:
    try:
        return content_edit.find(get_session(), commune, kind, row_id)
    except content_edit.ContentNotFound:
        abort(404)


@bp.route(f"/<commune>/content/{KIND_PATH}/<int:row_id>/edit", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def content_edit_page(commune: Commune, kind: str, row_id: int) -> ResponseReturnValue:
    spec = KINDS[kind]
    row = _row_or_404(commune, kind, row_id)
    if request.method == "GET":
        return _form_page(commune, spec, spec.texts(row), {}, row)
    values = form_values(spec, request.form)
    try:
        content_edit.update(get_session(), g.staff, commune, kind, row_id, values)
    except FormInvalid as invalid:
        get_session().rollback()
        row = _row_or_404(commune, kind, row_id)
        return _form_page(commune, spec, values, invalid.errors, row, status=422)
    commit_content()
    return redirect(url_for(".content_list", commune=commune.slug, kind=kind, done="updated"), 303)


@bp.route(f"/<commune>/content/{KIND_PATH}/<int:row_id>/delete", methods=["GET", "POST"])
@commune_page(Capability.EDIT_CONTENT)
def content_delete(commune: Commune, kind: str, row_id: int) -> ResponseReturnValue:
    spec = KINDS[kind]
    row = _row_or_404(commune, kind, row_id)
    if request.method == "GET":
        texts = spec.texts(row)
        return render_template("dashboard/content/delete.html", kind=spec, row=row, texts=texts)
    content_edit.delete(get_session(), g.staff, commune, kind, row_id)
    commit_content()
    return redirect(url_for(".content_list", commune=commune.slug, kind=kind, done="deleted"), 303)
