"""Upload, replace and delete the recordings of a document or a session, one per language.

Like `content_edit`, each function checks, writes and adds an audit row in the
caller's transaction (the row's values, never the bytes); the caller commits,
then bumps the content version: commune snapshots hold the recordings' paths.
A file is refused (`AudioRefused`) when it is empty, too big or not MP3 or WAV
by its bytes (bot/content/audio.py), or when the language has no catalog.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from bot import audit
from bot.content.audio import RECORDABLE, AudioRefused, check
from bot.i18n import available_languages
from bot.models import Commune, ContentAudio, StaffUser

ENTITY = "content_audio"
_WITHOUT_BYTES = frozenset({"data"})


class ItemNotFound(LookupError):
    """No such kind of recordable item, or no such item in this commune."""


def item_of(session: Session, commune: Commune, kind: str, item_id: int) -> Any:
    """The document or event `item_id` of `commune`; ItemNotFound for another commune's."""
    model = RECORDABLE.get(kind)
    if model is None:
        raise ItemNotFound(kind)
    item = session.scalar(
        select(model).where(model.id == item_id, model.commune_id == commune.id)  # type: ignore[attr-defined]
    )
    if item is None:
        raise ItemNotFound(f"{kind} {item_id}")
    return item


def recordings_of(session: Session, kind: str, item_id: int) -> dict[str, ContentAudio]:
    """The item's recordings by language, their bytes left unread."""
    rows = session.scalars(
        select(ContentAudio)
        .options(defer(ContentAudio.data))
        .where(ContentAudio.kind == kind, ContentAudio.item_id == item_id)
    )
    return {row.language: row for row in rows}


def store(
    session: Session,
    staff: StaffUser,
    commune: Commune,
    kind: str,
    item_id: int,
    language: str,
    data: bytes,
) -> str:
    """Record `data` for the item in `language`: "created", "replaced", or "unchanged"
    when it is the very file already recorded (nothing is written then)."""
    item_of(session, commune, kind, item_id)
    if language not in available_languages():
        raise AudioRefused("language")
    found = check(data)
    digest = hashlib.sha256(data).hexdigest()
    row = session.scalar(
        select(ContentAudio).where(
            ContentAudio.kind == kind,
            ContentAudio.item_id == item_id,
            ContentAudio.language == language,
        )
    )
    if row is not None and row.sha256 == digest:
        return "unchanged"
    before = audit.snapshot(row, exclude=_WITHOUT_BYTES) if row is not None else None
    if row is None:
        row = ContentAudio(commune_id=commune.id, kind=kind, item_id=item_id, language=language)
        session.add(row)
    row.content_type = found.content_type
    row.data = data
    row.size_bytes = len(data)
    row.sha256 = digest
    row.uploaded_by_id = staff.id
    session.flush()
    after = audit.snapshot(row, exclude=_WITHOUT_BYTES)
    action = "create" if before is None else "update"
    audit.record(session, staff, action, ENTITY, row.id, commune.id, before=before, after=after)
    return "created" if before is None else "replaced"


def remove(
    session: Session, staff: StaffUser, commune: Commune, kind: str, item_id: int, language: str
) -> bool:
    """Delete the item's recording in `language`; False when there was none."""
    item_of(session, commune, kind, item_id)
    row = recordings_of(session, kind, item_id).get(language)
    if row is None:
        return False
    _delete(session, staff, row)
    return True


def remove_all(session: Session, staff: StaffUser, kind: str, item_id: int) -> None:
    """Delete every recording of an item that is being deleted.

    Recordings name their item by kind and id, with no foreign key; SQLite may give
    a deleted row's id to the next row, which must not inherit its recordings.
    """
    for row in recordings_of(session, kind, item_id).values():
        _delete(session, staff, row)


def _delete(session: Session, staff: StaffUser, row: ContentAudio) -> None:
    before = audit.snapshot(row, exclude=_WITHOUT_BYTES)
    session.delete(row)
    session.flush()
    audit.record(session, staff, "delete", ENTITY, row.id, row.commune_id, before=before)
