"""German periods: parse_period and parse_quarter_arg at fixed days, never reading the clock."""

from __future__ import annotations

from calendar import monthrange
from datetime import date

import pytest

from workflows.periods import (
    Period,
    month_period,
    parse_period,
    parse_quarter_arg,
    read_period,
    week_period,
)
from workflows.quarters import Quarter, YearOutOfRange

THU = date(2026, 11, 26)  # a Thursday in Q4 2026
YEAR_END = date(2026, 12, 28)  # a Monday; this week runs into 2027
QUARTER_END = date(2026, 3, 31)  # a Tuesday, the last day of Q1 2026
PROGRAMME_END = date(2027, 6, 30)  # a Wednesday, the last day of the programme


def span(text: str, today: date) -> tuple[date, date, str]:
    """(start, end, kind) of a phrase, failing the test when it names no period."""
    period = parse_period(text, today)
    assert period is not None, text
    return period.start, period.end, period.kind


def D(y: int, m: int, d: int) -> date:
    """Short for readable tables."""
    return date(y, m, d)


# -- relative phrases ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "today", "start", "end", "kind"), [
    ("heute", THU, D(2026, 11, 26), D(2026, 11, 26), "day"),
    ("gerade", THU, D(2026, 11, 26), D(2026, 11, 26), "day"),
    ("morgen", THU, D(2026, 11, 27), D(2026, 11, 27), "day"),
    ("übermorgen", THU, D(2026, 11, 28), D(2026, 11, 28), "day"),
    ("uebermorgen", THU, D(2026, 11, 28), D(2026, 11, 28), "day"),
    ("diese Woche", THU, D(2026, 11, 23), D(2026, 11, 29), "week"),
    ("nächste Woche", THU, D(2026, 11, 30), D(2026, 12, 6), "week"),
    ("diesen Monat", THU, D(2026, 11, 1), D(2026, 11, 30), "month"),
    ("nächsten Monat", THU, D(2026, 12, 1), D(2026, 12, 31), "month"),
    ("letzten Monat", THU, D(2026, 10, 1), D(2026, 10, 31), "month"),
    ("dieses Quartal", THU, D(2026, 10, 1), D(2026, 12, 31), "quarter"),
    ("nächstes Quartal", THU, D(2027, 1, 1), D(2027, 3, 31), "quarter"),
    ("letztes Quartal", THU, D(2026, 7, 1), D(2026, 9, 30), "quarter"),
    ("dieses Jahr", THU, D(2026, 1, 1), D(2026, 12, 31), "year"),
    ("nächstes Jahr", THU, D(2027, 1, 1), D(2027, 12, 31), "year"),
    # across the year boundary: today is Monday, 28.12.2026
    ("heute", YEAR_END, D(2026, 12, 28), D(2026, 12, 28), "day"),
    ("morgen", YEAR_END, D(2026, 12, 29), D(2026, 12, 29), "day"),
    ("diese Woche", YEAR_END, D(2026, 12, 28), D(2027, 1, 3), "week"),
    ("nächste Woche", YEAR_END, D(2027, 1, 4), D(2027, 1, 10), "week"),
    ("naechste Woche", YEAR_END, D(2027, 1, 4), D(2027, 1, 10), "week"),
    ("kommende Woche", YEAR_END, D(2027, 1, 4), D(2027, 1, 10), "week"),
    ("diesen Monat", YEAR_END, D(2026, 12, 1), D(2026, 12, 31), "month"),
    ("nächsten Monat", YEAR_END, D(2027, 1, 1), D(2027, 1, 31), "month"),
    ("kommenden Monat", YEAR_END, D(2027, 1, 1), D(2027, 1, 31), "month"),
    ("letzten Monat", YEAR_END, D(2026, 11, 1), D(2026, 11, 30), "month"),
    ("dieses Quartal", YEAR_END, D(2026, 10, 1), D(2026, 12, 31), "quarter"),
    ("nächstes Quartal", YEAR_END, D(2027, 1, 1), D(2027, 3, 31), "quarter"),
    ("naechstes Quartal", YEAR_END, D(2027, 1, 1), D(2027, 3, 31), "quarter"),
    ("letztes Quartal", YEAR_END, D(2026, 7, 1), D(2026, 9, 30), "quarter"),
    ("nächstes Jahr", YEAR_END, D(2027, 1, 1), D(2027, 12, 31), "year"),
    # on a quarter's last day
    ("heute", QUARTER_END, D(2026, 3, 31), D(2026, 3, 31), "day"),
    ("morgen", QUARTER_END, D(2026, 4, 1), D(2026, 4, 1), "day"),
    ("dieses Quartal", QUARTER_END, D(2026, 1, 1), D(2026, 3, 31), "quarter"),
    ("aktuelles Quartal", QUARTER_END, D(2026, 1, 1), D(2026, 3, 31), "quarter"),
    ("laufendes Quartal", QUARTER_END, D(2026, 1, 1), D(2026, 3, 31), "quarter"),
    ("nächstes Quartal", QUARTER_END, D(2026, 4, 1), D(2026, 6, 30), "quarter"),
    ("kommendes Quartal", QUARTER_END, D(2026, 4, 1), D(2026, 6, 30), "quarter"),
    ("letztes Quartal", QUARTER_END, D(2025, 10, 1), D(2025, 12, 31), "quarter"),
    ("diesen Monat", QUARTER_END, D(2026, 3, 1), D(2026, 3, 31), "month"),
    ("nächsten Monat", QUARTER_END, D(2026, 4, 1), D(2026, 4, 30), "month"),
    # at the programme's end
    ("dieses Quartal", PROGRAMME_END, D(2027, 4, 1), D(2027, 6, 30), "quarter"),
    ("nächstes Quartal", PROGRAMME_END, D(2027, 7, 1), D(2027, 9, 30), "quarter"),
    ("nächsten Monat", PROGRAMME_END, D(2027, 7, 1), D(2027, 7, 31), "month"),
    # a month's end: one month on is the whole next month, not a day 31 that does not exist
    ("nächsten Monat", D(2027, 1, 31), D(2027, 2, 1), D(2027, 2, 28), "month"),
    ("letzten Monat", D(2027, 3, 31), D(2027, 2, 1), D(2027, 2, 28), "month"),
])
def test_relative_phrases(text: str, today: date, start: date, end: date, kind: str) -> None:
    assert span(text, today) == (start, end, kind)


