"""CSV cells a spreadsheet program would run as a formula (CSV injection).

Excel and LibreOffice evaluate a cell starting with `=`, `+`, `-` or `@` (tab
and carriage return too), so a citizen's or a clerk's text like
`=HYPERLINK(...)` could act on the machine of whoever opens an export. Exports
write such a cell with a leading apostrophe, which the programs show as text;
imports take that apostrophe off again, so export -> import is a round trip.
"""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"


def guard(cell: str) -> str:
    return GUARD + cell if cell.startswith(FORMULA_START) else cell


def unguard(cell: str) -> str:
    return cell[1:] if cell.startswith(GUARD) and cell[1:].startswith(FORMULA_START) else cell
