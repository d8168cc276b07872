"""Calendar quarters: parsing the ways people write them, day bounds, arithmetic, spans."""

from __future__ import annotations

from datetime import date

import pytest

from workflows.quarters import YEARS, Quarter, YearOutOfRange, quarters_between, span_position

# -- parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Q4 2026",
        "q4 2026",
        "Q4/2026",
        "q4/2026",
        "Q4-2026",
        "Q4.2026",
        "Q42026",
        "4/2026",
        "4 / 2026",
        "2026-Q4",
        "2026 Q4",
        "2026/q4",
        "4. Quartal 2026",
        "4.Quartal 2026",
        "4 Quartal 2026",
        "4. quartal 2026",
        "  Q4   2026  ",
        "Q4\u00a02026",  # a non-breaking space pasted from a document
    ],
)
def test_parse_accepts_common_spellings(text: str) -> None:
    assert Quarter.parse(text) == Quarter(2026, 4)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q1 2025", Quarter(2025, 1)),
        ("2/2027", Quarter(2027, 2)),
        ("2025-Q3", Quarter(2025, 3)),
        ("1. Quartal 2028", Quarter(2028, 1)),
    ],
)
def test_parse_reads_number_and_year_in_the_right_order(text: str, expected: Quarter) -> None:
    assert Quarter.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Q5 2026",
        "Q0 2026",
        "5/2026",
        "5. Quartal 2026",
        "2026-Q5",
        "2026",
        "Q4",
        "",
        "   ",
        "Q4 26",
        "Q4 20261",
        "12/2026",
        "2026-12-31",
        "Juni 2026",
        "Q4 2026 x",
    ],
)
def test_parse_rejects_what_is_not_a_quarter(text: str) -> None:
    with pytest.raises(ValueError, match="Q4 2026"):
        Quarter.parse(text)


def test_parse_error_quotes_the_input() -> None:
    with pytest.raises(ValueError, match="'Q5 2026'"):
        Quarter.parse("Q5 2026")


@pytest.mark.parametrize("number", [0, 5, -1])
def test_constructor_rejects_quarter_numbers_outside_1_to_4(number: int) -> None:
    with pytest.raises(ValueError):
        Quarter(2026, number)


@pytest.mark.parametrize(("text", "year"), [
    ("Q4 9999", 9999), ("Q1 0000", 0), ("0000-Q1", 0), ("4/9999", 9999),
    ("1. Quartal 1999", 1999), ("Q1 2101", 2101),
])
def test_parse_refuses_years_apbot_does_not_work_with(text: str, year: int) -> None:
    with pytest.raises(YearOutOfRange) as info:
        Quarter.parse(text)
    assert info.value.year == year
    assert isinstance(info.value, ValueError)  # callers that catch ValueError still do


def test_parse_accepts_the_first_and_last_year() -> None:
    assert Quarter.parse(f"Q1 {YEARS[0]}") == Quarter(2000, 1)
    assert Quarter.parse(f"Q4 {YEARS[-1]}") == Quarter(2100, 4)


@pytest.mark.parametrize("year", [0, -1, 10000, 99999])
def test_constructor_rejects_years_no_date_can_hold(year: int) -> None:
    with pytest.raises(YearOutOfRange):
        Quarter(year, 1)


def test_the_ends_of_the_calendar_have_days_and_no_neighbour_beyond() -> None:
    assert Quarter(9999, 4).last_day == date(9999, 12, 31)  # not via Q1 10000
    assert Quarter(1, 1).first_day == date(1, 1, 1)
    assert Quarter(9999, 3) + 1 == Quarter(9999, 4)
    with pytest.raises(ValueError):
        Quarter(9999, 4) + 1
    with pytest.raises(ValueError):
        Quarter(1, 1) - 1


# -- day bounds ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("quarter", "first", "last"),
    [
        (Quarter(2026, 1), date(2026, 1, 1), date(2026, 3, 31)),
        (Quarter(2026, 2), date(2026, 4, 1), date(2026, 6, 30)),
        (Quarter(2026, 3), date(2026, 7, 1), date(2026, 9, 30)),
        (Quarter(2026, 4), date(2026, 10, 1), date(2026, 12, 31)),
        (Quarter(2028, 1), date(2028, 1, 1), date(2028, 3, 31)),  # leap year
        (Quarter(2025, 4), date(2025, 10, 1), date(2025, 12, 31)),
    ],
)
def test_first_and_last_day(quarter: Quarter, first: date, last: date) -> None:
    assert quarter.first_day == first
    assert quarter.last_day == last


def test_leap_day_lies_in_q1() -> None:
    assert Quarter(2028, 1).contains(date(2028, 2, 29))
    assert Quarter.of(date(2028, 2, 29)) == Quarter(2028, 1)


def test_contains_includes_both_ends_and_nothing_else() -> None:
    q = Quarter(2026, 2)
    assert q.contains(date(2026, 4, 1))
    assert q.contains(date(2026, 6, 30))
    assert not q.contains(date(2026, 3, 31))
    assert not q.contains(date(2026, 7, 1))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 1), Quarter(2026, 1)),
        (date(2026, 3, 31), Quarter(2026, 1)),
        (date(2026, 4, 1), Quarter(2026, 2)),
        (date(2026, 6, 30), Quarter(2026, 2)),
        (date(2026, 7, 1), Quarter(2026, 3)),
        (date(2026, 9, 30), Quarter(2026, 3)),
        (date(2026, 10, 1), Quarter(2026, 4)),
        (date(2026, 12, 31), Quarter(2026, 4)),
        (date(2027, 1, 1), Quarter(2027, 1)),
    ],
)
def test_of_finds_the_quarter_of_a_day(day: date, expected: Quarter) -> None:
    assert Quarter.of(day) == expected


