"""Calendar quarters: parsing "Q4 2026", first and last day, arithmetic."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import MAXYEAR, MINYEAR, date

# "Q4 2026", "Q4/2026", "4/2026", "4. Quartal 2026", "2026-Q4", "2026 Q4"
_QUARTER_FORMS = (
    re.compile(r"^q\s*([1-4])\s*[/.\-]?\s*(\d{4})$"),
    re.compile(r"^([1-4])\s*/\s*(\d{4})$"),
    re.compile(r"^([1-4])\s*\.?\s*quartal\s+(\d{4})$"),
)
_YEAR_FIRST = re.compile(r"^(\d{4})\s*[-/ ]?\s*q\s*([1-4])$")

# The years apbot plans and answers for. A plan or a question outside them is refused with a
# clear message: far-off years only meet date arithmetic that overflows (date(10000, 1, 1)).
YEARS = range(2000, 2101)


class YearOutOfRange(ValueError):
    """A year apbot does not work with: outside YEARS, or beyond what a date can hold."""

    def __init__(self, year: int) -> None:
        super().__init__(f"the year {year} is outside {YEARS[0]}–{YEARS[-1]}")
        self.year = year


def usable_year(year: int) -> int:
    """`year` itself when it lies in YEARS; raise YearOutOfRange otherwise."""
    if year not in YEARS:
        raise YearOutOfRange(year)
    return year


@dataclass(frozen=True, order=True)
class Quarter:
    """A calendar quarter; orders chronologically."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 4:
            raise ValueError(f"quarter number must be 1..4, not {self.number}")
        if not MINYEAR <= self.year <= MAXYEAR:
            raise YearOutOfRange(self.year)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """Read "Q4 2026" and its common variants; raise ValueError otherwise.

        A quarter of a year outside YEARS raises YearOutOfRange (a ValueError).
        """
        cleaned = " ".join(text.strip().lower().split())
        for form in _QUARTER_FORMS:
            if m := form.match(cleaned):
                return cls(usable_year(int(m.group(2))), int(m.group(1)))
        if m := _YEAR_FIRST.match(cleaned):
            return cls(usable_year(int(m.group(1))), int(m.group(2)))
        raise ValueError(f"not a quarter: {text!r} (expected e.g. 'Q4 2026')")

    @classmethod
    def of(cls, day: date) -> Quarter:
        """The quarter a day falls in."""
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> date:
        # Not "next quarter's first day minus one": Q4 9999 has no next quarter.
        month = 3 * self.number
        return date(self.year, month, calendar.monthrange(self.year, month)[1])

    def __add__(self, quarters: int) -> Quarter:
        index = self.year * 4 + (self.number - 1) + quarters
        return Quarter(index // 4, index % 4 + 1)

    def __sub__(self, quarters: int) -> Quarter:
        return self + (-quarters)

    def index_from(self, start: Quarter) -> int:
        """Quarters from `start` to this one (0 when equal, negative when before)."""
        return (self.year - start.year) * 4 + (self.number - start.number)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def __str__(self) -> str:
        return f"Q{self.number} {self.year}"


def quarters_between(start: Quarter, end: Quarter) -> list[Quarter]:
    """All quarters from start to end, both included."""
    return [start + i for i in range(end.index_from(start) + 1)]


def span_position(start: Quarter, end: Quarter, day: date) -> tuple[int, int] | None:
    """(n, m) when `day` lies in quarter n of the m quarters of a span, else None."""
    total = end.index_from(start) + 1
    n = Quarter.of(day).index_from(start) + 1
    return (n, total) if 1 <= n <= total else None
