"""The content snapshot: what it holds for the sample data, and when it is rebuilt."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import redis
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from bot import models
from bot.content import cache
from bot.content.loader import load_content
from bot.db import Base, make_engine
from bot.models.enums import (
    BudgetDirection,
    BudgetPhase,
    BudgetSection,
    DocumentType,
    EventStatus,
    EventType,
)
from bot.redis import get_redis

SLUGS = ("cotonou", "abomey-calavi", "akpro-missere")
# Between the October session (held) and the December one (scheduled).
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def loaded(session: Session) -> Session:
    load_content(session)
    session.commit()
    return session


class Clock:
    """Stands in for time.monotonic in bot.content.cache."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(cache, "_monotonic", fake)
    return fake


class QueryCounter:
    def __init__(self, session: Session) -> None:
        self.engine = session.get_bind()
        self.count = 0

    def _count(self, *_args: object) -> None:
        self.count += 1

    def __enter__(self) -> QueryCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def _sum(session: Session, slug: str, **where: object) -> int:
    query = (
        select(func.coalesce(func.sum(models.BudgetLine.amount_xof), 0))
        .join(models.Commune, models.Commune.id == models.BudgetLine.commune_id)
        .where(models.Commune.slug == slug)
    )
    for name, value in where.items():
        query = query.where(getattr(models.BudgetLine, name) == value)
    return int(session.scalar(query))


@pytest.mark.parametrize("slug", SLUGS)
def test_budget_totals_are_the_sums_of_the_lines(loaded: Session, slug: str) -> None:
    snap = cache.build_snapshot(loaded, slug, NOW)
    assert snap is not None
    years = set(loaded.scalars(select(models.BudgetLine.fiscal_year).distinct()))
    assert snap.years == tuple(sorted(years)) == (2024, 2025)
    assert snap.voted_years == (2024, 2025)
    assert len(snap.budgets) == 4
    for totals in snap.budgets:
        line = {"fiscal_year": totals.fiscal_year, "phase": totals.phase}
        recette, depense = BudgetDirection.RECETTE, BudgetDirection.DEPENSE
        fonct, invest = BudgetSection.FONCTIONNEMENT, BudgetSection.INVESTISSEMENT
        assert totals.recettes == _sum(loaded, slug, direction=recette, **line) > 0
        assert totals.depenses == _sum(loaded, slug, direction=depense, **line) > 0
        assert totals.recettes_fonctionnement == _sum(
            loaded, slug, direction=recette, section=fonct, **line
        )
        assert totals.recettes_investissement == _sum(
            loaded, slug, direction=recette, section=invest, **line
        )
        assert totals.depenses_fonctionnement == _sum(
            loaded, slug, direction=depense, section=fonct, **line
        )
        assert totals.depenses_investissement == _sum(
            loaded, slug, direction=depense, section=invest, **line
        )
        for sectors, total in (
            (totals.depense_sectors, totals.depenses),
            (totals.recette_sectors, totals.recettes),
        ):
            amounts = [s.amount_xof for s in sectors]
            assert amounts == sorted(amounts, reverse=True)
            assert sum(amounts) == total
        assert totals.is_sample


def test_snapshot_of_cotonou(loaded: Session) -> None:
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    assert (snap.slug, snap.name, snap.department) == ("cotonou", "Cotonou", "Littoral")
    assert (snap.population, snap.population_year) == (679012, 2013)
    assert len(snap.arrondissements) == 13
    assert snap.arrondissements[0] == "1er arrondissement"
    assert snap.is_sample

    voted = snap.budget(2025, BudgetPhase.VOTED)
    assert voted is not None
    assert voted.depense_sectors[0] == cache.SectorAmount("Voirie", 11_639_000_000)
    assert voted.depense_sectors[1].sector == "Personnel"
    assert snap.budget(2023, BudgetPhase.VOTED) is None

    account = snap.latest_document(DocumentType.COMPTE_ADMINISTRATIF)
    assert account is not None and account.fiscal_year == 2025
    assert account.url and account.url.endswith("compte-administratif-2025.pdf")

    # Latest fiscal year first, then the largest budget; arrondissement names resolved.
    assert [p.fiscal_year for p in snap.projects] == [2025] * 6 + [2024]
    budgets = [p.budget_xof for p in snap.projects[:6]]
    assert budgets == sorted(budgets, reverse=True)
    assert snap.projects[0].arrondissement == "12e arrondissement"
    lamps = next(p for p in snap.projects if p.title.startswith("Lampadaires"))
    assert lamps.arrondissement is None

    signed = [c.date_signed for c in snap.contracts]
    assert signed == sorted(signed, reverse=True)
    assert signed[0] == date(2025, 9, 22)
    assert snap.contracts[0].supplier == "Cabinet Démo Ingénierie"

    assert [g.year for g in snap.good_practices] == [2025, 2025, 2024]