def test_relative_quarters_name_the_quarter_in_their_label() -> None:
    assert parse_period("nächstes Quartal", YEAR_END) == Period(
        D(2027, 1, 1), D(2027, 3, 31), "nächstes Quartal (Q1 2027)", "quarter")
    assert parse_period("dieses Quartal", QUARTER_END) == Period(
        D(2026, 1, 1), D(2026, 3, 31), "dieses Quartal (Q1 2026)", "quarter")
    period = parse_period("letztes Quartal", QUARTER_END)
    assert period is not None
    assert period.label == "letztes Quartal (Q4 2025)"


def test_relative_phrases_inside_questions() -> None:
    assert span("Was ist nächsten Monat fällig?", YEAR_END) == (
        D(2027, 1, 1), D(2027, 1, 31), "month")
    assert span("Was steht nächste Woche an?", YEAR_END) == (
        D(2027, 1, 4), D(2027, 1, 10), "week")
    assert span("Was läuft gerade?", THU) == (THU, THU, "day")
    assert span("Was ist dieses Quartal fällig?", QUARTER_END) == (
        D(2026, 1, 1), D(2026, 3, 31), "quarter")


# -- weekdays ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "today", "day"), [
    ("am Montag", THU, D(2026, 11, 30)),
    ("Montag", THU, D(2026, 11, 30)),
    ("nächsten Montag", THU, D(2026, 11, 30)),
    ("am Freitag", THU, D(2026, 11, 27)),
    ("Mittwoch", THU, D(2026, 12, 2)),
    ("am Sonntag", THU, D(2026, 11, 29)),
    ("Was ist am Dienstag?", THU, D(2026, 12, 1)),
    # the coming weekday across the year boundary
    ("am Freitag", YEAR_END, D(2027, 1, 1)),
    ("am Sonntag", YEAR_END, D(2027, 1, 3)),
    ("Dienstag", YEAR_END, D(2026, 12, 29)),
    ("am Mittwoch", QUARTER_END, D(2026, 4, 1)),
])
def test_weekday_names_mean_the_coming_day(text: str, today: date, day: date) -> None:
    assert span(text, today) == (day, day, "day")
    assert day >= today


