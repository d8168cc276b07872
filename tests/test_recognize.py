"""Reading progress reports out of German team-chat messages (issue 3).

A table of messages as the team writes them, the "earliest open BiKo" rule,
dates written in messages, and property-based tests that recognition never
raises and only ever reports what exists in the plan.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import TEST_PLAN
from workflows.plan import load_plan
from workflows.progress import STATES
from workflows.recognize import Recognized, recognize, written_date

PLAN = load_plan(TEST_PLAN)
TODAY = date(2026, 11, 26)
NOTHING_REACHED: Mapping[str, date] = {}
BIKOS = ("M3.1", "M3.2", "M3.3", "M3.4")
BIKO_TITLE = "BiKo hat stattgefunden"


def ap(state: str | None = None, percent: int | None = None) -> tuple[str | None, int | None]:
    """Expected (state, percent) of one AP."""
    return state, percent


@dataclass(frozen=True)
class Case:
    """One chat message and what it reports."""

    id: str
    text: str
    aps: Mapping[str, tuple[str | None, int | None]] = field(default_factory=dict)  # in order
    milestones: tuple[str, ...] = ()
    question: bool = False
    reached_on: date | None = None
    unknown: tuple[int, ...] = ()
    bug: str | None = None


CASES = [
    # -- the AP forms of the spec ------------------------------------------------
    Case("colon", "AP3: Einladungen für die BiKo verschickt, läuft", {"AP3": ap("läuft")}),
    Case("space", "AP 3 läuft seit Montag", {"AP3": ap("läuft")}),
    Case("hashtag-emoji", "#AP3 begonnen 💪", {"AP3": ap("läuft")}),
    Case("leading-zero", "AP03 in Arbeit", {"AP3": ap("läuft")}),
    Case("lower-case", "ap3 gestartet", {"AP3": ap("läuft")}),
    Case("arbeitspaket", "Arbeitspaket 3 verzögert sich um zwei Wochen",
         {"AP3": ap("verzögert")}),
    Case("plus-two-aps", "AP3 + AP8: Verzug wegen Krankheit",
         {"AP3": ap("verzögert"), "AP8": ap("verzögert")}),
    Case("slash-two-aps", "AP 3/8: gefährdet, der Raum fehlt",
         {"AP3": ap("verzögert"), "AP8": ap("verzögert")}),
    Case("plus-bare-number", "AP 3 + 8: läuft", {"AP3": ap("läuft"), "AP8": ap("läuft")}),
    Case("slash-three", "AP 3/8/9: erledigt",
         {"AP3": ap("abgeschlossen"), "AP8": ap("abgeschlossen"), "AP9": ap("abgeschlossen")}),
    Case("ampersand", "AP3 & AP5: erledigt",
         {"AP3": ap("abgeschlossen"), "AP5": ap("abgeschlossen")}),
    Case("und", "AP3 und AP 5 erledigt",
         {"AP3": ap("abgeschlossen"), "AP5": ap("abgeschlossen")}),
    Case("arbeitspakete-plural", "Arbeitspakete 3 und 4 laufen",
         {"AP3": ap("läuft"), "AP4": ap("läuft")}),
    Case("arbeitspaket-plus", "Arbeitspaket 3+4 laufen", {"AP3": ap("läuft"), "AP4": ap("läuft")}),
    Case("slash-spaced", "AP 8 / AP 9 laufen", {"AP8": ap("läuft"), "AP9": ap("läuft")}),
    Case("odd-spacing", "  ap   2   :   läuft  ", {"AP2": ap("läuft")}),
    Case("hashtag-lower", "#ap12 läuft", {"AP12": ap("läuft")}),
    Case("two-digit-ap", "Arbeitspaket 13 begonnen", {"AP13": ap("läuft")}),
    # -- state words -------------------------------------------------------------
    Case("verschoben", "AP 4 verschoben auf Januar", {"AP4": ap("verzögert")}),
    Case("blockiert", "AP 5 blockiert – warten auf Freigabe vom Amt", {"AP5": ap("blockiert")}),
    Case("blockiert-emoji", "AP 11 blockiert 🚧 weil Daten fehlen", {"AP11": ap("blockiert")}),
    Case("zurueckgestellt-umlaut", "AP6 zurückgestellt bis nach der Wahl",
         {"AP6": ap("zurückgestellt")}),
    Case("pausiert", "AP 6 pausiert", {"AP6": ap("zurückgestellt")}),
    Case("ruht", "AP 6 ruht", {"AP6": ap("zurückgestellt")}),
    Case("abgeschlossen-emoji", "AP7 abgeschlossen 🎉", {"AP7": ap("abgeschlossen")}),
    Case("erledigt-check", "ap 9: erledigt ✅", {"AP9": ap("abgeschlossen")}),
    Case("fertig-exclaim", "AP10 fertig!", {"AP10": ap("abgeschlossen")}),
    Case("laeuft-ae", "AP 3 laeuft", {"AP3": ap("läuft")}),
    Case("shouting", "ap3 LÄUFT", {"AP3": ap("läuft")}),
    Case("attention-wins", "AP3: Konzept fertig, Umsetzung läuft", {"AP3": ap("läuft")}),
    Case("verzug-with-weeks", "Update AP 3: Verzug 2 Wochen", {"AP3": ap("verzögert")}),
    Case("no-state-word", "AP7 – Kooperationsvereinbarung unterschrieben 👍", {"AP7": ap()}),
    # -- several APs with different states, line breaks ----------------------------
    Case("line-breaks", "AP3:läuft\nAP8: blockiert",
         {"AP3": ap("läuft"), "AP8": ap("blockiert")}),
    Case("three-in-a-row", "AP3 läuft, AP8 blockiert, AP 9 zu 30 Prozent",
         {"AP3": ap("läuft"), "AP8": ap("blockiert"), "AP9": ap(percent=30)}),
    Case("sentences", "AP1 abgeschlossen. AP2 läuft zu 80 %. AP3 blockiert.",
         {"AP1": ap("abgeschlossen"), "AP2": ap("läuft", 80), "AP3": ap("blockiert")}),
    # -- percentages -------------------------------------------------------------
    Case("percent-spaced", "AP 4: 60 % der Inhalte eingepflegt", {"AP4": ap(percent=60)}),
    Case("percent-tight", "AP4 60%", {"AP4": ap(percent=60)}),
    Case("zu-prozent", "AP 4 zu 60 Prozent umgesetzt", {"AP4": ap(percent=60)}),
    Case("prozent", "AP 4: 60 Prozent", {"AP4": ap(percent=60)}),
    Case("percent-exclaim", "AP 4: 45%!", {"AP4": ap(percent=45)}),
    Case("percent-last-wins", "AP4 von 20 % auf 60 % gestiegen", {"AP4": ap(percent=60)}),
    Case("percent-100", "AP3 100%", {"AP3": ap(percent=100)}),
    Case("percent-0", "AP3 0 %", {"AP3": ap(percent=0)}),
    Case("percent-over-100", "AP3: Anmeldungen bei 150%", {"AP3": ap()}),
    Case("percent-after-date", "AP 3 am 12.06. 100 % erreicht", {"AP3": ap(percent=100)}),
    # -- numbers that are not percentages -------------------------------------------
    Case("date-and-count", "AP 2: 3 Termine am 12.06.2026 vereinbart", {"AP2": ap()}),
    Case("counts", "AP 10: 25 Teilnehmende, 3 Termine", {"AP10": ap()}),
    Case("short-date", "AP 5: 12.06.26 Workshop, läuft", {"AP5": ap("läuft")}),
    # -- negations ---------------------------------------------------------------
    Case("nicht-abgeschlossen", "AP 4 nicht abgeschlossen, Restarbeiten", {"AP4": ap()}),
    Case("noch-nicht-fertig", "AP 4 noch nicht fertig, läuft aber", {"AP4": ap("läuft")}),
    Case("kein-verzug", "AP 8: kein Verzug", {"AP8": ap()}),
    Case("kein-verzug-laeuft", "AP12: kein Verzug, läuft", {"AP12": ap("läuft")}),
    Case("nicht-mehr-blockiert", "AP 3 nicht mehr blockiert, läuft wieder", {"AP3": ap("läuft")}),
    # -- questions -----------------------------------------------------------------
    Case("question-wie", "Wie steht AP 7?", question=True),
    Case("question-ist", "Ist AP3 schon fertig?", question=True),
    Case("question-no-mark", "was ist mit AP3", question=True),
    Case("question-short", "AP 2 fertig?", question=True),
    # -- no AP, no milestone ----------------------------------------------------------
    Case("greeting", "Guten Morgen zusammen! ☕"),
    Case("thanks", "Danke euch! 🙏"),
    Case("html-no-ap", "<i>Raum 3</i> ist gebucht & bezahlt"),
    # -- HTML characters -------------------------------------------------------------
    Case("html", "<b>AP3</b> & Co läuft", {"AP3": ap("läuft")}),
    # -- unknown AP ---------------------------------------------------------------------
    Case("unknown-ap", "AP 14: läuft", unknown=(14,)),
    # -- milestones ---------------------------------------------------------------
    Case("leitbild", "Leitbild beschlossen", milestones=("M2.1",)),
    # a date picks the open BiKo due nearest to it (issue 14), not the earliest open one
    Case("biko-dated", "Die BiKo hat am 12.06.2026 stattgefunden", milestones=("M3.2",),
         reached_on=date(2026, 6, 12)),
    Case("biko-gestern", "BiKo hat gestern stattgefunden 🎉", milestones=("M3.3",),
         reached_on=date(2026, 11, 25)),
    Case("biko-caps", "DIE ERSTE BIKO HAT STATTGEFUNDEN", milestones=("M3.1",)),
    Case("bildungskonferenz", "Die erste Bildungskonferenz hat stattgefunden",
         milestones=("M3.1",)),
    Case("milestone-id", "Meilenstein M3.2 erreicht", milestones=("M3.2",)),
    Case("milestone-id-short", "M3.1 erreicht", milestones=("M3.1",)),
    Case("milestone-m13", "Meilenstein M13.1 erreicht", milestones=("M13.1",)),
    Case("bericht-fertig", "Bericht Fachkräfte ist fertig", milestones=("M13.1",)),
    Case("bericht-dated", "Der Bericht Fachkräfte wurde am 3.11.2026 vorgelegt",
         milestones=("M13.1",), reached_on=date(2026, 11, 3)),
    # the report is done, the AP is not (issue 14: only a statement about the AP closes it)
    Case("ap-and-milestone", "ap 13: Bericht Fachkräfte fertig", {"AP13": ap()},
         milestones=("M13.1",)),
    Case("ap-milestone-short-date", "AP 2: Leitbild beschlossen am 12.6.", {"AP2": ap()},
         milestones=("M2.1",), reached_on=date(2026, 6, 12)),
    Case("leitbild-two-digit-year", "Leitbild am 12.06.26 beschlossen", milestones=("M2.1",),
         reached_on=date(2026, 6, 12)),
    Case("milestone-invalid-date", "Leitbild beschlossen am 31.02.2026", milestones=("M2.1",)),
    Case("milestone-negated", "Die BiKo hat noch nicht stattgefunden"),
    Case("leitbild-negated", "Das Leitbild ist noch nicht beschlossen"),
    # -- formerly misread --------------------------------------------------------------
    Case("wie-besprochen", "Wie besprochen: AP 3 läuft.", {"AP3": ap("läuft")}),
    Case("was-fuer", "Was für eine Woche! AP7 ist fertig 🎉", {"AP7": ap("abgeschlossen")}),
    Case("ohne-verzug", "AP 1 ohne Verzug abgeschlossen", {"AP1": ap("abgeschlossen")}),
    Case("ohne-gegenstimmen", "Das Leitbild wurde ohne Gegenstimmen beschlossen",
         milestones=("M2.1",)),
    Case("laeuft-noch-nicht", "AP 13 läuft noch nicht", {"AP13": ap()}),
    Case("verzoegert-oe", "AP3 verzoegert", {"AP3": ap("verzögert")}),
    Case("gefaehrdet-ae", "AP 3 gefaehrdet", {"AP3": ap("verzögert")}),
    Case("zurueckgestellt-ue", "AP6 zurueckgestellt", {"AP6": ap("zurückgestellt")}),
    Case("fachkraefte-ae", "Bericht Fachkraefte ist fertig", milestones=("M13.1",)),
    Case("biko-programme", "AP 3: Programm für die BiKo veröffentlicht", {"AP3": ap()}),
    Case("leitbild-draft", "Leitbild-Entwurf vorgelegt, Beschluss im März"),
    Case("milestone-id-as-date", "Heute erreicht: Meilenstein 3.2.", milestones=("M3.2",)),
    Case("eszett-shifts-negation", "AP 10 Maßnahmen: noch nicht 50 %", {"AP10": ap()}),
]


def _params() -> list[object]:
    return [pytest.param(c, id=c.id,
                         marks=[pytest.mark.xfail(reason=f"BUG: {c.bug}", strict=True)]
                         if c.bug else [])
            for c in CASES]


def _as_table(rec: Recognized) -> dict[str, tuple[str | None, int | None]]:
    return {r.ap: (r.state, r.percent) for r in rec.aps}


def test_table_is_big_and_ids_are_unique() -> None:
    assert len([c for c in CASES if not c.bug]) >= 45
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({c.text for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_message(case: Case) -> None:
    rec = recognize(case.text, PLAN, NOTHING_REACHED, TODAY)
    assert [r.ap for r in rec.aps] == list(case.aps)
    assert _as_table(rec) == dict(case.aps)
    assert rec.milestones == case.milestones
    assert rec.is_question is case.question
    assert rec.reached_on == case.reached_on
    assert rec.unknown_aps == case.unknown
    assert rec.reports_anything is bool(case.aps or case.milestones or case.unknown)


@pytest.mark.parametrize(("text", "ap_id", "percent"), [
    ("AP4 ist zu 60 Prozent fertig", "AP4", 60),
    ("AP 5: 3 Termine im Dezember, 40 % erledigt", "AP5", 40),
])
def test_partly_done_is_not_finished(text: str, ap_id: str, percent: int) -> None:
    rec = recognize(text, PLAN, NOTHING_REACHED, TODAY)
    assert [r.ap for r in rec.aps] == [ap_id]
    assert rec.aps[0].percent == percent
    assert rec.aps[0].state != "abgeschlossen"


def test_question_reports_nothing_even_with_state_words() -> None:
    rec = recognize("Ist AP3 schon fertig? Und AP 4 zu 60 %?", PLAN, NOTHING_REACHED, TODAY)
    assert rec == Recognized(is_question=True)
    assert not rec.reports_anything


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_message_reports_nothing(text: str) -> None:
    assert recognize(text, PLAN, NOTHING_REACHED, TODAY) == Recognized()


def test_unknown_and_known_ap_together() -> None:
    rec = recognize("AP 3 und AP 14 laufen", PLAN, NOTHING_REACHED, TODAY)
    assert rec.unknown_aps == (14,)
    assert [r.ap for r in rec.aps] == ["AP3"]


def test_same_ap_twice_is_reported_once() -> None:
    rec = recognize("AP3 läuft. Nachtrag AP 3: 40 %", PLAN, NOTHING_REACHED, TODAY)
    assert [r.ap for r in rec.aps] == ["AP3"]


# -- the earliest open BiKo ---------------------------------------------------------


def _reached(*ids: str) -> dict[str, date]:
    return {mid: date(2026, 1, 1) for mid in ids}


@pytest.mark.parametrize(("reached", "expected"), [
    ((), "M3.1"),
    (("M3.1",), "M3.2"),
    (("M3.1", "M3.2"), "M3.3"),
    (("M3.1", "M3.2", "M3.3"), "M3.4"),
    (("M3.2",), "M3.1"),  # the earliest open one, not the one after the latest
    (("M3.1", "M3.3"), "M3.2"),
    (("M2.1", "M13.1"), "M3.1"),  # other milestones do not count
], ids=["none", "first", "two", "three", "gap-at-start", "gap-in-middle", "others"])
def test_biko_marks_earliest_open(reached: tuple[str, ...], expected: str) -> None:
    # Written near the first BiKo's due day: the earliest open one is also due nearest.
    rec = recognize("Die BiKo hat stattgefunden", PLAN, _reached(*reached), date(2025, 12, 10))
    assert rec.milestones == (expected,)
    assert rec.all_reached == ()


@pytest.mark.parametrize(("text", "reached", "choices"), [
    # 26.11.2026, no BiKo marked yet: the earliest open one is not the one due nearest
    ("Die BiKo hat stattgefunden", (), ("M3.1", "M3.2", "M3.3")),
    ("Die BiKo hat stattgefunden", ("M3.1",), ("M3.2", "M3.3")),
    # 30.09.2026 is 92 days after M3.2's due day and 92 before M3.3's
    ("Die BiKo hat am 30.09.2026 stattgefunden", ("M3.1",), ("M3.2", "M3.3")),
], ids=["none-marked", "one-marked", "date-between-two"])
def test_biko_asks_which_where_unclear(text: str, reached: tuple[str, ...],
                                       choices: tuple[str, ...]) -> None:
    rec = recognize(text, PLAN, _reached(*reached), TODAY)
    assert (rec.milestones, rec.choices) == ((), choices)
    assert rec.unsure is not None


def test_biko_marked_in_turn_needs_no_question() -> None:
    rec = recognize("Die BiKo hat stattgefunden", PLAN, _reached("M3.1", "M3.2"), TODAY)
    assert (rec.milestones, rec.choices, rec.unsure) == (("M3.3",), (), None)


def test_biko_all_reached() -> None:
    rec = recognize("Die BiKo hat stattgefunden", PLAN, _reached(*BIKOS), TODAY)
    assert rec.milestones == ()
    assert rec.all_reached == ("M3.4",)  # the group, by its last milestone
    assert rec.reached_on is None
    assert rec.reports_anything


def test_single_milestone_already_reached() -> None:
    rec = recognize("Leitbild beschlossen", PLAN, _reached("M2.1"), TODAY)
    assert rec.milestones == ()
    assert rec.all_reached == ("M2.1",)


def test_milestone_id_wins_over_earliest_open() -> None:
    rec = recognize("Meilenstein M3.3 erreicht", PLAN, NOTHING_REACHED, TODAY)
    assert rec.milestones == ("M3.3",)


def test_biko_with_ap_and_date() -> None:
    rec = recognize("AP3: Die 2. BiKo hat am 12.06.2026 stattgefunden", PLAN,
                    _reached("M3.1"), TODAY)
    assert rec.milestones == ("M3.2",)
    assert rec.reached_on == date(2026, 6, 12)
    assert [r.ap for r in rec.aps] == ["AP3"]


def test_future_date_is_reported_as_written() -> None:
    # recognize reports the date; refusing it is recording's job
    rec = recognize("Die BiKo hat am 12.12.2026 stattgefunden", PLAN, NOTHING_REACHED, TODAY)
    assert rec.milestones == ("M3.3",)  # the one due nearest to the date
    assert rec.reached_on == date(2026, 12, 12)


def test_no_date_without_milestone() -> None:
    rec = recognize("AP 5: gestern Workshop, läuft", PLAN, NOTHING_REACHED, TODAY)
    assert rec.reached_on is None


# -- written_date ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("am 12.06.2026", date(2026, 6, 12)),
    ("am 12.6.", date(2026, 6, 12)),
    ("am 12.06.26", date(2026, 6, 12)),
    ("am 1.3.2027", date(2027, 3, 1)),  # an explicit year is kept even in the future
    ("am 12.12.", date(2025, 12, 12)),  # without a year: the last such day, not a future one
    ("gestern", date(2026, 11, 25)),
    ("Gestern im Stadtrat", date(2026, 11, 25)),
    ("vorgestern", date(2026, 11, 24)),
    ("am 31.02.2026", None),
    ("3 Termine", None),
    ("60 %", None),
    ("Meilenstein M3.2", None),
    ("", None),
])
def test_written_date(text: str, expected: date | None) -> None:
    assert written_date(text, TODAY) == expected


def test_written_date_skips_an_invalid_date_for_a_valid_one() -> None:
    assert written_date("nicht am 31.02.2026 sondern am 2.3.2026", TODAY) == date(2026, 3, 2)


def test_written_date_29_february_without_year() -> None:
    # 29.02. in a year before a leap year: no crash, no date that does not exist
    assert written_date("am 29.2.", date(2027, 1, 10)) is None
    assert written_date("am 29.2.", date(2028, 3, 1)) == date(2028, 2, 29)


def test_written_date_29_february_ahead_this_year() -> None:
    # A date without a year means the last twelve months; 29.2.2027 does not exist.
    assert written_date("am 29.2.", date(2028, 1, 10)) is None


# -- properties ----------------------------------------------------------------

AP_IDS = {wp.id for wp in PLAN.work_packages}
PLAN_NUMBERS = {wp.number for wp in PLAN.work_packages}
MILESTONE_IDS = {m.id for m in PLAN.milestones}
MILESTONE_TITLES = {m.title for m in PLAN.milestones}

FRAGMENTS = [
    "AP", "ap", "Ap", "#AP", "AP ", "Arbeitspaket ", "Arbeitspakete ", "0", "00",
    *string.digits, "13", "14", "99", "100", "101", "1000",
    "%", " %", "Prozent", " prozent", "zu ", "v. H.", ".", ",", ":", "/", "+", "&", " und ",
    " ", "  ", "\n", "\t", "?", "!", "-", "–", "(", ")", "<b>", "</b>", "&amp;",
    "läuft", "laeuft", "begonnen", "in Arbeit", "gestartet", "verzögert", "Verzug",
    "gefährdet", "verschoben", "blockiert", "zurückgestellt", "pausiert", "abgeschlossen",
    "erledigt", "fertig", "nicht ", "noch nicht ", "kein ", "ohne ",
    "Meilenstein ", "M", "M3.", "M13.1", "M3.4", "M9.9", "BiKo", "Bildungskonferenz",
    "hat stattgefunden", "Leitbild", "beschlossen", "Bericht Fachkräfte", "erreicht",
    "gestern", "vorgestern", "am ", "12.06.2026", "12.6.", "31.02.2026", "29.2.",
    "Wie", "was", "ß", "ä", "Ö", "Ü", "ﬁ", "İ", "🎉", "✅", "٣", "²", "\u0301", "\u200b",
]

messages = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), max_size=25,
).map("".join)
reached_maps = st.dictionaries(
    st.sampled_from(sorted(MILESTONE_IDS)), st.dates(date(2025, 1, 1), TODAY), max_size=6,
)


def _check_invariants(rec: Recognized, reached: Mapping[str, date]) -> None:
    assert len({r.ap for r in rec.aps}) == len(rec.aps)
    for report in rec.aps:
        assert report.ap in AP_IDS
        assert report.state is None or report.state in STATES
        assert report.percent is None or 0 <= report.percent <= 100
    for number in rec.unknown_aps:
        assert number not in PLAN_NUMBERS
    assert set(rec.milestones) <= MILESTONE_IDS
    assert len(set(rec.milestones)) == len(rec.milestones)
    assert set(rec.all_reached) <= MILESTONE_IDS
    for mid in rec.all_reached:
        assert mid in reached
    if rec.reached_on is not None:
        assert rec.milestones
    if rec.is_question:
        assert not rec.reports_anything


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_text_never_raises(text: str) -> None:
    _check_invariants(recognize(text, PLAN, NOTHING_REACHED, TODAY), NOTHING_REACHED)


@settings(max_examples=300, deadline=None)
@given(messages, reached_maps)
def test_chat_like_text_only_reports_what_the_plan_has(text: str,
                                                      reached: dict[str, date]) -> None:
    _check_invariants(recognize(text, PLAN, reached, TODAY), reached)


@settings(max_examples=300, deadline=None)
@given(messages, st.dates(date(2000, 1, 1), date(2099, 12, 31)))
def test_written_date_never_raises(text: str, today: date) -> None:
    found = written_date(text, today)
    assert found is None or isinstance(found, date)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(AP_IDS)), st.integers(0, 100),
       st.sampled_from(["{n} %", "{n}%", "zu {n} Prozent", "{n} Prozent"]))
def test_any_percent_form_of_any_ap(ap_id: str, percent: int, form: str) -> None:
    text = f"{ap_id}: " + form.format(n=percent)
    rec = recognize(text, PLAN, NOTHING_REACHED, TODAY)
    assert [(r.ap, r.percent) for r in rec.aps] == [(ap_id, percent)]


# -- issue 14: percentages, dates, BiKo choice, unsure ------------------------------


@pytest.mark.parametrize(("text", "bad"), [
    ("AP3 150%", "150 %"), ("AP3 -10%", "-10 %"), ("AP 4 1e9 %", "1e9 %"),
    ("AP 12: -5 % Teilnehmende ggü. Vorjahr", None),  # a statistic, not progress
    ("AP 4: 60 %", None),
])
def test_bad_percent_is_not_stored_and_named(text: str, bad: str | None) -> None:
    rec = recognize(text, PLAN, NOTHING_REACHED, TODAY)
    assert len(rec.aps) == 1
    assert rec.bad_percent == bad
    if bad is not None or "Teilnehmende" in text:
        assert rec.aps[0].percent is None


@pytest.mark.parametrize(("text", "expected"), [
    ("AP3: am 10.09.2026 Einladungen verschickt", date(2026, 9, 10)),
    ("AP 10: gestern Elternabend durchgeführt", date(2026, 11, 25)),
    ("AP 10: Am 15. Oktober Messe durchgeführt", date(2026, 10, 15)),
    ("AP 7: Termin am 3.12. steht", None),  # ahead this year: an appointment
    ("AP 7: Termin am 3.12.2026 steht", None),  # in the future
    ("AP 7 läuft", None),
])
def test_reported_on(text: str, expected: date | None) -> None:
    assert recognize(text, PLAN, NOTHING_REACHED, TODAY).reported_on == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("am 12. November", date(2026, 11, 12)),
    ("am 3. März 2026", date(2026, 3, 3)),
    ("letzten Donnerstag", date(2026, 11, 19)),  # TODAY is a Thursday
    ("letzten Montag", date(2026, 11, 23)),
])
def test_written_date_in_words(text: str, expected: date) -> None:
    assert written_date(text, TODAY) == expected


@pytest.mark.parametrize(("text", "reached", "milestones", "already"), [
    ("Die 2. BiKo hat stattgefunden", (), ("M3.2",), ()),
    ("Die 2. BiKo hat stattgefunden", ("M3.2",), (), ("M3.2",)),
    ("Die vierte BiKo hat stattgefunden", (), ("M3.4",), ()),
    ("BiKo 2025 hat stattgefunden", (), ("M3.1",), ()),
    ("Frühjahrs-BiKo hat stattgefunden", (), ("M3.2",), ()),
    ("Frühjahrs-BiKo hat stattgefunden", ("M3.2",), ("M3.4",), ()),
    ("Die BiKo hat am 24.06. stattgefunden", (), ("M3.2",), ()),
    # the open one due nearest: 31.12.2025 is 175 days off, 31.12.2026 190 days
    ("Die BiKo hat am 24.06. stattgefunden", ("M3.2",), ("M3.1",), ()),
])
def test_which_biko(text: str, reached: tuple[str, ...], milestones: tuple[str, ...],
                    already: tuple[str, ...]) -> None:
    rec = recognize(text, PLAN, _reached(*reached), TODAY)
    assert (rec.milestones, rec.all_reached, rec.unsure) == (milestones, already, None)


@pytest.mark.parametrize("text", [
    "Die BiKo findet am 4. Dezember statt", "Das Leitbild soll im März beschlossen werden",
    "Leitbild noch nicht beschlossen, vertagt", "M3.4 soll im Juni erreicht werden",
    "AP 13: Kapitel 2 vom Bericht Fachkräfte fertig",
])
def test_planned_or_partial_milestone_is_not_marked(text: str) -> None:
    assert recognize(text, PLAN, NOTHING_REACHED, TODAY).milestones == ()


def test_biko_of_a_year_with_two_asks_which() -> None:
    rec = recognize("BiKo 2026 hat stattgefunden", PLAN, NOTHING_REACHED, TODAY)
    assert rec.milestones == ()
    assert rec.choices == ("M3.2", "M3.3")
    assert rec.unsure is not None and "M3.2" in rec.unsure and "M3.3" in rec.unsure


def test_ap_with_a_participle_asks() -> None:
    rec = recognize("AP 9 Vortrag beim Landesnetzwerk gehalten", PLAN, NOTHING_REACHED, TODAY)
    assert rec.unsure == "Als Meldung zu AP 9 speichern?"
    assert [r.ap for r in rec.aps] == ["AP9"]


@pytest.mark.parametrize(("text", "aps"), [
    ("AP3 60 % – sorry, meinte AP4", {"AP4": ap(percent=60)}),
    ("AP 10: Flyer fertig", {"AP10": ap()}),
    ("AP3 ist durch", {"AP3": ap("abgeschlossen")}),
    ("AP 11 hängt", {"AP11": ap("blockiert")}),
    ("AP 7 stockt", {"AP7": ap("verzögert")}),
    ("AP 6 wartet auf die HWK", {"AP6": ap("blockiert")}),
    ("AP 7: Vertrag erledigt, AP 7 läuft weiter", {"AP7": ap("läuft")}),
    ("Kann jemand die Präsentation für AP3 hochladen", {}),
    ("Treffen zu AP 6 verschiebe ich auf Donnerstag", {}),
    (r"Die Protokolle liegen unter S:\Bildung\AP3\Protokolle", {}),
    ("Ich versuche, AP 8 diese Woche fertig zu bekommen", {}),
])
def test_issue_14_reports(text: str, aps: dict[str, tuple[str | None, int | None]]) -> None:
    assert _as_table(recognize(text, PLAN, NOTHING_REACHED, TODAY)) == aps
