"""CSV cells that spreadsheet programs would run as formulas."""

from __future__ import annotations

import pytest

from bot.spreadsheet import guard, unguard


@pytest.mark.parametrize("cell", ["=1+1", "+33", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_a_formula_start_is_guarded_and_unguarded(cell: str) -> None:
    assert guard(cell) == "'" + cell
    assert unguard(guard(cell)) == cell


@pytest.mark.parametrize("cell", ["", "Budget", "12", "'apostrophe", "l'eau"])
def test_other_cells_pass_unchanged(cell: str) -> None:
    assert guard(cell) == cell
    assert unguard(cell) == cell