# -- dates ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "today", "day"), [
    ("15.03.2027", THU, D(2027, 3, 15)),
    ("am 15.03.2027", THU, D(2027, 3, 15)),
    ("15.3.2027", THU, D(2027, 3, 15)),
    ("1.1.2027", THU, D(2027, 1, 1)),
    ("15.03.27", THU, D(2027, 3, 15)),
    ("01.04.26", YEAR_END, D(2026, 4, 1)),
    ("29.02.2028", THU, D(2028, 2, 29)),
    ("15. März 2027", THU, D(2027, 3, 15)),
    ("15 März 2027", THU, D(2027, 3, 15)),
    ("am 3. Juni 2026", THU, D(2026, 6, 3)),
    ("1. Dez 2026", THU, D(2026, 12, 1)),
    ("Was ist am 15.03.2027?", THU, D(2027, 3, 15)),
    # a missing year is today's year
    ("15.03.", THU, D(2026, 3, 15)),
    ("am 1.4.", YEAR_END, D(2026, 4, 1)),
    ("15. März", YEAR_END, D(2026, 3, 15)),
    ("15.03.", D(2027, 1, 2), D(2027, 3, 15)),
])
def test_dates(text: str, today: date, day: date) -> None:
    assert span(text, today) == (day, day, "day")


@pytest.mark.parametrize("text", [
    "31.02.2027", "29.02.2027", "30.02.2026", "31.04.2027", "32.01.2027", "13.13.2026",
    "00.01.2026", "31. Februar 2027", "30. Februar", "31.04.",
])
def test_invalid_dates_are_none(text: str) -> None:
    assert parse_period(text, THU) is None


def test_a_date_label_is_the_german_date() -> None:
    assert parse_period("1.1.2027", THU) == Period(D(2027, 1, 1), D(2027, 1, 1), "01.01.2027",
                                                   "day")


# -- months --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "year", "month"), [
    ("März 2027", 2027, 3),
    ("märz 2027", 2027, 3),
    ("Maerz 2027", 2027, 3),
    ("Mrz 2027", 2027, 3),
    ("Dez 2026", 2026, 12),
    ("Dez. 2026", 2026, 12),
    ("Dezember 2026", 2026, 12),
    ("Januar 2027", 2027, 1),
    ("Jan 2027", 2027, 1),
    ("Jänner 2027", 2027, 1),
    ("Februar 2027", 2027, 2),
    ("Mai 2027", 2027, 5),
    ("im Mai 2027", 2027, 5),
    ("Juni 2026", 2026, 6),
    ("Sept 2026", 2026, 9),
    ("Okt 2026", 2026, 10),
    ("Was ist im Juni 2026 fällig?", 2026, 6),
])
def test_month_names_are_whole_months(text: str, year: int, month: int) -> None:
    period = parse_period(text, YEAR_END)
    assert period is not None
    assert period.kind == "month"
    assert period.start == date(year, month, 1)
    assert period.end == date(year, month, monthrange(year, month)[1])


def test_a_month_never_takes_todays_day() -> None:
    # dateutil alone would turn "Juni 2026" into the 28th (today's day) of June.
    assert parse_period("Juni 2026", YEAR_END) == Period(
        D(2026, 6, 1), D(2026, 6, 30), "Juni 2026", "month")
    assert parse_period("März 2027", THU) == Period(
        D(2027, 3, 1), D(2027, 3, 31), "März 2027", "month")
    assert parse_period("Februar 2028", D(2026, 1, 31)) == Period(
        D(2028, 2, 1), D(2028, 2, 29), "Februar 2028", "month")


