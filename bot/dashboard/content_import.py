"""CSV upload of one content kind: preview every change and every error, then apply.

The upload is checked with the content files' own readers (`decode_text`,
`parse_csv`) and builders, plus the database checks of `content_check`. A
preview that holds no error is kept in Redis under a random token, for
TOKEN_TTL_SECONDS, tied to the staff user, the commune and the kind; confirming
reads it back from there (never from the browser), checks it again against
the database as it is then, and upserts on the loader's natural keys. One audit
row per import holds the counts and, per row written, its values before and after.

`sample` is a required column, as in the shipped files: an import keeps what the
file says, so exporting sample rows and importing them back leaves them sample.
"""

from __future__ import annotations

import json
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field

import redis as redis_lib
from sqlalchemy.orm import Session

from bot import audit
from bot.content.records import ContentError
from bot.content.sources import Message, decode_text, parse_csv
from bot.dashboard.content_check import Change, check, context, plan
from bot.dashboard.content_kinds import Kind
from bot.models import Commune, StaffUser

IMPORT_MAX_BYTES = 512 * 1024
"""Below the app's MAX_CONTENT_LENGTH (1 MiB), so the page can say why a file is refused."""
TOKEN_TTL_SECONDS = 30 * 60
_PREFIX = "dashboard:content-import"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


@dataclass
class Preview:
    kind: Kind
    filename: str
    text: str | None
    changes: list[Change] = field(default_factory=list)
    errors: list[ContentError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def counts(self) -> Counter[str]:
        return Counter(change.action for change in self.changes)


def too_large(data: bytes) -> bool:
    return len(data) > IMPORT_MAX_BYTES


def preview(session: Session, commune: Commune, kind: Kind, data: bytes, filename: str) -> Preview:
    """What importing `data` would do to the commune's rows of `kind`; writes nothing."""
    result = Preview(kind, filename, None)
    errors = result.errors
    result.text = decode_text(data, filename, errors)
    if result.text is None:
        return result
    raws = parse_csv(result.text, filename, kind.columns, errors)
    if raws is None:
        return result
    if not raws and not errors:
        message = Message("dashboard.content.import.no_rows", "file holds no row")
        errors.append(ContentError(filename, None, None, message))
    checked = check(kind, raws, filename, context(session, commune), errors)
    result.changes = plan(session, commune, kind, checked, filename, errors)
    return result


def stash(redis: redis_lib.Redis, staff: StaffUser, commune: Commune, result: Preview) -> str:
    """Keep a valid preview's file server-side; the token names it in the confirm URL."""
    token = secrets.token_urlsafe(24)
    held = {
        "staff_id": staff.id,
        "commune_id": commune.id,
        "kind": result.kind.slug,
        "filename": result.filename,
        "text": result.text,
    }
    redis.set(f"{_PREFIX}:{token}", json.dumps(held), ex=TOKEN_TTL_SECONDS)
    return token


def take(
    redis: redis_lib.Redis, staff: StaffUser, commune: Commune, kind: Kind, token: str
) -> tuple[str, bytes] | None:
    """(filename, data) kept under `token` for this staff, commune and kind, once; else None."""
    if not _TOKEN.fullmatch(token):
        return None
    key = f"{_PREFIX}:{token}"
    raw = redis.get(key)
    if raw is None:
        return None
    held = json.loads(raw)
    scope = (held["staff_id"], held["commune_id"], held["kind"])
    if scope != (staff.id, commune.id, kind.slug) or redis.getdel(key) is None:
        return None
    return held["filename"], held["text"].encode()


def apply(session: Session, staff: StaffUser, commune: Commune, result: Preview) -> Counter[str]:
    """Write a valid preview's changes and its audit row; the caller commits."""
    kind = result.kind
    written: list[dict] = []
    for change in result.changes:
        if change.action == "create":
            row = kind.model(commune_id=commune.id, **change.values)
            session.add(row)
            session.flush()
            written.append({"line": change.line, "id": row.id, "after": audit.snapshot(row)})
        elif change.action == "update":
            before = audit.snapshot(change.row)
            for name, value in change.values.items():
                setattr(change.row, name, value)
            session.flush()
            after = audit.snapshot(change.row)
            moved = {name for name in after if after[name] != before.get(name)}
            written.append(
                {
                    "line": change.line,
                    "id": change.row.id,
                    "before": {name: before.get(name) for name in sorted(moved)},
                    "after": {name: after[name] for name in sorted(moved)},
                }
            )
    counts = result.counts
    summary = {
        "file": result.filename,
        "created": counts["create"],
        "updated": counts["update"],
        "unchanged": counts["unchanged"],
        "rows": written,
    }
    audit.record(session, staff, "import", kind.table, None, commune.id, after=summary)
    return counts
