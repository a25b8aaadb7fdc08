"""CSV export of one content kind: the columns an import reads, so export -> import is
a round trip. Cells are written as the content files write them (local times,
ISO dates, `true`/`false`); a UTF-8 BOM lets spreadsheet programs see the accents,
and a cell that would run as a formula is guarded (bot/spreadsheet.py)."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot.dashboard.content_kinds import Kind
from bot.models import Commune, Project
from bot.spreadsheet import guard

BOM = "\ufeff"


def rows(session: Session, commune: Commune, kind: Kind) -> list:
    """The commune's rows of `kind`, in the list pages' order."""
    query = select(kind.model).where(kind.model.commune_id == commune.id).order_by(*kind.order_by)
    if kind.model is Project:
        query = query.options(selectinload(Project.area))
    return list(session.scalars(query))


def export_csv(session: Session, commune: Commune, kind: Kind) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(kind.columns)
    for row in rows(session, commune, kind):
        texts = kind.texts(row)
        writer.writerow([guard(texts[column]) for column in kind.columns])
    return buffer.getvalue()
