"""German words for plan changes: due dates, AP spans and meetings, as admins type them.

Pure: no I/O and no clock; `today` is passed in. Every reading either returns an exact
value or raises `WordsError` with one German sentence for the chat, naming what is wrong.

Quarters go through `Quarter.parse`, month names through the German dateutil
`parserinfo` of `workflows.periods`, years through `usable_year` (YEARS). Day, month and
year are always written out: nothing is taken from `today` silently (dateutil would).

Meetings are read from plain German into an RFC 5545 rule (the plan's `rrule` + naive
local `dtstart`); python-dateutil's `rrulestr` checks every rule before it is returned.
Only daily, weekly, monthly and quarterly rules at one time of day can be written, so a
rule more frequent than daily cannot come out of here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrulestr

from workflows.periods import GERMAN, GermanParserInfo
from workflows.quarters import YEARS, Quarter, YearOutOfRange, usable_year

__all__ = ["MeetingSpec", "WordsError", "parse_day", "parse_meeting", "parse_span"]


class WordsError(ValueError):
    """Words that name no date, span or meeting; `message` is one German sentence."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class MeetingSpec:
    """A meeting read from German words, in the plan's form (rrule + naive local dtstart)."""

    title: str
    dtstart: datetime  # naive local time; always the first occurrence of `rrule`
    rrule: str  # the RRULE body without "RRULE:", e.g. "FREQ=WEEKLY;BYDAY=TU"
    place: str | None
    one_off: bool
    words: str  # the rule in German for previews: "jeden Dienstag, 10:00 Uhr"
    duration: timedelta | None = None  # set when a time span was given: "14–16 Uhr"


# -- names -------------------------------------------------------------------------------

WEEKDAY_NAMES = tuple(name for _short, name in GermanParserInfo.WEEKDAYS)  # Montag … Sonntag
WEEKDAY_SHORT = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
_RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

DAY_EXAMPLE = "zum Beispiel 15.05.2026 oder Q2 2026"
SPAN_EXAMPLE = "zum Beispiel „Q2 2025 bis Q4 2026“ oder „01.03.2025 bis 30.06.2027“"
RULE_EXAMPLE = ("So geht es zum Beispiel: „Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00“ "
                "oder „Jour fixe jeden Dienstag 10:00“.")
MEETING_EXAMPLES = ("„Bildungskonferenz am 18.03.2027 14:00“, „Jour fixe jeden Dienstag 10:00“ "
                    "oder „AG Übergang monatlich am 1. Montag 10:00“")

# Every month spelling the German parserinfo knows, longest first ("märz" before "mär").
_MONTHS = "|".join(sorted((n.lower() for names in GermanParserInfo.MONTHS for n in names),
                          key=len, reverse=True))
_WD = (r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)s?"
       r"|(?:mo|di|mi|do|fr|sa|so)\b\.?")
_WDS = rf"(?:{_WD})(?:\s*(?:,|\bund\b|\bu\.|&|\bsowie\b)\s*(?:{_WD}))*"
_ORD = (r"\d{1,2}\.|erste[nmrs]?|zweite[nmrs]?|dritte[nmrs]?|vierte[nmrs]?"
        r"|f(?:ü|ue)nfte[nmrs]?|vorletzte[nmrs]?|letzte[nmrs]?")
_ORDS = rf"(?:{_ORD})(?:\s*(?:,|\bund\b|\bu\.|&)\s*(?:{_ORD}))*"
_ORDINAL_WORDS = {"erste": 1, "zweite": 2, "dritte": 3, "vierte": 4, "fünfte": 5,
                  "fuenfte": 5, "letzte": -1, "vorletzte": -2}
_NUMBER_WORDS = {"zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "fuenf": 5, "sechs": 6,
                 "zweite": 2, "dritte": 3, "vierte": 4, "fünfte": 5, "fuenfte": 5}

# -- days, months, quarters ----------------------------------------------------------------

_NUMERIC = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{2,})")
_YEARLESS = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.?")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NAMED = re.compile(rf"(\d{{1,2}})\.?\s*({_MONTHS})\.?\s+(\d{{2,}})")
_NAMED_YEARLESS = re.compile(rf"(\d{{1,2}})\.?\s*({_MONTHS})\.?")
_MONTH = re.compile(rf"({_MONTHS})\.?\s+(\d{{2,}})")
_QUARTER_SHORT_YEAR = re.compile(r"q\s*([1-4])\s*[/.\-]?\s*(\d{2})")
_ROMAN = re.compile(r"(iv|i{1,3})\s*(?:\.\s*quartal\s*|\s*/\s*|\s+)(\d+)")
_LEAD_WORDS = re.compile(
    r"^(?:(?:am|bis|zum|den|spätestens|spaetestens|fällig|faellig|termin:?)\s+)+")
