"""What a USSD hop reads: an immutable snapshot of one commune's content, in memory.

`snapshot(session, slug)` builds a `CommuneSnapshot` (bot/content/cache_snapshot.py)
once and serves it from module-level memory, per database (engine) and slug,
until the content changes. Changes are signalled by a Redis counter,
`content:version`, that whoever loads or edits content bumps; each process
reads it at most once per `CHECK_INTERVAL_SECONDS` (monotonic clock), so a hop
usually costs neither a query nor a Redis call.

"Next session" and "upcoming" depend on the clock too: a snapshot is also
rebuilt once `now` leaves the window its classification holds for (an event
it listed as upcoming has started), even if the content did not change.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import datetime

import redis as redis_lib
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from bot.content.cache_snapshot import (
    COUNCIL_SESSIONS,
    UPCOMING_STATUSES,
    AgendaInfo,
    BudgetTotals,
    CommuneSnapshot,
    ContractInfo,
    DecisionInfo,
    DocumentInfo,
    EventInfo,
    GoodPracticeInfo,
    ProjectInfo,
    SectorAmount,
    build_snapshot,
)
from bot.models import Commune
from bot.models.types import utcnow
from bot.redis import get_redis

__all__ = [
    "CHECK_INTERVAL_SECONDS",
    "COUNCIL_SESSIONS",
    "UPCOMING_STATUSES",
    "VERSION_KEY",
    "AgendaInfo",
    "BudgetTotals",
    "CommuneRef",
    "CommuneSnapshot",
    "ContractInfo",
    "DecisionInfo",
    "DocumentInfo",
    "EventInfo",
    "GoodPracticeInfo",
    "ProjectInfo",
    "SectorAmount",
    "build_snapshot",
    "bump_content_version",
    "clear",
    "commune_id",
    "communes",
    "content_version",
    "snapshot",
]

logger = logging.getLogger(__name__)

VERSION_KEY = "content:version"
CHECK_INTERVAL_SECONDS = 1.0
_monotonic = time.monotonic  # a module attribute, so tests can move the clock


def content_version(redis: redis_lib.Redis) -> int:
    value = redis.get(VERSION_KEY)
    return int(value) if value is not None else 0


def bump_content_version(redis: redis_lib.Redis) -> int:
    """Tell every process that content changed; returns the new version."""
    return int(redis.incr(VERSION_KEY))


@dataclass(frozen=True)
class _Version:
    value: int | None  # None: never read successfully
    checked_at: float  # _monotonic()


@dataclass(frozen=True)
class CommuneRef:
    """What menus and the matcher need of every commune."""

    id: int
    slug: str
    name: str
    variants: tuple[str, ...]


class _Store:
    """The snapshots of one database, and the last content version read for it."""

    def __init__(self) -> None:
        self.version: _Version | None = None
        self.check_lock = threading.Lock()
        self.entries: dict[str, tuple[int | None, CommuneSnapshot]] = {}
        self.build_locks: dict[str, threading.Lock] = {}
        self.communes: tuple[int | None, tuple[CommuneRef, ...]] | None = None


_lock = threading.Lock()
# Keyed by engine (one per app and database URL), weakly: a database recreated at
# the same URL (test runs on PostgreSQL) comes with a new engine, hence no stale hit.
_stores: weakref.WeakKeyDictionary[Engine, _Store] = weakref.WeakKeyDictionary()


def clear() -> None:
    """Forget every snapshot and every version read (for tests)."""
    with _lock:
        _stores.clear()


def _store_of(session: Session) -> _Store:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    with _lock:
        store = _stores.get(engine)
        if store is None:
            store = _stores[engine] = _Store()
        return store


def _current_version(store: _Store, redis: redis_lib.Redis | None) -> int | None:
    """The content version, read from Redis at most once per CHECK_INTERVAL_SECONDS.

    One thread reads it while the others keep the value known so far; only
    threads that know none yet wait for that read.
    """
    known = store.version
    if known is not None and _monotonic() - known.checked_at < CHECK_INTERVAL_SECONDS:
        return known.value
    if not store.check_lock.acquire(blocking=known is None):
        assert known is not None  # a blocking acquire always succeeds
        return known.value
    try:
        latest = store.version
        if latest is not known and latest is not None:
            return latest.value  # read by the thread this one waited for
        clock = _monotonic()
        try:
            value = content_version(redis or get_redis())
        except (redis_lib.RedisError, OSError):
            # Stale content beats no answer: keep serving what is cached.
            logger.warning("content version unreadable; serving cached content", exc_info=True)
            value = known.value if known else None
        store.version = _Version(value, clock)
        return value
    finally:
        store.check_lock.release()


def commune_id(session: Session, slug: str) -> int | None:
    """The id of the commune `slug`, from the cached list (no query once it is read)."""
    return next((c.id for c in communes(session) if c.slug == slug), None)


def communes(session: Session, redis: redis_lib.Redis | None = None) -> tuple[CommuneRef, ...]:
    """Every commune, largest first (most callers live in Cotonou and Abomey-Calavi)."""
    store = _store_of(session)
    version = _current_version(store, redis)
    cached = store.communes
    if cached is not None and cached[0] == version:
        return cached[1]
    rows = session.execute(
        select(Commune.id, Commune.slug, Commune.name, Commune.name_variants).order_by(
            Commune.population.desc(), Commune.name
        )
    )
    refs = tuple(
        CommuneRef(id_, slug, name, tuple(variants or ())) for id_, slug, name, variants in rows
    )
    store.communes = (version, refs)
    return refs


def snapshot(
    session: Session,
    slug: str,
    now: datetime | None = None,
    redis: redis_lib.Redis | None = None,
) -> CommuneSnapshot | None:
    """The commune's snapshot, from memory unless the content version moved or `now`
    left its window; None for an unknown slug. `redis` defaults to `get_redis()`."""
    now = now or utcnow()
    store = _store_of(session)
    version = _current_version(store, redis)

    def cached() -> CommuneSnapshot | None:
        with _lock:
            entry = store.entries.get(slug)
        if entry is not None and entry[0] == version and entry[1].is_valid_at(now):
            return entry[1]
        return None

    found = cached()
    if found is not None:
        return found
    with _lock:
        build_lock = store.build_locks.setdefault(slug, threading.Lock())
    with build_lock:  # one build per commune at a time; the threads waiting reuse it
        found = cached()
        if found is not None:
            return found
        built = build_snapshot(session, slug, now)
        if built is not None:
            with _lock:
                store.entries[slug] = (version, built)
        return built