def test_agenda_is_upcoming_first_then_past(loaded: Session) -> None:
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    starts = [(item.starts_at.date(), item.upcoming) for item in snap.agenda]
    assert starts == [
        (date(2026, 11, 5), True),
        (date(2026, 12, 3), True),
        (date(2027, 1, 14), True),
        (date(2027, 2, 18), True),
        (date(2026, 10, 8), False),
    ]
    # Stored in UTC: 15h00 in Porto-Novo is 14h00 UTC.
    assert snap.agenda[0].starts_at == datetime(2026, 11, 5, 14, 0, tzinfo=UTC)


def test_next_and_last_events_relative_to_now(loaded: Session) -> None:
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    council = cache.COUNCIL_SESSIONS
    upcoming = snap.next_event(*council)
    assert upcoming is not None
    assert upcoming.starts_at == datetime(2026, 12, 10, 8, 0, tzinfo=UTC)
    assert upcoming.status == EventStatus.SCHEDULED
    assert upcoming.agenda[0] == "Examen et vote du budget primitif 2027 (exemple)"
    last = snap.last_event(*council)
    assert last is not None and last.starts_at.date() == date(2026, 10, 15)
    assert [d.number for d in last.decisions] == ["EX-2026-03-01", "EX-2026-03-02", "EX-2026-03-03"]
    assert all(d.is_sample for d in last.decisions)

    reddition = snap.next_event(EventType.REDDITION_DE_COMPTES)
    assert reddition is not None and reddition.accepts_questions
    assert reddition.starts_at.date() == date(2027, 2, 20)
    held = snap.last_event(EventType.REDDITION_DE_COMPTES)
    assert held is not None and held.summary and held.starts_at.date() == date(2026, 6, 27)
    assert snap.next_event(EventType.AUDIENCE_PUBLIQUE) is None

    # Before October, the October session is neither next (it is marked held) nor last.
    early = cache.build_snapshot(loaded, "cotonou", datetime(2026, 9, 1, tzinfo=UTC))
    assert early is not None
    assert early.last_event(*council) is None
    early_next = early.next_event(*council)
    assert early_next is not None and early_next.starts_at.date() == date(2026, 12, 10)

    # After everything: nothing is next; the scheduled-but-past sessions never count as held.
    late = cache.build_snapshot(loaded, "cotonou", datetime(2027, 6, 1, tzinfo=UTC))
    assert late is not None
    assert late.next_event(*council) is None
    assert late.next_event(EventType.REDDITION_DE_COMPTES) is None
    late_last = late.last_event(EventType.REDDITION_DE_COMPTES)
    assert late_last is not None and late_last.starts_at.date() == date(2026, 6, 27)
    assert not any(item.upcoming for item in late.agenda)


def test_postponed_and_cancelled_events(loaded: Session) -> None:
    december = models.Event.content_key == "session-ordinaire-2026-12"
    loaded.execute(update(models.Event).where(december).values(status=EventStatus.POSTPONED))
    loaded.commit()
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    upcoming = snap.next_event(*cache.COUNCIL_SESSIONS)
    assert upcoming is not None and upcoming.status == EventStatus.POSTPONED

    loaded.execute(update(models.Event).where(december).values(status=EventStatus.CANCELLED))
    loaded.commit()
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None and snap.next_event(*cache.COUNCIL_SESSIONS) is None


def test_unknown_commune(loaded: Session) -> None:
    assert cache.build_snapshot(loaded, "nowhere", NOW) is None
    assert cache.snapshot(loaded, "nowhere", NOW) is None


def test_version_counter(app, loaded: Session) -> None:
    client = get_redis(app)
    assert cache.content_version(client) == 0
    assert cache.bump_content_version(client) == 1
    assert cache.bump_content_version(client) == 2
    assert cache.content_version(client) == 2


def test_second_call_is_served_from_memory(loaded: Session, clock: Clock) -> None:
    with QueryCounter(loaded) as first:
        snap = cache.snapshot(loaded, "cotonou", NOW)
    assert snap is not None and first.count > 0
    with QueryCounter(loaded) as second:
        again = cache.snapshot(loaded, "cotonou", NOW)
        clock.advance(5)  # the version check is a Redis GET, never a query
        still = cache.snapshot(loaded, "cotonou", NOW)
    assert second.count == 0
    assert again is snap and still is snap
    # Communes are cached apart.
    other = cache.snapshot(loaded, "abomey-calavi", NOW)
    assert other is not None and other.name == "Abomey-Calavi"
    assert cache.snapshot(loaded, "cotonou", NOW) is snap


