"""The audit log, read: a commune's rows for its administrators, every row for national ones.

Rows show what changed (the keys whose value differs between before and after),
never a key that looks like a credential, whatever a writer put in the row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from flask import abort, g, render_template, request, url_for
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from bot.dashboard import nav
from bot.dashboard.auth import login_required
from bot.dashboard.blueprint import bp
from bot.dashboard.forms import FormInvalid
from bot.dashboard.paging import Page, page_number
from bot.dashboard.permissions import Capability
from bot.dashboard.scope import commune_page
from bot.dashboard.text import translate
from bot.db import get_session
from bot.i18n import LOCAL_TIMEZONE, t
from bot.models import AuditLog, Commune

PAGE_SIZE = 50
FILTER_LENGTH = 120
NO_COMMUNE = "none"
MIN_YEAR, MAX_YEAR = 1900, 2999
_SENSITIVE = re.compile(r"password|passwd|token|secret|hash|api_?key", re.IGNORECASE)
_MISSING = object()


@dataclass(frozen=True)
class Change:
    """One key that differs: its values as compact JSON, None where the key is absent."""

    key: str
    before: str | None
    after: str | None


def _redacted(value: object) -> object:
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items() if not _SENSITIVE.search(str(k))}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def _as_mapping(value: object) -> dict:
    if value is None:
        return {}
    return value if isinstance(value, dict) else {"value": value}


def _shown(value: object) -> str:
    return json.dumps(_redacted(value), ensure_ascii=False, sort_keys=True, default=str)


def changes(before: object, after: object) -> list[Change]:
    """The keys whose value differs between `before` and `after`, credentials left out.

    A key named like a password, token, secret, hash or API key is dropped at every depth.
    """
    old, new = _as_mapping(before), _as_mapping(after)
    found = []
    for key in sorted(old.keys() | new.keys(), key=str):
        if _SENSITIVE.search(str(key)) or old.get(key, _MISSING) == new.get(key, _MISSING):
            continue
        found.append(
            Change(
                str(key),
                _shown(old[key]) if key in old else None,
                _shown(new[key]) if key in new else None,
            )
        )
    return found


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    entity: str = ""
    date_from: date | None = None
    date_to: date | None = None
    commune: str = ""
    """Global page only: "" every row, NO_COMMUNE rows without one, else a slug."""


def _date(values: Mapping[str, str], name: str, lang: str, errors: dict[str, str]) -> date | None:
    text = str(values.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        day = None
    # Far years would overflow when turned into UTC bounds (0001-01-01 minus an hour).
    if day is None or not MIN_YEAR <= day.year <= MAX_YEAR:
        errors[name] = t("dashboard.audit.error.date", lang)
        return None
    return day


def audit_filters(values: Mapping[str, str], lang: str) -> AuditFilters:
    """Read the filter form (`actor`, `action`, `entity`, `date_from`, `date_to`, `commune`).

    Dates are Porto-Novo dates as `YYYY-MM-DD`, both ends included. Raises
    FormInvalid with messages in `lang` on a bad date, a reversed range or
    text longer than FILTER_LENGTH.
    """
    errors: dict[str, str] = {}
    texts = {}
    for name in ("actor", "action", "entity", "commune"):
        texts[name] = str(values.get(name) or "").strip()
        if len(texts[name]) > FILTER_LENGTH:
            errors[name] = t("dashboard.audit.error.too_long", lang, limit=FILTER_LENGTH)
        elif any(ord(char) < 0x20 for char in texts[name]):
            # PostgreSQL refuses NUL in a string: caught here, not as a 500.
            errors[name] = t("dashboard.audit.error.control", lang)
    date_from = _date(values, "date_from", lang, errors)
    date_to = _date(values, "date_to", lang, errors)
    if date_from and date_to and date_from > date_to:
        errors["date_to"] = t("dashboard.audit.error.range", lang)
    if errors:
        raise FormInvalid(errors)
    return AuditFilters(date_from=date_from, date_to=date_to, **texts)


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TIMEZONE).astimezone(UTC)


def _conditions(filters: AuditFilters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.actor:
        found.append(func.lower(AuditLog.actor).contains(filters.actor.lower(), autoescape=True))
    if filters.action:
        found.append(AuditLog.action == filters.action)
    if filters.entity:
        found.append(AuditLog.entity == filters.entity)
    if filters.date_from:
        found.append(AuditLog.created_at >= _local_midnight(filters.date_from))
    if filters.date_to:
        found.append(AuditLog.created_at < _local_midnight(filters.date_to + timedelta(days=1)))
    if filters.commune == NO_COMMUNE:
        found.append(AuditLog.commune_id.is_(None))
    elif filters.commune:
        found.append(
            AuditLog.commune_id
            == select(Commune.id).where(Commune.slug == filters.commune).scalar_subquery()
        )
    return found


def audit_rows(
    session: Session,
    commune_id: int | None,
    filters: AuditFilters,
    number: int,
    size: int = PAGE_SIZE,
) -> Page[AuditLog]:
    """Audit rows matching `filters`, newest first: of commune `commune_id`, or all if None."""
    where = _conditions(filters)
    if commune_id is not None:
        where.append(AuditLog.commune_id == commune_id)
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*where)) or 0
    number = min(number, max(1, -(-total // size)))
    query = (
        select(AuditLog)
        .where(*where)
        .order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
        .offset((number - 1) * size)
        .limit(size)
    )
    return Page(list(session.scalars(query)), number, size, total)


def known_values(session: Session, commune_id: int | None) -> dict[str, list[str]]:
    """The actions and entities found in the rows in scope, for the filter's choices."""
    found = {}
    for name, column in (("action", AuditLog.action), ("entity", AuditLog.entity)):
        query = select(column).distinct().order_by(column)
        if commune_id is not None:
            query = query.where(AuditLog.commune_id == commune_id)
        found[name] = list(session.scalars(query))
    return found


