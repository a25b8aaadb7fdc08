"""Create, update and delete one row of published content (dashboard forms, JSON API).

Each function checks `values` with the rules of the content files (see
`content_check`), writes, and adds an audit row in the same transaction; the
caller commits and then calls `bot.content.cache.bump_content_version`. Bad
values raise `FormInvalid` (messages in the staff's language); an unknown kind
or a row id outside the commune raises `ContentNotFound`.

`values` maps the kind's file columns (`KINDS[kind].columns`) to text as a form
sends it, or to ints and bools as JSON does. On create, a blank `key` is made
from the title and a missing `sample` means false; on update a missing `sample`
keeps the row's flag. A row is sample data only when the staff says so: a form
shows the box, an import reads the file's required `sample` column. Deleting is allowed for every
kind: no table refers to these rows, and the audit row keeps the whole row; a
deleted document's recordings go with it (`content_audio.remove_all`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from flask import g, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit
from bot.content.audio import RECORDABLE
from bot.content.records import ContentError
from bot.content.sources import RawRecord
from bot.dashboard import content_audio
from bot.dashboard.content_check import (
    Checked,
    check,
    context,
    describe,
    existing_rows,
    form_errors,
    ocid_elsewhere,
    ocid_taken,
)
from bot.dashboard.content_kinds import KINDS, Kind
from bot.dashboard.forms import FormInvalid
from bot.i18n import DEFAULT_LANGUAGE, t
from bot.models import Commune, StaffUser

KEY_LENGTH = 80
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


class ContentNotFound(LookupError):
    """No such kind, or no such row in this commune."""


def kind_named(slug: str) -> Kind:
    kind = KINDS.get(slug)
    if kind is None:
        raise ContentNotFound(slug)
    return kind


def find(session: Session, commune: Commune, kind: str, row_id: int) -> Any:
    """The row `row_id` of `kind` in `commune`; ContentNotFound for another commune's id."""
    model = kind_named(kind).model
    row = session.scalar(select(model).where(model.id == row_id, model.commune_id == commune.id))
    if row is None:
        raise ContentNotFound(f"{kind} {row_id}")
    return row


def create(
    session: Session, staff: StaffUser, commune: Commune, kind: str, values: Mapping[str, Any]
) -> Any:
    """Add a row of `kind`; FormInvalid when a value is bad or its key already exists."""
    spec = kind_named(kind)
    values = dict(values)
    values.setdefault("sample", False)
    if "key" in spec.columns and _blank(values.get("key")) and isinstance(values.get("title"), str):
        values["key"] = _free_key(session, spec, commune, values["title"])
    checked = _checked(session, spec, commune, values)
    if spec.key_of(checked.values) in existing_rows(session, spec, commune):
        raise FormInvalid(_key_taken(spec))
    _refuse_foreign_ocid(session, spec, commune, checked)
    row = spec.model(commune_id=commune.id, **checked.values)
    session.add(row)
    session.flush()
    audit.record(
        session, staff, "create", spec.table, row.id, commune.id, after=audit.snapshot(row)
    )
    return row


def update(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    kind: str,
    row_id: int,
    values: Mapping[str, Any],
) -> Any:
    """Replace every column of row `row_id` with `values`; a missing `sample` keeps the flag."""
    spec = kind_named(kind)
    row = find(session, commune, kind, row_id)
    values = dict(values)
    values.setdefault("sample", row.is_sample)
    checked = _checked(session, spec, commune, values)
    other = existing_rows(session, spec, commune).get(spec.key_of(checked.values))
    if other is not None and other is not row:
        raise FormInvalid(_key_taken(spec))
    _refuse_foreign_ocid(session, spec, commune, checked)
    before = audit.snapshot(row)
    for name, value in checked.values.items():
        setattr(row, name, value)
    session.flush()
    after = audit.snapshot(row)
    if after != before:
        audit.record(
            session, staff, "update", spec.table, row.id, commune.id, before=before, after=after
        )
    return row


def delete(session: Session, staff: StaffUser, commune: Commune, kind: str, row_id: int) -> None:
    """Remove row `row_id`; the audit row keeps all its values."""
    spec = kind_named(kind)
    row = find(session, commune, kind, row_id)
    before = audit.snapshot(row)
    if kind in RECORDABLE:
        content_audio.remove_all(session, staff, kind, row_id)
    session.delete(row)
    session.flush()
    audit.record(session, staff, "delete", spec.table, row_id, commune.id, before=before)


def staff_language() -> str:
    return g.get("lang", DEFAULT_LANGUAGE) if has_app_context() else DEFAULT_LANGUAGE


def _checked(session: Session, spec: Kind, commune: Commune, values: dict[str, Any]) -> Checked:
    raw = RawRecord(1, {column: (values.get(column), 1) for column in spec.columns})
    errors: list[ContentError] = []
    checked = check(spec, [raw], spec.slug, context(session, commune), errors)
    if errors or not checked:
        raise FormInvalid(form_errors(errors, staff_language()))
    return checked[0]


def _key_taken(spec: Kind) -> dict[str, str]:
    field = {"content_key": "key"}.get(spec.key[0], spec.key[0]) if len(spec.key) == 1 else "form"
    return {field: t(f"dashboard.content.check.taken.{spec.slug}", staff_language())}


def _refuse_foreign_ocid(session: Session, spec: Kind, commune: Commune, checked: Checked) -> None:
    ocid = checked.values.get("ocid")
    if spec.slug == "contracts" and ocid_elsewhere(session, commune, [ocid]):
        raise FormInvalid({"ocid": describe(ocid_taken(), staff_language())})


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _free_key(session: Session, spec: Kind, commune: Commune, title: str) -> str:
    """A slug of `title` that no row of the commune uses yet ("" for a blank title)."""
    ascii_title = unicodedata.normalize("NFKD", title.lower()).encode("ascii", "ignore").decode()
    base = _NOT_SLUG.sub("-", ascii_title).strip("-")[:KEY_LENGTH].strip("-")
    if not base:
        return ""
    taken = {key[0] for key in existing_rows(session, spec, commune)}
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate
