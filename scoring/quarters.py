"""Calendar quarters for quarterly business reviews: ``2026Q3`` in, its first and last day out.

A QBR looks at a partner at the end of a quarter and compares it with the end of the quarter before,
so every report and the command line read quarters through this one parser and take their dates from
here (calendar quarters: Q1 ends 31 March).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

__all__ = ["Quarter", "quarter_of"]

_PATTERN = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]\s*([1-4])\s*$|^\s*[Qq]\s*([1-4])\s*[-/ ]?\s*(\d{4})\s*$")


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter; ``str(q)`` is ``2026Q3``."""

    year: int
    number: int  # 1-4

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number {self.number} is not 1-4")

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        """``2026Q3``, ``2026-Q3``, ``Q3 2026`` (any case); anything else is a ``ValueError`` that says how."""
        found = _PATTERN.match(str(text))
        if found is None:
            raise ValueError(f"quarter: {text!r} is not a quarter (use YYYYQn, e.g. 2026Q3)")
        year, number = (found[1], found[2]) if found[1] else (found[4], found[3])
        return cls(int(year), int(number))

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """``Q3 2026``, as a heading says it."""
        return f"Q{self.number} {self.year}"

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        following = self.next()
        return following.start - dt.timedelta(days=1)

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)


def quarter_of(day: dt.date) -> Quarter:
    """The quarter ``day`` falls in."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)