_ENDE = re.compile(r"^ende\s+")

# Text that may be a day, month or quarter inside a longer phrase ("ab 12.01.2027").
_WHEN_TEXT = (rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}\.\s?\d{{1,2}}\.\s?\d+"
              rf"|\d{{1,2}}\.?\s*(?:{_MONTHS})\.?\s+\d+|(?:ende\s+)?(?:{_MONTHS})\.?\s+\d{{4}}"
              rf"|(?:ende\s+)?q\s*[1-4]\s*[/.\-]?\s*\d{{2,4}}|[1-4]\.\s*quartal\s+\d{{4}}")


def _fold(text: str) -> str:
    """Lower case, character for character, so positions match the original text."""
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _year(raw: str) -> int:
    """A written year: two digits mean 20xx; a year outside YEARS raises WordsError."""
    year = 2000 + int(raw) if len(raw) == 2 else int(raw)
    try:
        return usable_year(year)
    except YearOutOfRange:
        raise WordsError(_year_problem(year)) from None


def _year_problem(year: int) -> str:
    return f"Das Jahr {year} liegt außerhalb der Jahre {YEARS[0]} bis {YEARS[-1]}."


def _day(day: int, month: int, year: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise WordsError(f"Den {day:02d}.{month:02d}.{year} gibt es nicht.") from None


def _exact_day(text: str, today: date) -> date | None:
    """A day written out in full ("15.5.26", "15. Mai 2026", "2026-05-15"), or None.

    A day without its year raises WordsError: the year is never guessed, only suggested.
    """
    if m := _NUMERIC.fullmatch(text):
        return _day(int(m.group(1)), int(m.group(2)), _year(m.group(3)))
    if m := _ISO.fullmatch(text):
        return _day(int(m.group(3)), int(m.group(2)), _year(m.group(1)))
    if m := _NAMED.fullmatch(text):
        return _day(int(m.group(1)), GERMAN.month(m.group(2)), _year(m.group(3)))
    if (m := _YEARLESS.fullmatch(text)) or (m := _NAMED_YEARLESS.fullmatch(text)):
        day, raw_month = int(m.group(1)), m.group(2)
        month = int(raw_month) if raw_month.isdigit() else GERMAN.month(raw_month)
        raise WordsError(f"Bitte das Jahr dazuschreiben, zum Beispiel "
                         f"{day:02d}.{month:02d}.{_next_year(day, month, today)}.")
    return None


def _next_year(day: int, month: int, today: date) -> int:
    """The year in which day.month next comes on or after `today` (for an example)."""
    for year in (today.year, today.year + 1):
        try:
            if date(year, month, day) >= today:
                return year
        except ValueError:
            continue
    return today.year + 1


def _quarter(text: str) -> Quarter | None:
    """A quarter ("Q2 2026", "2/2026", "2. Quartal 2026", "II/2026", "Q2/26"), or None."""
    if m := _QUARTER_SHORT_YEAR.fullmatch(text):
        return Quarter(_year(m.group(2)), int(m.group(1)))
    if m := _ROMAN.fullmatch(text):
        text = f"{('i', 'ii', 'iii', 'iv').index(m.group(1)) + 1}/{m.group(2)}"
    try:
        return Quarter.parse(text)
    except YearOutOfRange as err:
        raise WordsError(_year_problem(err.year)) from None
    except ValueError:
        return None


def _read_when(text: str, today: date) -> tuple[date, date] | None:
    """(first, last) day of the day, month or quarter `text` names, or None.

    `text` is folded and tidied. "Ende Juni 2026" and "Ende Q2 2026" name the last day.
    """
    ende = _ENDE.match(text)
    rest = text[ende.end():] if ende else text
    if (q := _quarter(rest)) is not None:
        return (q.last_day if ende else q.first_day), q.last_day
    if m := _MONTH.fullmatch(rest):
        year, month = _year(m.group(2)), GERMAN.month(m.group(1))
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return (last if ende else first), last
    if ende:
        return None
    day = _exact_day(rest, today)
    return (day, day) if day else None


def parse_day(text: str, today: date) -> date:
    """The due date German words name: a day, or the last day of a month or quarter.

    "15.05.2026", "15.5.26", "15. Mai 2026", "2026-05-15", "Q2 2026", "2/2026",
    "2. Quartal 2026", "II/2026", "Q2/26", "Juni 2026" and "Ende Juni 2026" (30.06.2026);
    leading "am", "bis", "zum" are allowed. A day without its year is refused, never
    completed from `today` (which only suggests the year in the message).
    """
    cleaned = _LEAD_WORDS.sub("", _tidy(_fold(text)))
    if not cleaned:
        raise WordsError(f"Bitte ein Datum angeben – {DAY_EXAMPLE}.")
    when = _read_when(cleaned, today)
    if when is None:
        raise WordsError(f"„{_tidy(text)}“ verstehe ich nicht als Datum – {DAY_EXAMPLE}.")
    return when[1]


# -- spans -------------------------------------------------------------------------------

_SPAN_LEAD = re.compile(r"^(?:von|vom|ab)\s+", re.IGNORECASE)
# "bis", a dash with spaces, an en dash, or a hyphen between a year and the next date or
# quarter ("01.03.2025-30.06.2027"), never inside an ISO date ("2025-03-01").
_SPAN_SPLIT = re.compile(r"\s+bis\s+(?:zum\s+|einschließlich\s+|einschliesslich\s+)?"
                         r"|\s*[–—]\s*|\s+-\s+"
                         r"|(?<=\d{4})-(?=\d{1,2}\.|q\s*[1-4]\s*[/ .\-]?\s*\d{4})",
                         re.IGNORECASE)
_BARE_QUARTER = re.compile(r"q\s*([1-4])|([1-4])\.\s*quartal")


def parse_span(text: str, today: date) -> tuple[Quarter, Quarter]:
    """An AP's span: "Q2 2025 bis Q4 2026", "01.03.2025 bis 30.06.2027" (their quarters).

    Also "von Q1 2025 bis Q2 2027", "Q2/2025 – Q4/2026", "März 2025 bis Juni 2027" and
    "Q2 bis Q4 2026" (the start takes the end's year). One quarter alone is not a span.
    """
    cleaned = _SPAN_LEAD.sub("", _tidy(text))
    parts = [p.strip() for p in _SPAN_SPLIT.split(cleaned)]
    if len(parts) != 2 or not all(parts):
        raise WordsError(f"„{_tidy(text)}“ verstehe ich nicht als Zeitraum – {SPAN_EXAMPLE}.")
    start_text, end_text = parts
    end = Quarter.of(_span_side(end_text, today))
    if m := _BARE_QUARTER.fullmatch(_fold(start_text)):
        start = Quarter(end.year, int(m.group(1) or m.group(2)))
    else:
        start = Quarter.of(_span_side(start_text, today, first=True))
    if end < start:
        raise WordsError(f"Das Ende ({end}) liegt vor dem Anfang ({start}).")
    return start, end


def _span_side(side: str, today: date, first: bool = False) -> date:
    """The first (or last) day a side of a span names."""
    when = _read_when(_fold(side), today)
    if when is None:
        which = "den Anfang" if first else "das Ende"
        raise WordsError(f"„{side}“ verstehe ich nicht als {which} eines Zeitraums – "
                         f"{SPAN_EXAMPLE}.")
    return when[0] if first else when[1]


# -- meetings ----------------------------------------------------------------------------

_H = r"(\d{1,2})"
_M = r"(?:[:.](\d{2}))?"
_TIME_SPAN = re.compile(
    rf"(?<![\w.:])(?:von\s+|um\s+)?{_H}{_M}(?:\s*uhr)?\s*(?:-|–|bis)\s*{_H}{_M}\s*uhr\b"
    rf"|(?<![\w.:])(?:von\s+|um\s+)?{_H}:(\d{{2}})\s*(?:-|–|bis)\s*{_H}:(\d{{2}})(?:\s*uhr\b)?")
_TIME = re.compile(
    rf"(?<![\w.:])(?:um\s+)?{_H}{_M}\s*uhr\b"
    rf"|(?<![\w.:])(?:um\s+)?{_H}:(\d{{2}})(?![\d:])"
    rf"|\bum\s+{_H}(?:\.(\d{{2}}))?(?![\d.:])")
_FROM = re.compile(rf"\b(?:ab|vom|von|beginnend\s+(?:am|ab))\s+(?:dem\s+|den\s+)?({_WHEN_TEXT})"
                   rf"(?![\d.])")
_UNTIL = re.compile(rf"\b(?:bis|endet\s+am)\s+(?:zum\s+|einschließlich\s+|einschliesslich\s+)?"
                    rf"(?:dem\s+|den\s+)?({_WHEN_TEXT})(?![\d.])")

_SUB_DAILY = re.compile(r"st(?:ü|ue)ndlich|\b(?:stunden|minuten|mehrmals)\b"
                        r"|\b(?:\d+\s*(?:x|mal)|zweimal|dreimal)\s+(?:am\s+tag|t(?:ä|ae)glich)\b")

# Where a rule may begin: everything before the first one that reads is the title.
_RULE_START = re.compile(
    r"\b(?:einmalig|am|jeden|jede[nrs]?|immer|alle|monatlich|w(?:ö|oe)chentlich"
    r"|t(?:ä|ae)glich|werktags|werkt(?:ä|ae)glich|viertelj(?:ä|ae)hrlich|quartalsweise"
    r"|zweiw(?:ö|oe)chentlich|(?:14|vierzehn)[-\s]?t(?:ä|ae)gi(?:g|ch)|letzte[nrs]?"
    r"|vorletzte[nrs]?|erste[nrs]?|(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag"
    r"|sonntag)s)\b"
    r"|(?<![\w.])\d{1,2}\.|\bmo\.?\s*(?:-|–|bis)\s*fr\b")

# A place after the rule: "…, Ratssaal", "… im Rathaus", "… in der Aula", "… Ort: Raum 3".
_PLACE = (r"(?:\s*[,;]\s*(?:ort:?\s*)?|\s+(?:im|in\s+der|in\s+den|in|ort:?)\s+)"
          r"(?!(?:monats?|quartals?|jahr)\b)(?P<place>\S.*)")
_PLACE_WORD = re.compile(r"^(?:im|in\s+der|in\s+den|in|ort:?)\s+", re.IGNORECASE)

_ONE_OFF = rf"(?:einmalig\s+)?(?:am\s+)?(?:(?P<wd>{_WD})\s*,?\s*(?:den\s+)?)?(?P<day>{_WHEN_TEXT}" \
           rf"|\d{{1,2}}\.\s?\d{{1,2}}\.|\d{{1,2}}\.?\s*(?:{_MONTHS})\.?)"
_EVERY = r"(?:(?:jede[nrs]?|immer|w(?:ö|oe)chentlich|jede\s+woche)\s+)+"
_PLURAL_WD = r"(?:montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonntag)s"
_IN_MONTH = r"\s+(?:im|jedes|des|eines|pro)\s+monats?"
_IN_QUARTER = r"\s+(?:im|jedes|des|eines|pro)\s+quartals?"
_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rf"(?:{pattern})(?:{_PLACE})?")) for name, pattern in (
        ("daily", r"(?:jeden\s+tag|t(?:ä|ae)glich)"),
        ("workdays", r"(?:immer\s+)?(?:werktags|werkt(?:ä|ae)glich|jeden\s+werktag"
                     r"|(?:jeden\s+)?montags?\s+bis\s+freitags?|mo\.?\s*(?:-|–|bis)\s*fr\.?)"),
        # "jeden Dienstag", "dienstags"; a bare "Dienstag" or "am Dienstag" is no series.
        ("weekly", rf"{_EVERY}(?:am\s+)?(?P<wds>{_WDS})"
                   rf"|(?:immer\s+)?(?P<plural>{_PLURAL_WD}(?:\s*(?:,|\bund\b|&)\s*{_WD})*)"),
        ("weeks", r"(?:alle\s+(?P<n>\d{1,2}|zwei|drei|vier|fünf|fuenf|sechs)\s+wochen"
                  r"|jede\s+(?P<nth>\d\.|zweite|dritte|vierte)\s+woche"
                  r"|(?:14|vierzehn)[-\s]?t(?:ä|ae)gi(?:g|ch)|zweiw(?:ö|oe)chentlich)"
                  rf"\s+(?:immer\s+)?(?:jeweils\s+)?(?:am\s+)?(?P<wds>{_WDS})"),
        ("monthly", rf"(?:monatlich|jeden\s+monat)\s+(?:jeweils\s+)?(?:am\s+)?(?:jeden\s+)?"
                    rf"(?P<ords>{_ORDS})\s+(?P<wd>{_WD})"
                    rf"|(?:(?:jede[nrs]?|immer|am)\s+)*(?P<ords2>{_ORDS})\s+(?P<wd2>{_WD})"
                    rf"{_IN_MONTH}"),
        ("monthday", rf"(?:monatlich|jeden\s+monat)\s+(?:jeweils\s+)?am\s+(?:(?P<d>\d{{1,2}})\."
                     rf"|(?P<last>letzten)\s+tag)"
                     rf"|(?:(?:jeden|immer|am)\s+)*(?:(?P<d2>\d{{1,2}})\.|(?P<last2>letzten)"
                     rf"\s+tag){_IN_MONTH}"),
        ("quarterly", rf"(?:viertelj(?:ä|ae)hrlich|quartalsweise|jedes\s+quartal)\s+"
                      rf"(?:jeweils\s+)?(?:am\s+)?(?:jeden\s+)?(?P<ords>{_ORDS})\s+(?P<wd>{_WD})"
                      rf"|(?:(?:jede[nrs]?|immer|am)\s+)*(?P<ords2>{_ORDS})\s+"
                      rf"(?P<wd2>{_WD}){_IN_QUARTER}"),
        # "jeden 2. Mittwoch": every other Wednesday, or the 2nd of each month? Ask.
        ("ambiguous", rf"(?:(?:jede[nrs]?|immer)\s+)+(?P<ords>{_ORD})\s+(?P<wd>{_WD})"),
        ("one-off", _ONE_OFF),
        ("weekday", rf"am\s+(?P<wd>{_WD})"),
        ("no-day", r"(?P<weeks>alle\s+\S+\s+wochen|w(?:ö|oe)chentlich|jede\s+woche"
                   r"|(?:14|vierzehn)[-\s]?t(?:ä|ae)gi(?:g|ch)|zweiw(?:ö|oe)chentlich)"
                   r"|(?P<months>monatlich|jeden\s+monat)"
                   r"|viertelj(?:ä|ae)hrlich|quartalsweise|jedes\s+quartal"),
    )
)