def _page(commune: Commune | None) -> tuple[str, int]:
    session = get_session()
    commune_id = commune.id if commune is not None else None
    status = 200
    errors: dict[str, str] = {}
    try:
        filters = audit_filters(request.args, g.lang)
    except FormInvalid as invalid:
        errors, status = invalid.errors, 422
        filters = AuditFilters()
    if commune is not None:
        filters = replace(filters, commune="")
    page = audit_rows(session, commune_id, filters, page_number(request.args.get("page")))
    communes = {} if commune else {c.id: c for c in session.scalars(select(Commune))}
    typed = {
        name: str(request.args.get(name) or "")[:FILTER_LENGTH]
        for name in ("actor", "action", "entity", "date_from", "date_to", "commune")
    }
    # On a commune's page the commune is the one in the path, never a query argument.
    kept = {name: value for name, value in typed.items() if value}
    if commune is not None:
        kept["commune"] = commune.slug
    html = render_template(
        "dashboard/audit/index.html",
        commune=commune,
        communes=communes,
        page=page,
        heading=(
            translate("dashboard.audit.title", commune=commune.name)
            if commune
            else translate("dashboard.audit.title_all")
        ),
        typed=typed,
        page_url=lambda number: url_for(request.endpoint, **kept, page=number),
        errors=errors,
        choices=known_values(session, commune_id),
        changes=changes,
        no_commune=NO_COMMUNE,
    )
    return html, status


@bp.get("/<commune>/audit")
@commune_page(Capability.MANAGE_STAFF)
def audit_log(commune: Commune) -> tuple[str, int]:
    return _page(commune)


@bp.get("/audit")
@login_required
def audit_log_all() -> tuple[str, int]:
    # Rows without a commune (logins, national changes) belong to no commune's admins.
    if not g.staff.is_national_admin:
        abort(403)
    return _page(None)


nav.register("dashboard.audit_log", "dashboard.audit.menu", 90, Capability.MANAGE_STAFF)