@pytest.mark.parametrize(("text", "today", "year", "month"), [
    ("Juni", THU, 2026, 6),
    ("März", YEAR_END, 2026, 3),
    ("Dez", THU, 2026, 12),
    ("im Januar", D(2027, 1, 15), 2027, 1),
    ("Okt.", THU, 2026, 10),
])
def test_a_month_without_year_is_in_todays_year(text: str, today: date, year: int,
                                                 month: int) -> None:
    period = parse_period(text, today)
    assert period is not None
    assert period.kind == "month"
    assert (period.start, period.label.split()[-1]) == (date(year, month, 1), str(year))


@pytest.mark.parametrize("text", ["Mär 2027", "Was ist im Mär 2027 fällig?"])
def test_the_abbreviation_mar_is_march(text: str) -> None:
    assert span(text, THU) == (D(2027, 3, 1), D(2027, 3, 31), "month")


@pytest.mark.parametrize(("text", "month"), [("Marz 2027", 3), ("Janner 2027", 1),
                                             ("Was ist im Marz 2027 fällig?", 3)])
def test_month_names_without_umlaut(text: str, month: int) -> None:
    assert span(text, THU) == (D(2027, month, 1), D(2027, month, monthrange(2027, month)[1]),
                               "month")


def test_a_day_with_the_abbreviation_mar() -> None:
    assert span("15. Mär 2027", THU) == (D(2027, 3, 15), D(2027, 3, 15), "day")


# -- quarters and years --------------------------------------------------------


@pytest.mark.parametrize(("text", "today", "quarter"), [
    ("Q1 2027", THU, Quarter(2027, 1)),
    ("q1 2027", THU, Quarter(2027, 1)),
    ("Q1/2027", THU, Quarter(2027, 1)),
    ("Q1-2027", THU, Quarter(2027, 1)),
    ("Q1.2027", THU, Quarter(2027, 1)),
    ("Q 1 2027", THU, Quarter(2027, 1)),
    ("1/2027", THU, Quarter(2027, 1)),
    ("2027-Q1", THU, Quarter(2027, 1)),
    ("2027 Q1", THU, Quarter(2027, 1)),
    ("1. Quartal 2027", THU, Quarter(2027, 1)),
    ("2. Quartal 2027", THU, Quarter(2027, 2)),
    ("4.Quartal 2026", YEAR_END, Quarter(2026, 4)),
    ("Was steht im Q1 2027 an?", THU, Quarter(2027, 1)),
    # without a year: today's year
    ("Q3", THU, Quarter(2026, 3)),
    ("Q1", D(2027, 1, 1), Quarter(2027, 1)),
    ("4. Quartal", YEAR_END, Quarter(2026, 4)),
])
def test_quarters(text: str, today: date, quarter: Quarter) -> None:
    assert parse_period(text, today) == Period(quarter.first_day, quarter.last_day, str(quarter),
                                               "quarter")


def test_year_first_quarter_with_a_slash_keeps_its_year() -> None:
    assert span("2027/Q1", THU) == (D(2027, 1, 1), D(2027, 3, 31), "quarter")


def test_quarter_number_without_dot() -> None:
    assert span("im 4 Quartal 2026", THU) == (D(2026, 10, 1), D(2026, 12, 31), "quarter")


@pytest.mark.parametrize(("text", "year"), [
    ("2027", 2027), ("2026", 2026), ("im Jahr 2026", 2026),
    ("Welche Meilensteine sind 2026 noch offen?", 2026),
])
def test_years(text: str, year: int) -> None:
    assert parse_period(text, YEAR_END) == Period(D(year, 1, 1), D(year, 12, 31), str(year), "year")


@pytest.mark.parametrize("text", ["", "   ", "nichts", "Quartal", "Monat", "Wie steht AP 7?",
                                  "Wer ist für AP 4 zuständig?", "Mo"])
def test_phrases_without_a_period(text: str) -> None:
    assert parse_period(text, THU) is None


def test_period_contains_its_first_and_last_day_only() -> None:
    period = parse_period("Q1 2027", THU)
    assert period is not None
    assert period.contains(D(2027, 1, 1))
    assert period.contains(D(2027, 3, 31))
    assert not period.contains(D(2026, 12, 31))
    assert not period.contains(D(2027, 4, 1))


# -- /quartal arguments --------------------------------------------------------