def test_version_is_read_at_most_once_per_interval(
    app, loaded: Session, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = []
    real = cache.content_version
    monkeypatch.setattr(cache, "content_version", lambda client: reads.append(1) or real(client))
    for _ in range(5):
        cache.snapshot(loaded, "cotonou", NOW)
    assert len(reads) == 1
    clock.advance(cache.CHECK_INTERVAL_SECONDS + 0.1)
    cache.snapshot(loaded, "cotonou", NOW)
    assert len(reads) == 2


def test_edits_show_only_after_a_version_bump(app, loaded: Session, clock: Clock) -> None:
    before = cache.snapshot(loaded, "cotonou", NOW)
    assert before is not None
    voted = before.budget(2025, BudgetPhase.VOTED)
    assert voted is not None
    loaded.execute(
        update(models.BudgetLine)
        .where(models.BudgetLine.fiscal_year == 2025, models.BudgetLine.sector == "Voirie")
        .values(amount_xof=models.BudgetLine.amount_xof + 1_000_000)
    )
    loaded.commit()

    clock.advance(10)
    assert cache.snapshot(loaded, "cotonou", NOW) is before  # not bumped: stale by design

    cache.bump_content_version(get_redis(app))
    # Within the interval the old version still stands...
    assert cache.snapshot(loaded, "cotonou", NOW) is before
    # ...and after it, the snapshot is rebuilt from the database.
    clock.advance(cache.CHECK_INTERVAL_SECONDS + 0.1)
    after = cache.snapshot(loaded, "cotonou", NOW)
    assert after is not None and after is not before
    rebuilt = after.budget(2025, BudgetPhase.VOTED)
    assert rebuilt is not None
    assert rebuilt.depenses == voted.depenses + 1_000_000
    assert after.budget(2025, BudgetPhase.EXECUTED) is not None
    assert cache.snapshot(loaded, "cotonou", NOW) is after


def test_rebuilt_when_time_passes_an_upcoming_event(loaded: Session, clock: Clock) -> None:
    snap = cache.snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    # The next thing to start is the mayor's appointment of 5 November.
    assert snap.valid_until == datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    assert cache.snapshot(loaded, "cotonou", datetime(2026, 11, 5, 14, 0, tzinfo=UTC)) is snap
    later = cache.snapshot(loaded, "cotonou", datetime(2026, 12, 11, tzinfo=UTC))
    assert later is not None and later is not snap
    assert later.next_event(*cache.COUNCIL_SESSIONS) is None
    # A time before the window does not get the later classification either.
    earlier = cache.snapshot(loaded, "cotonou", NOW)
    assert earlier is not None and earlier.next_event(*cache.COUNCIL_SESSIONS) is not None


def test_unreachable_redis_serves_content(loaded: Session, tmp_path) -> None:
    down = redis.Redis(unix_socket_path=str(tmp_path / "none.sock"), socket_connect_timeout=0.2)
    snap = cache.snapshot(loaded, "cotonou", NOW, redis=down)
    assert snap is not None and snap.name == "Cotonou"
    with QueryCounter(loaded) as counter:
        assert cache.snapshot(loaded, "cotonou", NOW, redis=down) is snap
    assert counter.count == 0


def test_concurrent_threads_build_once(
    app, loaded: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds = []
    real = cache.build_snapshot

    def counting(session: Session, slug: str, now: datetime | None = None):
        builds.append(slug)
        return real(session, slug, now)

    monkeypatch.setattr(cache, "build_snapshot", counting)
    client = get_redis(app)
    engine = loaded.get_bind()
    results: list[object] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def hop() -> None:
        try:
            with Session(engine) as own:
                start.wait()
                results.append(cache.snapshot(own, "cotonou", NOW, redis=client))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hop) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert builds == ["cotonou"]
    assert len(results) == 8 and all(result is results[0] for result in results)


def test_snapshot_values_are_frozen(loaded: Session) -> None:
    snap = cache.build_snapshot(loaded, "cotonou", NOW)
    assert snap is not None
    with pytest.raises(AttributeError):
        snap.name = "Ailleurs"  # type: ignore[misc]
    assert isinstance(snap.budgets, tuple) and isinstance(snap.agenda, tuple)
    assert not any(isinstance(value, Base) for value in vars(snap).values())


def test_each_engine_has_its_own_snapshots(app, loaded: Session) -> None:
    # A database recreated at the same URL comes with a new engine: never a stale hit.
    first = cache.snapshot(loaded, "cotonou", NOW)
    other_engine = make_engine(app.config["DATABASE_URL"])
    try:
        with Session(other_engine) as other, QueryCounter(other) as counter:
            second = cache.snapshot(other, "cotonou", NOW)
        assert counter.count > 0
        assert second is not None and second is not first and second == first
    finally:
        other_engine.dispose()