@dataclass(frozen=True)
class _Rule:
    """A recognised rule before its time and first day are known."""

    body: str  # RRULE body without UNTIL, e.g. "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE"
    words: str  # "jeden 2. Mittwoch im Quartal"
    anchor: str = "day"  # where the search for the first occurrence starts, see _first
    day: date | None = None  # a one-off's day
    place: str | None = None


def _weekday(token: str) -> int:
    name = token.rstrip(".")
    if len(name) > 2:
        name = name.removesuffix("s")
    return int(GERMAN.weekday(name))


def _weekdays(text: str) -> list[int]:
    return sorted({_weekday(t) for t in re.findall(_WD, text)})


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} und {words[-1]}"


def _ordinals(text: str) -> list[int]:
    found = []
    for token in re.findall(_ORD, text):
        if token.endswith("."):
            n = int(token[:-1])
        else:
            stem = token[:-1] if token[-1] in "nmrs" else token
            n = _ORDINAL_WORDS[stem]
        found.append(n)
    return sorted(set(found), key=lambda n: (n < 0, n))  # 1., 3., vorletzten, letzten


def _ordinal_word(n: int) -> str:
    return f"{n}." if n > 0 else {-1: "letzten", -2: "vorletzten"}[n]


def _rule(name: str, m: re.Match[str], original: str, today: date) -> _Rule:
    """The rule a grammar matched; WordsError for a recognised form with a value out of range."""
    place = None
    if m.group("place") is not None:
        place = _PLACE_WORD.sub("", original[m.start("place"):].strip(" ,;")) or None
    if name == "daily":
        return _Rule("FREQ=DAILY", "täglich", place=place)
    if name == "workdays":
        return _Rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "werktags (Montag bis Freitag)",
                     place=place)
    if name in ("weekly", "weeks"):
        days = _weekdays(m.group("wds") or m.group("plural"))
        byday = ",".join(_RRULE_DAYS[d] for d in days)
        names = _and([WEEKDAY_NAMES[d] for d in days])
        if name == "weekly":
            return _Rule(f"FREQ=WEEKLY;BYDAY={byday}", f"jeden {names}", place=place)
        raw = m.group("n") or (m.group("nth") or "").rstrip(".")
        n = (int(raw) if raw.isdigit() else _NUMBER_WORDS[raw]) if raw else 2
        if not 1 <= n <= 52:
            raise WordsError(f"„alle {n} Wochen“ geht nicht – bitte 1 bis 52 Wochen, zum "
                             f"Beispiel „alle 2 Wochen Donnerstag 9:30“.")
        if n == 1:
            return _Rule(f"FREQ=WEEKLY;BYDAY={byday}", f"jeden {names}", place=place)
        return _Rule(f"FREQ=WEEKLY;INTERVAL={n};BYDAY={byday}", f"alle {n} Wochen am {names}",
                     place=place)
    if name == "ambiguous":
        wd = WEEKDAY_NAMES[_weekday(m.group("wd"))]
        n = _ordinals(m.group("ords"))[0]
        said = f"jeden {_ordinal_word(n)} {wd}"
        raise WordsError(f"„{said}“ ist nicht eindeutig: bitte „{said} im Monat“ oder "
                         f"„{said} im Quartal“ schreiben, oder für jede zweite Woche "
                         f"„alle 2 Wochen {wd}“.")
    if name in ("monthly", "quarterly"):
        wd_index = _weekday(m.group("wd") or m.group("wd2"))
        wd = WEEKDAY_NAMES[wd_index]
        ords = _ordinals(m.group("ords") or m.group("ords2"))
        for n in ords:
            if n == 0 or n > 5:
                raise WordsError(f"Einen {n}. {wd} gibt es in keinem Monat.")
        byday = ",".join(f"{n}{_RRULE_DAYS[wd_index]}" for n in ords)
        words = f"jeden {_and([_ordinal_word(n) for n in ords])} {wd}"
        if name == "monthly":
            return _Rule(f"FREQ=MONTHLY;BYDAY={byday}", f"{words} im Monat", place=place)
        # The plan's form: every third month from a quarter's first month (or, for the
        # last weekdays of a quarter, from its last month), so the quarter's n-th weekday
        # must fall in that month: the 1st to 4th do, the 5th may not.
        if any(n == 5 for n in ords) or (min(ords) < 0 < max(ords)):
            raise WordsError(f"Im Quartal geht der 1. bis 4., der vorletzte oder der letzte "
                             f"{wd} – zum Beispiel „jeden 2. {wd} im Quartal 14:00“.")
        return _Rule(f"FREQ=MONTHLY;INTERVAL=3;BYDAY={byday}", f"{words} im Quartal",
                     anchor="quarter-last-month" if ords[0] < 0 else "quarter", place=place)
    if name == "monthday":
        if m.group("last") or m.group("last2"):
            return _Rule("FREQ=MONTHLY;BYMONTHDAY=-1", "jeden Monat am letzten Tag",
                         place=place)
        d = int(m.group("d") or m.group("d2"))
        if not 1 <= d <= 31:
            raise WordsError(f"Einen {d}. gibt es in keinem Monat.")
        if d > 28:
            raise WordsError(f"Den {d}. gibt es nicht in jedem Monat – für das Monatsende "
                             f"bitte „monatlich am letzten Tag“ schreiben.")
        return _Rule(f"FREQ=MONTHLY;BYMONTHDAY={d}", f"jeden Monat am {d}.", place=place)
    if name == "weekday":
        wd = WEEKDAY_NAMES[_weekday(m.group("wd"))]
        raise WordsError(f"„am {wd}“ sagt nicht, welcher {wd}: für eine Reihe bitte „jeden "
                         f"{wd}“ schreiben, für einen einzelnen Termin das Datum, zum Beispiel "
                         f"„am 18.03.2027“.")
    if name == "no-day":
        example = ("„jeden Dienstag 10:00“ oder „alle 2 Wochen Donnerstag 9:30“"
                   if m.group("weeks") else
                   "„monatlich am 1. Montag 10:00“" if m.group("months") else
                   "„jeden 2. Mittwoch im Quartal 14:00“")
        raise WordsError(f"An welchem Tag? Bitte den Wochentag dazuschreiben, zum Beispiel "
                         f"{example}.")
    # one-off
    when = _read_when(m.group("day"), today)
    if when is None or when[0] != when[1]:
        raise WordsError(f"„{m.group('day')}“ ist kein einzelner Tag – bitte ein Datum wie "
                         f"18.03.2027 angeben.")
    day = when[0]
    if m.group("wd") and _weekday(m.group("wd")) != day.weekday():
        said = WEEKDAY_NAMES[_weekday(m.group("wd"))]
        raise WordsError(f"Der {day:%d.%m.%Y} ist ein {WEEKDAY_NAMES[day.weekday()]}, "
                         f"kein {said}.")
    return _Rule("FREQ=DAILY;COUNT=1", "einmalig", anchor="one-off", day=day, place=place)


