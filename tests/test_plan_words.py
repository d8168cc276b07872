"""German words for plan changes: due dates, AP spans and meetings, at a fixed day."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.plan_words import MeetingSpec, WordsError, parse_day, parse_meeting, parse_span
from workflows.quarters import Quarter

TODAY = date(2026, 11, 26)  # a Thursday in Q4 2026, as in the end-to-end tests
UNREADABLE_RULE = ("So geht es zum Beispiel: „Steuerungsgruppe jeden 2. Mittwoch im Quartal "
                   "14:00“ oder „Jour fixe jeden Dienstag 10:00“.")


def D(y: int, m: int, d: int) -> date:
    """Short for readable tables."""
    return date(y, m, d)


def T(y: int, m: int, d: int, hh: int, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm)  # noqa: DTZ001 - meetings run on naive local time


def first_three(spec: MeetingSpec) -> list[datetime]:
    """What dateutil makes of the rule: its first three occurrences."""
    return list(itertools.islice(rrulestr(spec.rrule, dtstart=spec.dtstart), 3))


# -- due dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "due"), [
    ("15.05.2026", D(2026, 5, 15)),
    ("15.5.2026", D(2026, 5, 15)),
    ("15.5.26", D(2026, 5, 15)),
    ("1.3.2027", D(2027, 3, 1)),
    ("01.03.27", D(2027, 3, 1)),
    ("15. 5. 2026", D(2026, 5, 15)),
    ("15. Mai 2026", D(2026, 5, 15)),
    ("15. März 2027", D(2027, 3, 15)),
    ("15. Maerz 2027", D(2027, 3, 15)),
    ("15.März 2027", D(2027, 3, 15)),
    ("3. Okt. 2026", D(2026, 10, 3)),
    ("2026-05-15", D(2026, 5, 15)),
    ("29.02.2028", D(2028, 2, 29)),  # a leap year
    ("Q2 2026", D(2026, 6, 30)),  # a quarter: its last day, as the plan reads it
    ("q2/2026", D(2026, 6, 30)),
    ("2/2026", D(2026, 6, 30)),
    ("2. Quartal 2026", D(2026, 6, 30)),
    ("II/2026", D(2026, 6, 30)),
    ("IV. Quartal 2026", D(2026, 12, 31)),
    ("Q1/27", D(2027, 3, 31)),
    ("Juni 2026", D(2026, 6, 30)),  # a month: its last day, not today's day of it
    ("Ende Juni 2026", D(2026, 6, 30)),
    ("Ende Februar 2028", D(2028, 2, 29)),
    ("Ende Q3 2026", D(2026, 9, 30)),
    ("am 15.05.2026", D(2026, 5, 15)),
    ("bis zum 31.03.2027", D(2027, 3, 31)),
    ("  15.05.2026  ", D(2026, 5, 15)),
    ("1.1.2000", D(2000, 1, 1)),
    ("31.12.2100", D(2100, 12, 31)),
])
def test_parse_day(text: str, due: date) -> None:
    assert parse_day(text, TODAY) == due


@pytest.mark.parametrize(("text", "message"), [
    ("31.02.2026", "Den 31.02.2026 gibt es nicht."),
    ("29.02.2027", "Den 29.02.2027 gibt es nicht."),
    ("32.1.2026", "Den 32.01.2026 gibt es nicht."),
    ("15.13.2026", "Den 15.13.2026 gibt es nicht."),
    ("0.5.2026", "Den 00.05.2026 gibt es nicht."),
    ("31. April 2027", "Den 31.04.2027 gibt es nicht."),
    ("morgen vielleicht",
     "„morgen vielleicht“ verstehe ich nicht als Datum – zum Beispiel 15.05.2026 oder Q2 2026."),
    ("Q5 2026", "„Q5 2026“ verstehe ich nicht als Datum – zum Beispiel 15.05.2026 oder Q2 2026."),
    ("15.5.6", "„15.5.6“ verstehe ich nicht als Datum – zum Beispiel 15.05.2026 oder Q2 2026."),
    ("Ende 15.05.2026",
     "„Ende 15.05.2026“ verstehe ich nicht als Datum – zum Beispiel 15.05.2026 oder Q2 2026."),
    ("", "Bitte ein Datum angeben – zum Beispiel 15.05.2026 oder Q2 2026."),
    # no year: never taken from today; the example names the next such day
    ("15.05.", "Bitte das Jahr dazuschreiben, zum Beispiel 15.05.2027."),
    ("15. Dezember", "Bitte das Jahr dazuschreiben, zum Beispiel 15.12.2026."),
    ("15.05.1999", "Das Jahr 1999 liegt außerhalb der Jahre 2000 bis 2100."),
    ("1.1.2101", "Das Jahr 2101 liegt außerhalb der Jahre 2000 bis 2100."),
    ("Q1 9999", "Das Jahr 9999 liegt außerhalb der Jahre 2000 bis 2100."),
    ("15.05.99999", "Das Jahr 99999 liegt außerhalb der Jahre 2000 bis 2100."),
])
def test_parse_day_refuses(text: str, message: str) -> None:
    with pytest.raises(WordsError) as caught:
        parse_day(text, TODAY)
    assert caught.value.message == message
    assert str(caught.value) == message


# -- spans -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "start", "end"), [
    ("Q2 2025 bis Q4 2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("Q2/2025 – Q4/2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("Q2/2025–Q4/2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("Q2 2025 - Q4 2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("Q2 2025-Q4 2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("01.03.2025 bis 30.06.2027", Quarter(2025, 1), Quarter(2027, 2)),  # their quarters
    ("01.03.2025-30.06.2027", Quarter(2025, 1), Quarter(2027, 2)),
    ("vom 01.03.2025 bis zum 30.06.2027", Quarter(2025, 1), Quarter(2027, 2)),
    ("2025-03-01 bis 2027-06-30", Quarter(2025, 1), Quarter(2027, 2)),
    ("von Q1 2025 bis Q2 2027", Quarter(2025, 1), Quarter(2027, 2)),
    ("2. Quartal 2025 bis 4. Quartal 2026", Quarter(2025, 2), Quarter(2026, 4)),
    ("März 2025 bis Juni 2027", Quarter(2025, 1), Quarter(2027, 2)),
    ("Q2 bis Q4 2026", Quarter(2026, 2), Quarter(2026, 4)),  # the start takes the end's year
    ("Q3 2026 bis Q3 2026", Quarter(2026, 3), Quarter(2026, 3)),
    ("2025-Q2 bis 2026-Q4", Quarter(2025, 2), Quarter(2026, 4)),
])
def test_parse_span(text: str, start: Quarter, end: Quarter) -> None:
    assert parse_span(text, TODAY) == (start, end)


@pytest.mark.parametrize(("text", "message"), [
    ("Q4 2026 bis Q1 2025", "Das Ende (Q1 2025) liegt vor dem Anfang (Q4 2026)."),
    ("30.06.2027 bis 01.03.2025", "Das Ende (Q1 2025) liegt vor dem Anfang (Q2 2027)."),
    ("Q2 2025", "„Q2 2025“ verstehe ich nicht als Zeitraum – zum Beispiel „Q2 2025 bis Q4 "
                "2026“ oder „01.03.2025 bis 30.06.2027“."),
    ("Q2 2025 bis irgendwann", "„irgendwann“ verstehe ich nicht als das Ende eines Zeitraums – "
                               "zum Beispiel „Q2 2025 bis Q4 2026“ oder „01.03.2025 bis "
                               "30.06.2027“."),
    ("bald bis Q4 2026", "„bald“ verstehe ich nicht als den Anfang eines Zeitraums – zum "
                         "Beispiel „Q2 2025 bis Q4 2026“ oder „01.03.2025 bis 30.06.2027“."),
    ("31.02.2025 bis Q4 2026", "Den 31.02.2025 gibt es nicht."),
    ("Q1 2025 bis Q1 2101", "Das Jahr 2101 liegt außerhalb der Jahre 2000 bis 2100."),
])
def test_parse_span_refuses(text: str, message: str) -> None:
    with pytest.raises(WordsError) as caught:
        parse_span(text, TODAY)
    assert caught.value.message == message


# -- one-off meetings --------------------------------------------------------------------


@pytest.mark.parametrize(("text", "title", "dtstart", "place", "words"), [
    ("Bildungskonferenz am 18.03.2027 14:00", "Bildungskonferenz", T(2027, 3, 18, 14), None,
     "einmalig am Do., 18.03.2027, 14:00 Uhr"),
    ("Bildungskonferenz am 18.03.2027 um 14 Uhr im Rathaus", "Bildungskonferenz",
     T(2027, 3, 18, 14), "Rathaus", "einmalig am Do., 18.03.2027, 14:00 Uhr"),
    ("BiKo am 18.3.27 14:00 Uhr, Ratssaal", "BiKo", T(2027, 3, 18, 14), "Ratssaal",
     "einmalig am Do., 18.03.2027, 14:00 Uhr"),
    ("BiKo am Do., 18.03.2027, 14:30 Uhr", "BiKo", T(2027, 3, 18, 14, 30), None,
     "einmalig am Do., 18.03.2027, 14:30 Uhr"),
    ("Bildungskonferenz 18. März 2027 9.30 Uhr in der Aula", "Bildungskonferenz",
     T(2027, 3, 18, 9, 30), "Aula", "einmalig am Do., 18.03.2027, 9:30 Uhr"),
    ("BiKo einmalig am 2027-03-18 um 9", "BiKo", T(2027, 3, 18, 9), None,
     "einmalig am Do., 18.03.2027, 9:00 Uhr"),
    ("„Bildungskonferenz 2027“ am 18.03.2027 14:00, Rathaus, Ratssaal", "Bildungskonferenz 2027",
     T(2027, 3, 18, 14), "Rathaus, Ratssaal", "einmalig am Do., 18.03.2027, 14:00 Uhr"),
    # a meeting that already took place may be recorded; the plan checks the programme
    ("BiKo am 12.11.2025 10:00", "BiKo", T(2025, 11, 12, 10), None,
     "einmalig am Mi., 12.11.2025, 10:00 Uhr"),
])
def test_one_off_meeting(text: str, title: str, dtstart: datetime, place: str | None,
                         words: str) -> None:
    spec = parse_meeting(text, TODAY)
    assert spec == MeetingSpec(title, dtstart, "FREQ=DAILY;COUNT=1", place, True, words)
    assert list(rrulestr(spec.rrule, dtstart=spec.dtstart)) == [dtstart]


def test_one_off_with_a_time_span_keeps_its_duration() -> None:
    spec = parse_meeting("Bildungskonferenz am 18.03.2027 von 14 bis 16:30 Uhr im Rathaus",
                         TODAY)
    assert (spec.title, spec.dtstart, spec.place) == ("Bildungskonferenz", T(2027, 3, 18, 14),
                                                      "Rathaus")
    assert spec.duration == timedelta(hours=2, minutes=30)
    assert spec.words == "einmalig am Do., 18.03.2027, 14:00–16:30 Uhr"


# -- recurring meetings ------------------------------------------------------------------

# dtstart is the first occurrence on or after TODAY (Thursday, 26.11.2026) or the "ab" day.
@pytest.mark.parametrize(("text", "title", "rrule", "first", "words"), [
    ("Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00", "Steuerungsgruppe",
     "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE",
     [T(2027, 1, 13, 14), T(2027, 4, 14, 14), T(2027, 7, 14, 14)],
     "jeden 2. Mittwoch im Quartal, 14:00 Uhr"),
    ("Steuerungsgruppe vierteljährlich am zweiten Mittwoch um 14 Uhr", "Steuerungsgruppe",
     "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE",
     [T(2027, 1, 13, 14), T(2027, 4, 14, 14), T(2027, 7, 14, 14)],
     "jeden 2. Mittwoch im Quartal, 14:00 Uhr"),
    ("Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00 ab 01.04.2027", "Steuerungsgruppe",
     "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE",
     [T(2027, 4, 14, 14), T(2027, 7, 14, 14), T(2027, 10, 13, 14)],
     "jeden 2. Mittwoch im Quartal, 14:00 Uhr, ab Mi., 14.04.2027"),
    ("Bildungsbeirat jeden letzten Freitag im Quartal 13:00", "Bildungsbeirat",
     "FREQ=MONTHLY;INTERVAL=3;BYDAY=-1FR",
     [T(2026, 12, 25, 13), T(2027, 3, 26, 13), T(2027, 6, 25, 13)],
     "jeden letzten Freitag im Quartal, 13:00 Uhr"),
    ("Jour fixe jeden Dienstag 10:00", "Jour fixe", "FREQ=WEEKLY;BYDAY=TU",
     [T(2026, 12, 1, 10), T(2026, 12, 8, 10), T(2026, 12, 15, 10)],
     "jeden Dienstag, 10:00 Uhr"),
    ("Jour fixe dienstags um 10 Uhr", "Jour fixe", "FREQ=WEEKLY;BYDAY=TU",
     [T(2026, 12, 1, 10), T(2026, 12, 8, 10), T(2026, 12, 15, 10)],
     "jeden Dienstag, 10:00 Uhr"),
    ("Jour fixe wöchentlich am Di. 10:00 im Rathaus", "Jour fixe", "FREQ=WEEKLY;BYDAY=TU",
     [T(2026, 12, 1, 10), T(2026, 12, 8, 10), T(2026, 12, 15, 10)],
     "jeden Dienstag, 10:00 Uhr"),
    ("Jour fixe jeden Donnerstag 9:00", "Jour fixe", "FREQ=WEEKLY;BYDAY=TH",  # today counts
     [T(2026, 11, 26, 9), T(2026, 12, 3, 9), T(2026, 12, 10, 9)],
     "jeden Donnerstag, 9:00 Uhr"),
    ("Jour fixe alle 2 Wochen Donnerstag 9:30", "Jour fixe", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",
     [T(2026, 11, 26, 9, 30), T(2026, 12, 10, 9, 30), T(2026, 12, 24, 9, 30)],
     "alle 2 Wochen am Donnerstag, 9:30 Uhr, ab Do., 26.11.2026"),
    ("Jour fixe 14-tägig dienstags 9:30", "Jour fixe", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",
     [T(2026, 12, 1, 9, 30), T(2026, 12, 15, 9, 30), T(2026, 12, 29, 9, 30)],
     "alle 2 Wochen am Dienstag, 9:30 Uhr, ab Di., 01.12.2026"),
    ("AK Schule-Wirtschaft alle drei Wochen Montag 16 Uhr", "AK Schule-Wirtschaft",
     "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO",
     [T(2026, 11, 30, 16), T(2026, 12, 21, 16), T(2027, 1, 11, 16)],
     "alle 3 Wochen am Montag, 16:00 Uhr, ab Mo., 30.11.2026"),
    ("AG Übergang monatlich am 1. Montag 10:00", "AG Übergang", "FREQ=MONTHLY;BYDAY=1MO",
     [T(2026, 12, 7, 10), T(2027, 1, 4, 10), T(2027, 2, 1, 10)],
     "jeden 1. Montag im Monat, 10:00 Uhr"),
    ("AK Schule-Wirtschaft jeden ersten Montag im Monat um 10 Uhr", "AK Schule-Wirtschaft",
     "FREQ=MONTHLY;BYDAY=1MO",
     [T(2026, 12, 7, 10), T(2027, 1, 4, 10), T(2027, 2, 1, 10)],
     "jeden 1. Montag im Monat, 10:00 Uhr"),
    ("Bildungsbeirat jeden letzten Freitag im Monat 13:00", "Bildungsbeirat",
     "FREQ=MONTHLY;BYDAY=-1FR",
     [T(2026, 11, 27, 13), T(2026, 12, 25, 13), T(2027, 1, 29, 13)],
     "jeden letzten Freitag im Monat, 13:00 Uhr"),
    ("AG jeden 1. und 3. Montag im Monat 10:00", "AG", "FREQ=MONTHLY;BYDAY=1MO,3MO",
     [T(2026, 12, 7, 10), T(2026, 12, 21, 10), T(2027, 1, 4, 10)],
     "jeden 1. und 3. Montag im Monat, 10:00 Uhr"),
    ("AG jeden vorletzten Donnerstag im Monat 15:00", "AG", "FREQ=MONTHLY;BYDAY=-2TH",
     [T(2026, 12, 24, 15), T(2027, 1, 21, 15), T(2027, 2, 18, 15)],
     "jeden vorletzten Donnerstag im Monat, 15:00 Uhr"),
    ("Beirat monatlich am 15. 10:00", "Beirat", "FREQ=MONTHLY;BYMONTHDAY=15",
     [T(2026, 12, 15, 10), T(2027, 1, 15, 10), T(2027, 2, 15, 10)],
     "jeden Monat am 15., 10:00 Uhr"),
    ("Beirat monatlich am letzten Tag 16:00", "Beirat", "FREQ=MONTHLY;BYMONTHDAY=-1",
     [T(2026, 11, 30, 16), T(2026, 12, 31, 16), T(2027, 1, 31, 16)],
     "jeden Monat am letzten Tag, 16:00 Uhr"),
    ("Team jeden Montag und Donnerstag 8:30", "Team", "FREQ=WEEKLY;BYDAY=MO,TH",
     [T(2026, 11, 26, 8, 30), T(2026, 11, 30, 8, 30), T(2026, 12, 3, 8, 30)],
     "jeden Montag und Donnerstag, 8:30 Uhr"),
    ("Team jeden Freitag, Montag und Mittwoch 8:00", "Team", "FREQ=WEEKLY;BYDAY=MO,WE,FR",
     [T(2026, 11, 27, 8), T(2026, 11, 30, 8), T(2026, 12, 2, 8)],
     "jeden Montag, Mittwoch und Freitag, 8:00 Uhr"),
    ("Team werktags 9:00", "Team", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
     [T(2026, 11, 26, 9), T(2026, 11, 27, 9), T(2026, 11, 30, 9)],
     "werktags (Montag bis Freitag), 9:00 Uhr"),
    ("Team Mo-Fr 9:00", "Team", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
     [T(2026, 11, 26, 9), T(2026, 11, 27, 9), T(2026, 11, 30, 9)],
     "werktags (Montag bis Freitag), 9:00 Uhr"),
    ("Lagebesprechung täglich 7:45", "Lagebesprechung", "FREQ=DAILY",
     [T(2026, 11, 26, 7, 45), T(2026, 11, 27, 7, 45), T(2026, 11, 28, 7, 45)],
     "täglich, 7:45 Uhr"),
    ("Jour fixe jeden Dienstag 10:00 ab 12.01.2027 bis 30.06.2027", "Jour fixe",
     "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T235959",
     [T(2027, 1, 12, 10), T(2027, 1, 19, 10), T(2027, 1, 26, 10)],
     "jeden Dienstag, 10:00 Uhr, ab Di., 12.01.2027, bis 30.06.2027"),
    ("Jour fixe jeden Dienstag 10:00 ab Januar 2027 bis Q2 2027", "Jour fixe",
     "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T235959",
     [T(2027, 1, 5, 10), T(2027, 1, 12, 10), T(2027, 1, 19, 10)],
     "jeden Dienstag, 10:00 Uhr, ab Di., 05.01.2027, bis 30.06.2027"),
    # a title holding a word that may start a rule: the title runs to where a rule reads
    ("Bildung für alle jeden Dienstag 10:00", "Bildung für alle", "FREQ=WEEKLY;BYDAY=TU",
     [T(2026, 12, 1, 10), T(2026, 12, 8, 10), T(2026, 12, 15, 10)],
     "jeden Dienstag, 10:00 Uhr"),
])
def test_recurring_meeting(text: str, title: str, rrule: str, first: list[datetime],
                           words: str) -> None:
    spec = parse_meeting(text, TODAY)
    assert (spec.title, spec.rrule, spec.dtstart, spec.one_off, spec.words) == (
        title, rrule, first[0], False, words)
    assert first_three(spec) == first  # the rule means what the words say


def test_recurring_meeting_with_place_and_time_span() -> None:
    spec = parse_meeting("Jour fixe jeden Dienstag 10:00–11:30 Uhr, Raum 3.12", TODAY)
    assert (spec.title, spec.rrule, spec.place) == ("Jour fixe", "FREQ=WEEKLY;BYDAY=TU",
                                                    "Raum 3.12")
    assert spec.dtstart == T(2026, 12, 1, 10)
    assert spec.duration == timedelta(hours=1, minutes=30)
    assert spec.words == "jeden Dienstag, 10:00–11:30 Uhr"


def test_every_two_weeks_starts_on_the_next_of_its_days() -> None:
    """On a Wednesday, "alle 2 Wochen Montag und Donnerstag" starts tomorrow, not in 2 weeks."""
    spec = parse_meeting("Jour fixe alle 2 Wochen Montag und Donnerstag 9:00", D(2026, 11, 25))
    assert spec.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH"
    assert first_three(spec) == [T(2026, 11, 26, 9), T(2026, 12, 7, 9), T(2026, 12, 10, 9)]


def test_until_ends_the_series_on_its_day() -> None:
    spec = parse_meeting("Jour fixe jeden Dienstag 10:00 bis 15.12.2026", TODAY)
    assert list(rrulestr(spec.rrule, dtstart=spec.dtstart)) == [
        T(2026, 12, 1, 10), T(2026, 12, 8, 10), T(2026, 12, 15, 10)]


# -- meetings it refuses -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("Jour fixe irgendwann 10:00",
     f"Die Regel „Jour fixe irgendwann 10:00“ verstehe ich nicht. {UNREADABLE_RULE}"),
    ("Jour fixe jeden Dienstag im Monat 10:00",
     f"Die Regel „Jour fixe jeden Dienstag im Monat 10:00“ verstehe ich nicht. "
     f"{UNREADABLE_RULE}"),
    ("FREQ=WEEKLY;BYDAY=TU",  # never a typed RRULE
     f"Die Regel „FREQ=WEEKLY;BYDAY=TU“ verstehe ich nicht. {UNREADABLE_RULE}"),
    ("Jour fixe jeden Dienstag",
     "Um wie viel Uhr? Bitte die Uhrzeit dazuschreiben, zum Beispiel „Jour fixe jeden "
     "Dienstag 10:00“."),
    ("jeden Dienstag 10:00",
     "Wie heißt die Sitzung? Bitte den Namen vor die Regel schreiben, zum Beispiel „Jour fixe "
     "jeden Dienstag 10:00“."),
    ("am 18.03.2027 14:00",
     "Wie heißt die Sitzung? Bitte den Namen vor die Regel schreiben, zum Beispiel „Jour fixe "
     "am 18.03.2027 14:00“."),
    ("",
     "Bitte Name, Tag und Uhrzeit der Sitzung angeben, zum Beispiel „Bildungskonferenz am "
     "18.03.2027 14:00“, „Jour fixe jeden Dienstag 10:00“ oder „AG Übergang monatlich am 1. "
     "Montag 10:00“."),
    ("Jour fixe jeden 2. Mittwoch 14:00",
     "„jeden 2. Mittwoch“ ist nicht eindeutig: bitte „jeden 2. Mittwoch im Monat“ oder „jeden "
     "2. Mittwoch im Quartal“ schreiben, oder für jede zweite Woche „alle 2 Wochen Mittwoch“."),
    ("Jour fixe am Dienstag 10:00",
     "„am Dienstag“ sagt nicht, welcher Dienstag: für eine Reihe bitte „jeden Dienstag“ "
     "schreiben, für einen einzelnen Termin das Datum, zum Beispiel „am 18.03.2027“."),
    ("Jour fixe alle 2 Wochen 9:00",
     "An welchem Tag? Bitte den Wochentag dazuschreiben, zum Beispiel „jeden Dienstag 10:00“ "
     "oder „alle 2 Wochen Donnerstag 9:30“."),
    ("AG monatlich 10:00",
     "An welchem Tag? Bitte den Wochentag dazuschreiben, zum Beispiel „monatlich am 1. Montag "
     "10:00“."),
    ("Jour fixe jeden Dienstag 25:00", "Die Uhrzeit 25:00 gibt es nicht."),
    ("Jour fixe jeden Dienstag 10:75 Uhr", "Die Uhrzeit 10:75 gibt es nicht."),
    ("Jour fixe jeden Dienstag 16–14 Uhr",
     "Das Ende 14:00 Uhr liegt nicht nach dem Beginn 16:00 Uhr."),
    # more than once a day cannot be written
    ("Jour fixe jeden Dienstag 10:00 und 14:00",
     "Bitte nur eine Uhrzeit angeben: eine Sitzung tagt höchstens einmal am Tag."),
    ("Jour fixe stündlich 10:00",
     "Eine Sitzung tagt höchstens einmal am Tag – zum Beispiel „Jour fixe jeden Dienstag 10:00“ "
     "oder „Jour fixe täglich 9:00“."),
    ("Jour fixe alle 2 Stunden ab 9 Uhr",
     "Eine Sitzung tagt höchstens einmal am Tag – zum Beispiel „Jour fixe jeden Dienstag 10:00“ "
     "oder „Jour fixe täglich 9:00“."),
    ("Jour fixe 2x täglich 9:00",
     "Eine Sitzung tagt höchstens einmal am Tag – zum Beispiel „Jour fixe jeden Dienstag 10:00“ "
     "oder „Jour fixe täglich 9:00“."),
    ("Jour fixe alle 0 Wochen Montag 9:00",
     "„alle 0 Wochen“ geht nicht – bitte 1 bis 52 Wochen, zum Beispiel „alle 2 Wochen "
     "Donnerstag 9:30“."),
    ("AG jeden 6. Montag im Monat 10:00", "Einen 6. Montag gibt es in keinem Monat."),
    ("Steuerungsgruppe jeden 5. Mittwoch im Quartal 14:00",
     "Im Quartal geht der 1. bis 4., der vorletzte oder der letzte Mittwoch – zum Beispiel "
     "„jeden 2. Mittwoch im Quartal 14:00“."),
    ("Beirat monatlich am 31. 10:00",
     "Den 31. gibt es nicht in jedem Monat – für das Monatsende bitte „monatlich am letzten "
     "Tag“ schreiben."),
    ("BiKo am 31.02.2027 14:00", "Den 31.02.2027 gibt es nicht."),
    ("BiKo am 18.03. 14:00", "Bitte das Jahr dazuschreiben, zum Beispiel 18.03.2027."),
    ("BiKo am 18.03.2101 14:00", "Das Jahr 2101 liegt außerhalb der Jahre 2000 bis 2100."),
    ("BiKo am Mittwoch, 18.03.2027 14:00", "Der 18.03.2027 ist ein Donnerstag, kein Mittwoch."),
    ("BiKo am Q1 2027 14:00",
     "„q1 2027“ ist kein einzelner Tag – bitte ein Datum wie 18.03.2027 angeben."),
    ("BiKo am 18.03.2027 14:00 ab 01.01.2027",
     "Eine einmalige Sitzung hat kein „ab“ und kein „bis“ – für eine Reihe bitte die Regel "
     "nennen, zum Beispiel „jeden Dienstag“."),
    ("Jour fixe jeden Dienstag 10:00 bis 30.06.2026",
     "Bis 30.06.2026 gibt es keinen Termin „jeden Dienstag“ – der erste wäre am Di., "
     "01.12.2026."),
    ("Jour fixe jeden Dienstag 10:00 ab 01.01.2027 ab 01.02.2027",
     "Bitte nur ein „ab“-Datum angeben."),
])
def test_parse_meeting_refuses(text: str, message: str) -> None:
    with pytest.raises(WordsError) as caught:
        parse_meeting(text, TODAY)
    assert caught.value.message == message


# -- properties --------------------------------------------------------------------------

READABLE = [
    "Jour fixe jeden Dienstag 10:00", "Jour fixe alle 2 Wochen Donnerstag 9:30",
    "AG monatlich am 1. Montag 10:00", "Beirat jeden letzten Freitag im Monat 13:00",
    "Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00", "Team werktags 9:00",
    "Team täglich 9:00", "Beirat monatlich am letzten Tag 16:00",
    "Steuerung jeden letzten Freitag im Quartal 13:00", "Team jeden Montag und Donnerstag 8:30",
    "AK alle 3 Wochen Montag 16:00", "Beirat monatlich am 15. 10:00",
]


@pytest.mark.parametrize("today", [TODAY, D(2026, 12, 31), D(2027, 1, 1), D(2027, 3, 29),
                                   D(2027, 2, 28)])
@pytest.mark.parametrize("text", READABLE)
def test_dtstart_is_the_first_occurrence_on_or_after_today(text: str, today: date) -> None:
    """RFC 5545 counts dtstart as an occurrence and dateutil only when it matches: here both."""
    spec = parse_meeting(text, today)
    assert spec.dtstart.date() >= today
    rule = rrulestr(spec.rrule, dtstart=spec.dtstart)
    assert rule[0] == spec.dtstart
    assert rule.before(datetime.combine(today, spec.dtstart.time())) is None


@pytest.mark.parametrize("text", READABLE)
def test_at_most_one_meeting_a_day(text: str) -> None:
    spec = parse_meeting(text, TODAY)
    times = list(itertools.islice(rrulestr(spec.rrule, dtstart=spec.dtstart), 60))
    assert all(b - a >= timedelta(days=1) for a, b in itertools.pairwise(times))
    assert "HOURLY" not in spec.rrule and "MINUTELY" not in spec.rrule


def test_quarterly_rule_is_the_plans_form() -> None:
    """As data/plan.toml writes the Steuerungsgruppe: dtstart in a quarter's first month."""
    spec = parse_meeting("Steuerungsgruppe jeden 2. Mittwoch im Quartal 14:00", D(2027, 2, 1))
    assert spec.rrule == "FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE"
    assert spec.dtstart == T(2027, 4, 14, 14)
    assert spec.dtstart.month in (1, 4, 7, 10)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("0123456789.:-/ ,qQäaemnrbistuhgjdwoc")),
               max_size=40))
def test_any_text_gives_a_result_or_a_german_sentence(text: str) -> None:
    for parse in (parse_day, parse_span, parse_meeting):
        try:
            parse(text, TODAY)
        except WordsError as err:
            assert err.message and err.message[-1] in ".“"