@pytest.mark.parametrize(("text", "today", "quarter"), [
    ("", THU, Quarter(2026, 4)),
    ("   ", QUARTER_END, Quarter(2026, 1)),
    ("dieses", QUARTER_END, Quarter(2026, 1)),
    ("dieses Quartal", QUARTER_END, Quarter(2026, 1)),
    ("aktuelles", THU, Quarter(2026, 4)),
    ("nächstes", THU, Quarter(2027, 1)),
    ("nächstes", YEAR_END, Quarter(2027, 1)),
    ("nächstes", QUARTER_END, Quarter(2026, 2)),
    ("nächstes", PROGRAMME_END, Quarter(2027, 3)),
    ("Nächstes Quartal", YEAR_END, Quarter(2027, 1)),
    ("naechstes", YEAR_END, Quarter(2027, 1)),
    ("kommendes", YEAR_END, Quarter(2027, 1)),
    ("letztes", THU, Quarter(2026, 3)),
    ("letztes", QUARTER_END, Quarter(2025, 4)),
    ("letztes", D(2027, 1, 1), Quarter(2026, 4)),
    ("letztes Quartal", D(2027, 1, 1), Quarter(2026, 4)),
    ("voriges", THU, Quarter(2026, 3)),
    ("vergangenes", THU, Quarter(2026, 3)),
    ("Q1 2027", THU, Quarter(2027, 1)),
    ("q1 2027", THU, Quarter(2027, 1)),
    ("  Q1   2027 ", THU, Quarter(2027, 1)),
    ("Q1/2027", THU, Quarter(2027, 1)),
    ("1/2027", THU, Quarter(2027, 1)),
    ("2027-Q1", THU, Quarter(2027, 1)),
    ("2027/Q1", THU, Quarter(2027, 1)),
    ("1. Quartal 2027", THU, Quarter(2027, 1)),
    ("Q4 2025", PROGRAMME_END, Quarter(2025, 4)),
    ("Q2", YEAR_END, Quarter(2026, 2)),
])
def test_quarter_arguments(text: str, today: date, quarter: Quarter) -> None:
    assert parse_quarter_arg(text, today) == quarter


@pytest.mark.parametrize("text", [
    "quatsch", "Q5 2027", "0/2027", "5/2027", "Juni 2026", "2027", "15.03.2027", "morgen",
    "nächste Woche", "vorletztes",
])
def test_quarter_arguments_that_name_no_quarter(text: str) -> None:
    assert parse_quarter_arg(text, THU) is None


# -- years apbot does not work with ----------------------------------------------------------


@pytest.mark.parametrize(("text", "year"), [
    ("Q4 9999", 9999),
    ("Was ist im Q4 9999 fällig?", 9999),
    ("Q1 0000", 0),
    ("Q1 99999", 99999),  # the whole number, not "Q1" of this year
    ("9999-Q4", 9999),
    ("4/9999", 9999),
    ("4. Quartal 9999", 9999),
    ("Dezember 9999", 9999),
    ("Was ist im Dezember 9999 fällig?", 9999),
    ("Juni 99999", 99999),
    ("Januar 0001", 1),  # four digits are the year as written, not 2001
    ("31.12.9999", 9999),
    ("Was läuft am 01.01.0001?", 1),
    ("1.1.12345", 12345),
    ("15. März 2101", 2101),
    ("Q1 1999", 1999),
])
def test_years_outside_the_range_are_refused_not_computed(text: str, year: int) -> None:
    assert parse_period(text, THU) is None
    with pytest.raises(YearOutOfRange) as info:
        read_period(text, THU)
    assert info.value.year == year


@pytest.mark.parametrize(("text", "start"), [
    ("1.1.27", D(2027, 1, 1)),  # two digits still mean 20xx
    ("1.1.00", D(2000, 1, 1)),
    ("31.12.2100", D(2100, 12, 31)),
    ("Q1 2000", D(2000, 1, 1)),
])
def test_the_ends_of_the_range_and_two_digit_years(text: str, start: date) -> None:
    assert span(text, THU)[0] == start