def _read_rule(low: str, original: str, today: date) -> _Rule | None:
    """The rule `low` (folded `original`) states, None when no grammar reads it."""
    for name, grammar in _RULES:
        if m := grammar.fullmatch(low):
            return _rule(name, m, original, today)
    return None


def _cut(original: str, low: str, spans: list[tuple[int, int]]) -> tuple[str, str]:
    """Both texts without the spans, tidied the same way (they stay aligned)."""
    for start, end in sorted(spans, reverse=True):
        original = f"{original[:start]} {original[end:]}"
        low = f"{low[:start]} {low[end:]}"
    return _tidy(original), _tidy(low)


def _clock(hour: str, minute: str | None) -> time:
    h, mi = int(hour), int(minute or 0)
    if h > 23 or mi > 59:
        raise WordsError(f"Die Uhrzeit {h}:{mi:02d} gibt es nicht.")
    return time(h, mi)


def _clock_words(t: time) -> str:
    return f"{t.hour}:{t.minute:02d}"


def _times(low: str) -> tuple[list[tuple[time, time | None]], list[tuple[int, int]]]:
    """The times of day (with an end for "14–16 Uhr") and where they stand."""
    found: list[tuple[int, tuple[time, time | None]]] = []
    spans: list[tuple[int, int]] = []
    for m in _TIME_SPAN.finditer(low):
        g = m.groups()
        h1, m1, h2, m2 = g[0:4] if g[0] is not None else g[4:8]
        assert h1 is not None and h2 is not None  # both alternatives capture the hours
        start, end = _clock(h1, m1), _clock(h2, m2)
        if end <= start:
            raise WordsError(f"Das Ende {_clock_words(end)} Uhr liegt nicht nach dem Beginn "
                             f"{_clock_words(start)} Uhr.")
        found.append((m.start(), (start, end)))
        spans.append(m.span())
    masked = low
    for a, b in spans:
        masked = masked[:a] + " " * (b - a) + masked[b:]
    for m in _TIME.finditer(masked):
        g = m.groups()
        hour, minute = next((g[i], g[i + 1]) for i in (0, 2, 4) if g[i] is not None)
        found.append((m.start(), (_clock(hour, minute), None)))
        spans.append(m.span())
    return [t for _pos, t in sorted(found)], spans