# -- arithmetic ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (Quarter(2026, 1), 1, Quarter(2026, 2)),
        (Quarter(2026, 4), 1, Quarter(2027, 1)),
        (Quarter(2026, 3), 2, Quarter(2027, 1)),
        (Quarter(2025, 1), 9, Quarter(2027, 2)),
        (Quarter(2026, 2), 0, Quarter(2026, 2)),
        (Quarter(2026, 1), -1, Quarter(2025, 4)),
        (Quarter(2026, 1), 8, Quarter(2028, 1)),
    ],
)
def test_add(start: Quarter, delta: int, expected: Quarter) -> None:
    assert start + delta == expected


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (Quarter(2026, 2), 1, Quarter(2026, 1)),
        (Quarter(2026, 1), 1, Quarter(2025, 4)),
        (Quarter(2027, 2), 9, Quarter(2025, 1)),
        (Quarter(2026, 1), 5, Quarter(2024, 4)),
        (Quarter(2025, 4), -1, Quarter(2026, 1)),
    ],
)
def test_sub(start: Quarter, delta: int, expected: Quarter) -> None:
    assert start - delta == expected


def test_add_then_sub_is_identity_over_many_offsets() -> None:
    base = Quarter(2026, 3)
    for delta in range(-13, 14):
        assert (base + delta) - delta == base
        assert (base + delta).index_from(base) == delta


def test_index_from() -> None:
    start = Quarter(2025, 1)
    assert Quarter(2025, 1).index_from(start) == 0
    assert Quarter(2025, 4).index_from(start) == 3
    assert Quarter(2026, 1).index_from(start) == 4
    assert Quarter(2027, 2).index_from(start) == 9
    assert Quarter(2024, 4).index_from(start) == -1
    assert Quarter(2024, 1).index_from(start) == -4


def test_ordering_is_chronological() -> None:
    shuffled = [Quarter(2026, 1), Quarter(2025, 4), Quarter(2027, 1), Quarter(2025, 1),
                Quarter(2026, 4)]
    assert sorted(shuffled) == [Quarter(2025, 1), Quarter(2025, 4), Quarter(2026, 1),
                                Quarter(2026, 4), Quarter(2027, 1)]
    # a later year beats a higher quarter number
    assert Quarter(2025, 4) < Quarter(2026, 1)
    assert Quarter(2026, 1) > Quarter(2025, 4)
    assert Quarter(2026, 2) <= Quarter(2026, 2)
    assert max(Quarter(2026, 3), Quarter(2026, 2)) == Quarter(2026, 3)


def test_quarters_are_hashable_values() -> None:
    assert {Quarter(2026, 1), Quarter.parse("Q1 2026"), Quarter.parse("1/2026")} == {
        Quarter(2026, 1)
    }


@pytest.mark.parametrize(
    ("quarter", "text"),
    [(Quarter(2026, 4), "Q4 2026"), (Quarter(2025, 1), "Q1 2025")],
)
def test_str_round_trips_through_parse(quarter: Quarter, text: str) -> None:
    assert str(quarter) == text
    assert Quarter.parse(str(quarter)) == quarter


# -- spans ---------------------------------------------------------------------


def test_quarters_between_includes_both_ends_across_years() -> None:
    assert quarters_between(Quarter(2025, 3), Quarter(2026, 2)) == [
        Quarter(2025, 3), Quarter(2025, 4), Quarter(2026, 1), Quarter(2026, 2),
    ]


def test_quarters_between_programme_length() -> None:
    span = quarters_between(Quarter(2025, 1), Quarter(2027, 2))
    assert len(span) == 10
    assert span[0] == Quarter(2025, 1)
    assert span[-1] == Quarter(2027, 2)


def test_quarters_between_same_quarter_and_reversed() -> None:
    assert quarters_between(Quarter(2026, 2), Quarter(2026, 2)) == [Quarter(2026, 2)]
    assert quarters_between(Quarter(2026, 2), Quarter(2026, 1)) == []


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2025, 1, 1), (1, 10)),
        (date(2025, 3, 31), (1, 10)),
        (date(2025, 4, 1), (2, 10)),
        (date(2026, 1, 15), (5, 10)),
        (date(2026, 12, 31), (8, 10)),
        (date(2027, 6, 30), (10, 10)),
        (date(2024, 12, 31), None),
        (date(2027, 7, 1), None),
        (date(2030, 1, 1), None),
    ],
)
def test_span_position(day: date, expected: tuple[int, int] | None) -> None:
    assert span_position(Quarter(2025, 1), Quarter(2027, 2), day) == expected


def test_span_position_of_a_one_quarter_span() -> None:
    q = Quarter(2026, 3)
    assert span_position(q, q, date(2026, 8, 1)) == (1, 1)
    assert span_position(q, q, date(2026, 6, 30)) is None
    assert span_position(q, q, date(2026, 10, 1)) is None