@pytest.mark.parametrize(("text", "year"), [
    ("Q4 9999", 9999), ("Q1 0000", 0), ("9999-Q4", 9999), ("4/9999", 9999), ("Q1 99999", 99999),
    ("4. Quartal 1999", 1999),
])
def test_quarter_arguments_of_years_outside_the_range(text: str, year: int) -> None:
    with pytest.raises(YearOutOfRange) as info:
        parse_quarter_arg(text, THU)
    assert info.value.year == year


def test_periods_at_the_end_of_the_calendar_do_not_overflow() -> None:
    assert month_period(9999, 12) == Period(D(9999, 12, 1), D(9999, 12, 31), "Dezember 9999",
                                            "month")
    assert week_period(D(9999, 12, 31), "x") == Period(D(9999, 12, 27), D(9999, 12, 31), "x",
                                                       "week")
    assert week_period(D(1, 1, 3), "x").start == D(1, 1, 1)


@pytest.mark.parametrize("text", ["nächster Monat", "nächstes Quartal", "nächste Woche",
                                  "übermorgen", "nächstes Jahr", "Montag"])
def test_relative_phrases_on_the_last_day_of_the_calendar(text: str) -> None:
    # Today is real, so this cannot happen; should it, the answer is "no period", not a crash.
    assert parse_period(text, date.max) is None


def test_relative_phrases_on_the_last_day_that_still_exist() -> None:
    assert span("heute", date.max) == (date.max, date.max, "day")
    assert span("dieser Monat", date.max) == (D(9999, 12, 1), date.max, "month")


# -- a month, date or weekday without a year: which one `lean` means --------------------------

DEC_10 = date(2026, 12, 10)  # a Thursday in December


@pytest.mark.parametrize(("text", "lean", "start", "end"), [
    ("im Januar", "ahead", D(2027, 1, 1), D(2027, 1, 31)),  # asked in December: next January
    ("im Januar", "back", D(2026, 1, 1), D(2026, 1, 31)),
    ("im Januar", "year", D(2026, 1, 1), D(2026, 1, 31)),  # /bericht Januar: as before
    ("im Dezember", "ahead", D(2026, 12, 1), D(2026, 12, 31)),  # this month is this one
    ("im Dezember", "back", D(2026, 12, 1), D(2026, 12, 31)),
    ("letzten Januar", "ahead", D(2026, 1, 1), D(2026, 1, 31)),
    ("letzten Dezember", "ahead", D(2025, 12, 1), D(2025, 12, 31)),
    ("nächsten Dezember", "year", D(2027, 12, 1), D(2027, 12, 31)),
    ("Steuerungsgruppe im April", "ahead", D(2027, 4, 1), D(2027, 4, 30)),
    ("am 15.01.", "ahead", D(2027, 1, 15), D(2027, 1, 15)),
    ("am 12. Januar", "ahead", D(2027, 1, 12), D(2027, 1, 12)),
    ("am 12. Januar", "back", D(2026, 1, 12), D(2026, 1, 12)),
    ("am 15.03.2026", "ahead", D(2026, 3, 15), D(2026, 3, 15)),  # a year written stays
    ("letzten Montag", "ahead", D(2026, 12, 7), D(2026, 12, 7)),
    ("am Montag", "back", D(2026, 12, 7), D(2026, 12, 7)),
    ("am Montag", "ahead", D(2026, 12, 14), D(2026, 12, 14)),
    ("nächsten Donnerstag", "ahead", D(2026, 12, 17), D(2026, 12, 17)),  # said on a Thursday
    ("gestern", "back", D(2026, 12, 9), D(2026, 12, 9)),
    ("vorgestern", "back", D(2026, 12, 8), D(2026, 12, 8)),
    ("letzte Woche", "back", D(2026, 11, 30), D(2026, 12, 6)),
    ("letztes Jahr", "back", D(2025, 1, 1), D(2025, 12, 31)),
])
def test_lean_decides_the_year_left_out(text: str, lean: str, start: date, end: date) -> None:
    period = read_period(text, DEC_10, lean)
    assert period is not None, text
    assert (period.start, period.end) == (start, end)


def test_the_quarter_argument_is_read_as_before() -> None:
    assert parse_quarter_arg("Q1", DEC_10) == Quarter(2026, 1)
    assert parse_quarter_arg("letztes", DEC_10) == Quarter(2026, 3)