def _bound(pattern: re.Pattern[str], low: str, what: str, today: date
           ) -> tuple[tuple[date, date] | None, list[tuple[int, int]]]:
    """The day range after "ab" or "bis", and where it stands."""
    matches = list(pattern.finditer(low))
    if len(matches) > 1:
        raise WordsError(f"Bitte nur ein „{what}“-Datum angeben.")
    if not matches:
        return None, []
    when = _read_when(matches[0].group(1), today)
    if when is None:
        raise WordsError(f"„{matches[0].group(1)}“ verstehe ich nicht als Datum – "
                         f"{DAY_EXAMPLE}.")
    return when, [matches[0].span()]


def _first(rule: _Rule, start: date, at: time) -> datetime | None:
    """The first occurrence of `rule` at `at` on or after `start` (None beyond YEARS).

    A quarterly rule (MONTHLY;INTERVAL=3) counts its months from its dtstart's month, so the
    search starts in the first month of `start`'s quarter (the last month for the last
    weekdays of a quarter). Every n weeks starts on the first of its weekdays on or after
    `start` (dateutil would count the weeks from `start`'s week and may skip a whole
    interval); the rhythm then runs from that day.
    """
    anchor, body = start, rule.body
    if rule.anchor.startswith("quarter"):
        q = Quarter.of(start)
        month = 3 * q.number if rule.anchor == "quarter-last-month" else 3 * q.number - 2
        anchor = date(q.year, month, 1)
    else:
        body = re.sub(r";INTERVAL=\d+", "", body)
    series = rrulestr(body, dtstart=datetime.combine(anchor, at))
    first: datetime | None = series.after(datetime.combine(start, time.min), inc=True)
    return first if first is not None and first.year in YEARS else None


