"""Periods named in German: "Q1 2027", "Juni 2026", "15.03.2027", "nächstes Quartal", "2027".

Dates go through python-dateutil with a German `parserinfo` and always an explicit
`default`, so a missing day or month never silently comes from today. A phrase naming a
year outside `YEARS` ("Dezember 9999", "Q1 0000") is refused rather than computed with.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from dateutil import parser as dateparser
from dateutil.relativedelta import relativedelta

from workflows.quarters import Quarter, YearOutOfRange, usable_year

MONTH_NAMES = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
               "September", "Oktober", "November", "Dezember")


class GermanParserInfo(dateparser.parserinfo):  # type: ignore[misc]
    """German month and weekday names for dateutil; day before month."""

    JUMP = [" ", ".", ",", ";", "-", "/", "'", "am", "im", "den", "der", "ab", "bis", "vom",
            "zum", "um", "t"]
    WEEKDAYS = [("Mo", "Montag"), ("Di", "Dienstag"), ("Mi", "Mittwoch"),
                ("Do", "Donnerstag"), ("Fr", "Freitag"), ("Sa", "Samstag"), ("So", "Sonntag")]
    MONTHS = [("Jan", "Januar", "Jänner", "Janner"), ("Feb", "Februar"),
              ("Mär", "Mar", "Mrz", "März", "Maerz", "Marz"),
              ("Apr", "April"), ("Mai",), ("Jun", "Juni"), ("Jul", "Juli"), ("Aug", "August"),
              ("Sep", "Sept", "September"), ("Okt", "Oktober"), ("Nov", "November"),
              ("Dez", "Dezember")]
    HMS = [("h", "std", "stunde", "stunden", "uhr"), ("min", "minute", "minuten"),
           ("s", "sek", "sekunde", "sekunden")]
    AMPM: list[tuple[str, ...]] = []
    PERTAIN: list[str] = []

    def __init__(self) -> None:
        super().__init__(dayfirst=True)


GERMAN = GermanParserInfo()


@dataclass(frozen=True)
class Period:
    """A stretch of days with a German name for answers."""

    start: date
    end: date
    label: str
    kind: str  # "day", "week", "month", "quarter", "year"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def day_period(d: date, label: str | None = None) -> Period:
    return Period(d, d, label or f"{d:%d.%m.%Y}", "day")


def month_period(year: int, month: int, label: str | None = None) -> Period:
    first = date(year, month, 1)
    last = first.replace(day=calendar.monthrange(year, month)[1])  # December 9999 has an end
    return Period(first, last, label or f"{MONTH_NAMES[month - 1]} {year}", "month")


def quarter_period(q: Quarter, label: str | None = None) -> Period:
    return Period(q.first_day, q.last_day, label or str(q), "quarter")


def year_period(year: int) -> Period:
    return Period(date(year, 1, 1), date(year, 12, 31), str(year), "year")


def week_period(d: date, label: str) -> Period:
    monday = d - timedelta(days=d.weekday())
    return Period(monday, monday + timedelta(days=min(6, (date.max - monday).days)), label,
                  "week")


_THIS = r"(?:dies(?:e[nmrs]?)?|aktuelle[nmrs]?|laufende[nmrs]?)"
_NEXT = r"(?:n[äa]e?chste[nmrs]?|kommende[nmrs]?)"
_LAST = r"(?:letzte[nmrs]?|vorige[nmrs]?|vergangene[nmrs]?)"
# Years are read with all their digits ("Q1 99999" is the year 99999, not "Q1" and noise),
# so that a year apbot does not work with is refused rather than misread.
_QUARTER_WORDS = re.compile(
    r"\b(\d{4,})\s*[-/ ]?\s*q([1-4])\b"  # 2027-Q1, 2027/Q1, 2027 Q1
    r"|\bq\s*([1-4])\s*[/.\-]?\s*(\d{4,})?\b"  # Q1 2027, Q1/2027, Q1
    r"|\b([1-4])\s*/\s*(\d{4,})\b"  # 1/2027
    r"|\b([1-4])\.?\s*quartal(?:\s+(\d{4,}))?\b"  # 1. Quartal 2027, 4 Quartal
)
_DAY = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.(\d{4,}|\d{2})?(?!\d)")
# Every month name dateutil knows (longest first, so "märz" wins over "mär").
_MONTH_NAMES = sorted((name.lower() for names in GermanParserInfo.MONTHS for name in names),
                      key=len, reverse=True)
_MONTH_WORD = re.compile(
    rf"\b(?:(\d{{1,2}})\.?\s+)?({'|'.join(_MONTH_NAMES)})\b\.?(?:\s+(\d{{4,}}))?"
)
_YEAR = re.compile(r"\b(20\d\d)\b")


def _month_number(name: str) -> int:
    """1 for "januar", "jan" or "jänner"."""
    return next(i for i, names in enumerate(GermanParserInfo.MONTHS, 1)
                if name in (n.lower() for n in names))


def _month_of(d: date, label: str) -> Period:
    return month_period(d.year, d.month, label)


def _relative(text: str, today: date, lean: str = "year") -> Period | None:
    q = Quarter.of(today)
    # Built only when its phrase matches: the others may not exist at the ends of the calendar.
    rules: list[tuple[str, Callable[[], Period]]] = [
        (r"\bheute\b|\bgerade\b|\baktuell\b|\bjetzt\b|\bmomentan\b|\bderzeit\b",
         lambda: day_period(today, "heute")),
        (r"\bübermorgen\b|\buebermorgen\b",
         lambda: day_period(today + timedelta(days=2), "übermorgen")),
        (r"\bmorgen\b", lambda: day_period(today + timedelta(days=1), "morgen")),
        (r"\bvorgestern\b", lambda: day_period(today - timedelta(days=2), "vorgestern")),
        (r"\bgestern\b", lambda: day_period(today - timedelta(days=1), "gestern")),
        (rf"\b{_THIS}\s+woche\b", lambda: week_period(today, "diese Woche")),
        (rf"\b{_NEXT}\s+woche\b",
         lambda: week_period(today + timedelta(days=7), "nächste Woche")),
        (rf"\b{_LAST}\s+woche\b",
         lambda: week_period(today - timedelta(days=7), "letzte Woche")),
        (rf"\b{_THIS}\s+monat\b",
         lambda: _month_of(today, "dieser Monat")),
        (rf"\b{_NEXT}\s+monat\b",
         lambda: _month_of(today + relativedelta(months=1), "nächster Monat")),
        (rf"\b{_LAST}\s+monat\b",
         lambda: _month_of(today - relativedelta(months=1), "letzter Monat")),
        (rf"\b{_THIS}\s+quartal\b", lambda: quarter_period(q, f"dieses Quartal ({q})")),
        (rf"\b{_NEXT}\s+quartal\b",
         lambda: quarter_period(q + 1, f"nächstes Quartal ({q + 1})")),
        (rf"\b{_LAST}\s+quartal\b",
         lambda: quarter_period(q - 1, f"letztes Quartal ({q - 1})")),
        (rf"\b{_THIS}\s+jahr\b", lambda: year_period(today.year)),
        (rf"\b{_NEXT}\s+jahr\b", lambda: year_period(today.year + 1)),
        (rf"\b{_LAST}\s+jahr\b", lambda: year_period(today.year - 1)),
    ]
    for pattern, period in rules:
        if re.search(pattern, text):
            return period()
    for number, (_short, name) in enumerate(GermanParserInfo.WEEKDAYS):
        if m := re.search(rf"\b{name.lower()}\b", text):
            ahead = (number - today.weekday()) % 7
            said = _said_direction(text[:m.start()])
            if said == "back" or (said is None and lean == "back"):
                # "letzten Montag" is before today; plain "Montag" in a look-back may be today
                back = (today.weekday() - number) % 7 or (7 if said else 0)
                return day_period(today - timedelta(days=back), name)
            if said == "ahead" and ahead == 0:
                ahead = 7  # "nächsten Montag", said on a Monday
            return day_period(today + timedelta(days=ahead), name)
    return None


_SAID_LAST = re.compile(rf"\b{_LAST}\s+(?:(?:am|im)\s+)?$")
_SAID_NEXT = re.compile(rf"\b{_NEXT}\s+(?:(?:am|im)\s+)?$")


def _said_direction(before: str) -> str | None:
    """ "back" for "letzten …", "ahead" for "nächsten …" right before a month or weekday."""
    if _SAID_LAST.search(before):
        return "back"
    if _SAID_NEXT.search(before):
        return "ahead"
    return None


def _leaning_year(month: int, day: int | None, said: str | None, lean: str,
                  today: date) -> int:
    """The year of a month (or day) written without one.

    "letzten Januar" is the last January before this month, "nächsten Januar" the next
    one after it; otherwise `lean` decides: "ahead" (questions about what comes: "im
    Januar", asked in December, is next January), "back" (look-backs) or "year" (this
    year, as /bericht and /quartal read it).
    """
    here = (today.month, today.day if day is not None else 0)
    there = (month, day if day is not None else 0)
    if said == "back":
        return today.year if there < here else today.year - 1
    if said == "ahead":
        return today.year if there > here else today.year + 1
    if lean == "ahead":
        return today.year if there >= here else today.year + 1
    if lean == "back":
        return today.year if there <= here else today.year - 1
    return today.year


def _year(raw: str | None, today: date) -> int:
    """The year written (two digits mean 20xx), or this year; YearOutOfRange outside YEARS."""
    if raw is None:
        return today.year
    year = int(raw)
    return usable_year(year + 2000 if len(raw) == 2 else year)


def parse_period(text: str, today: date) -> Period | None:
    """The period a German phrase names, or None; relative phrases count from `today`.

    A phrase naming a year outside YEARS gives None too; `read_period` tells it apart.
    """
    try:
        return read_period(text, today)
    except YearOutOfRange:
        return None


def read_period(text: str, today: date, lean: str = "year") -> Period | None:
    """As `parse_period`, but raise YearOutOfRange for a year outside YEARS ("Dezember 9999").

    `lean` says which year a month, date or weekday without a year means: "year" (this
    year), "ahead" (the next one: questions about what comes) or "back" (the last one:
    look-backs). "letzten Januar" and "nächsten Januar" say it themselves.
    """
    lowered = " ".join(text.lower().split())
    if m := _QUARTER_WORDS.search(lowered):
        g = m.groups()
        year, number = ((g[0], g[1]) if g[0] else (g[3], g[2]) if g[2] else
                        (g[5], g[4]) if g[4] else (g[7], g[6]))
        return quarter_period(Quarter(_year(year, today), int(number)))
    if m := _DAY.search(lowered):
        year = _year(m.group(3), today) if m.group(3) else usable_year(_leaning_year(
            int(m.group(2)), int(m.group(1)), None, lean, today))
        try:
            parsed = dateparser.parse(f"{m.group(1)}.{m.group(2)}.{year}", parserinfo=GERMAN,
                                      default=datetime(year, 1, 1, tzinfo=UTC))
        except (ValueError, OverflowError):
            return None
        return day_period(parsed.date())
    if m := _MONTH_WORD.search(lowered):
        year = _year(m.group(3), today) if m.group(3) else usable_year(_leaning_year(
            _month_number(m.group(2)), int(m.group(1)) if m.group(1) else None,
            _said_direction(lowered[:m.start()]), lean, today))
        try:
            parsed = dateparser.parse(m.group(0), parserinfo=GERMAN,
                                      default=datetime(year, 1, 1, tzinfo=UTC))
        except (ValueError, OverflowError):
            return None
        if m.group(1):
            return day_period(parsed.date())
        return month_period(parsed.year, parsed.month)
    try:
        if period := _relative(lowered, today, lean):
            return period
    except (ValueError, OverflowError):  # "nächster Monat" in December 9999
        return None
    if m := _YEAR.search(lowered):
        return year_period(int(m.group(1)))
    return None


def parse_quarter_arg(text: str, today: date) -> Quarter | None:
    """A /quartal argument: "Q1 2027", "1/2027", "2027-Q1", "nächstes", "letztes", or empty.

    None when it is no quarter; YearOutOfRange when it is one of a year outside YEARS.
    """
    cleaned = " ".join(text.lower().split())
    if not cleaned or re.fullmatch(_THIS + r"(?:\s+quartal)?", cleaned):
        return Quarter.of(today)
    if re.fullmatch(_NEXT + r"(?:\s+quartal)?", cleaned):
        return Quarter.of(today) + 1
    if re.fullmatch(_LAST + r"(?:\s+quartal)?", cleaned):
        return Quarter.of(today) - 1
    try:
        return Quarter.parse(cleaned)
    except YearOutOfRange:
        raise
    except ValueError:
        pass
    period = read_period(cleaned, today)
    return Quarter.of(period.start) if period and period.kind == "quarter" else None
