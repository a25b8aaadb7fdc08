"""What a budget chart shows, read from a commune snapshot: no drawing here.

Expenditure only (what the commune spends is what citizens ask about): voted
against executed for the two sections, then for the largest sectors. A
figure not published yet is None, never 0: the chart says "not published"
rather than draw an empty bar that would read as nothing spent.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.content.cache import BudgetTotals, CommuneSnapshot, SectorAmount
from bot.models.enums import BudgetPhase, BudgetSection

TOP_SECTORS = 5


@dataclass(frozen=True)
class Pair:
    """One label with its voted and executed amounts (XOF)."""

    label: str  # a BudgetSection value for sections, the content's name for sectors
    voted: int | None
    executed: int | None


@dataclass(frozen=True)
class BudgetChart:
    commune: str
    year: int
    sections: tuple[Pair, ...]  # fonctionnement, then investissement
    sectors: tuple[Pair, ...]  # the largest first, at most TOP_SECTORS
    sample: bool


def budget_chart(snap: CommuneSnapshot, year: int) -> BudgetChart | None:
    """The chart of `year`; None when neither a voted nor an executed budget exists."""
    voted = snap.budget(year, BudgetPhase.VOTED)
    executed = snap.budget(year, BudgetPhase.EXECUTED)
    if voted is None and executed is None:
        return None
    sections = tuple(
        Pair(section.value, _section(voted, section), _section(executed, section))
        for section in (BudgetSection.FONCTIONNEMENT, BudgetSection.INVESTISSEMENT)
    )
    # Ranked by what was voted, the promise citizens hold the mairie to; by what
    # was spent only when no vote is published.
    ranking = voted.depense_sectors if voted is not None else executed.depense_sectors
    voted_by = _by_sector(voted)
    executed_by = _by_sector(executed)
    sectors = tuple(
        Pair(
            item.sector,
            voted_by.get(item.sector, 0) if voted else None,
            executed_by.get(item.sector, 0) if executed else None,
        )
        for item in ranking[:TOP_SECTORS]
    )
    return BudgetChart(
        commune=snap.name,
        year=year,
        sections=sections,
        sectors=sectors,
        sample=any(totals.is_sample for totals in (voted, executed) if totals is not None),
    )


def _section(totals: BudgetTotals | None, section: BudgetSection) -> int | None:
    if totals is None:
        return None
    if section is BudgetSection.FONCTIONNEMENT:
        return totals.depenses_fonctionnement
    return totals.depenses_investissement


def _by_sector(totals: BudgetTotals | None) -> dict[str, int]:
    items: tuple[SectorAmount, ...] = totals.depense_sectors if totals else ()
    return {item.sector: item.amount_xof for item in items}