def _day_words(d: date) -> str:
    return f"{WEEKDAY_SHORT[d.weekday()]}, {d:%d.%m.%Y}"


def parse_meeting(text: str, today: date) -> MeetingSpec:
    """A meeting from plain German: "<Titel> <Regel> <Uhrzeit> [Ort] [ab …] [bis …]".

    One-off: "Bildungskonferenz am 18.03.2027 14:00", "… um 14 Uhr im Rathaus",
    "BiKo am 18.3.27 14:00 Uhr, Ratssaal" give rrule "FREQ=DAILY;COUNT=1".
    Recurring: "jeden Dienstag", "jeden Montag und Donnerstag", "dienstags", "alle 2 Wochen
    Donnerstag", "14-tägig Donnerstag", "monatlich am 1. Montag", "jeden ersten Montag im
    Monat", "jeden letzten Freitag im Monat", "monatlich am 15.", "jeden 2. Mittwoch im
    Quartal", "jeden letzten Freitag im Quartal", "täglich", "werktags" – each with one time
    ("10:00", "9:30 Uhr", "um 10 Uhr", "14–16 Uhr"), optionally "ab <Datum>" and
    "bis <Datum>" (UNTIL, the whole day included).

    dtstart is the rule's first occurrence on or after the "ab" day, else on or after
    `today` (a time earlier today still counts: the clock is not read). A quarterly rule is
    "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE", so its dtstart lies in a quarter's first month
    (last month for "letzten … im Quartal"), as the plan writes it. dtstart is always an
    occurrence of the rule, so RFC 5545 (dtstart counts) and dateutil (it must match) agree.
    A one-off may lie before `today` (a meeting that took place); the plan checks the range.
    """
    original = _tidy(text)
    if len(original) > 1 and original[0] in "„\"" and original[-1] in "“\"":  # all quoted
        original = original[1:-1].strip()
    low = _fold(original)
    if not low:
        raise WordsError(f"Bitte Name, Tag und Uhrzeit der Sitzung angeben, zum Beispiel "
                         f"{MEETING_EXAMPLES}.")
    times, time_spans = _times(low)
    if len(times) > 1:
        raise WordsError("Bitte nur eine Uhrzeit angeben: eine Sitzung tagt höchstens einmal "
                         "am Tag.")
    if _SUB_DAILY.search(low):
        raise WordsError("Eine Sitzung tagt höchstens einmal am Tag – zum Beispiel „Jour fixe "
                         "jeden Dienstag 10:00“ oder „Jour fixe täglich 9:00“.")
    since, since_spans = _bound(_FROM, low, "ab", today)
    until, until_spans = _bound(_UNTIL, low, "bis", today)
    original, low = _cut(original, low, time_spans + since_spans + until_spans)
    original, low = original.rstrip(" ,;:–-"), low.rstrip(" ,;:–-")

    # The title is what stands before the first place from which a whole rule reads
    # ("Bildung für alle jeden Dienstag": not from "alle", from "jeden"). A known form with
    # a wrong value ("am Mittwoch, 18.03.2027", a Thursday) is said at once.
    rule, title = None, ""
    for m in _RULE_START.finditer(low):
        rule = _read_rule(low[m.start():], original[m.start():], today)
        if rule is not None:
            title = original[:m.start()].strip(" ,;:–-„“\"'")
            break
    if rule is None:
        raise WordsError(f"Die Regel „{_tidy(text)}“ verstehe ich nicht. {RULE_EXAMPLE}")
    if not title:
        raise WordsError(f"Wie heißt die Sitzung? Bitte den Namen vor die Regel schreiben, "
                         f"zum Beispiel „Jour fixe {_tidy(text)}“.")
    if not times:
        raise WordsError(f"Um wie viel Uhr? Bitte die Uhrzeit dazuschreiben, zum Beispiel "
                         f"„{_tidy(text)} 10:00“.")
    at, end = times[0]
    duration = (datetime.combine(today, end) - datetime.combine(today, at)) if end else None
    clock = f"{_clock_words(at)}–{_clock_words(end)} Uhr" if end else f"{_clock_words(at)} Uhr"

    if rule.day is not None:  # one-off
        if since or until:
            raise WordsError("Eine einmalige Sitzung hat kein „ab“ und kein „bis“ – für eine "
                             "Reihe bitte die Regel nennen, zum Beispiel „jeden Dienstag“.")
        dtstart = datetime.combine(rule.day, at)
        return _checked(MeetingSpec(title, dtstart, rule.body, rule.place, True,
                                    f"einmalig am {_day_words(rule.day)}, {clock}", duration))

    start = since[0] if since else today
    first = _first(rule, start, at)
    if first is None:
        raise WordsError(f"Ab {start:%d.%m.%Y} gibt es „{rule.words}“ in den Jahren bis "
                         f"{YEARS[-1]} nicht mehr.")
    body, words = rule.body, f"{rule.words}, {clock}"
    if since or (";INTERVAL=" in body and rule.anchor == "day"):
        words += f", ab {_day_words(first.date())}"  # every n weeks: the first day sets the rhythm
    if until:
        last = until[1]
        if first.date() > last:
            raise WordsError(f"Bis {last:%d.%m.%Y} gibt es keinen Termin „{rule.words}“ – der "
                             f"erste wäre am {_day_words(first.date())}.")
        body += f";UNTIL={last:%Y%m%d}T235959"
        words += f", bis {last:%d.%m.%Y}"
    return _checked(MeetingSpec(title, first, body, rule.place, False, words, duration))


def _checked(spec: MeetingSpec) -> MeetingSpec:
    """`spec` itself once dateutil agrees that its rule starts at its dtstart."""
    first = rrulestr(spec.rrule, dtstart=spec.dtstart).after(spec.dtstart, inc=True)
    if first != spec.dtstart:  # a bug here, not the user's words
        raise AssertionError(f"{spec.rrule} from {spec.dtstart} starts at {first}")
    return spec

