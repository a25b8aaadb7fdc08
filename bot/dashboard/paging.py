"""Long lists shown a page at a time, and the page number read from a query string."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows, its number (from 1) and how many rows in all."""

    items: Sequence[T]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None


def page_number(raw: str | None) -> int:
    """The page asked for in a query string; 1 for anything that is not a positive number."""
    text = (raw or "").strip()
    # isascii: "²" is a digit to str.isdigit() but not to int().
    if not (text.isascii() and text.isdigit() and len(text) < 7):
        return 1
    return max(1, int(text))
