"""The plan file: the shipped plan loads as written; every mistake names file, entry, field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_PLAN
from workflows.plan import Plan, PlanError, load_plan, parse_plan
from workflows.quarters import Quarter

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_PLAN = ROOT / "data" / "plan.toml"
PATH = Path("/plans/plan.toml")  # parse_plan only uses the path in messages


# -- building small plans ------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, date):  # date and datetime: TOML's own (unquoted) forms
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


def _table(header: str, fields: dict[str, Any]) -> str:
    # A value of None leaves the field out, to test missing fields.
    lines = [header] + [f"{k} = {_toml(v)}" for k, v in fields.items() if v is not None]
    return "\n".join(lines) + "\n"


def programme(**fields: Any) -> dict[str, Any]:
    return {"name": "Testprogramm", "start": "Q1 2025", "end": "Q2 2027", **fields}


def wp(ap_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": ap_id, "title": f"Titel {ap_id}", "start": "Q1 2025", "end": "Q2 2027",
            **fields}


def ms(ms_id: str, ap: str, due: Any, **fields: Any) -> dict[str, Any]:
    return {"id": ms_id, "ap": ap, "title": f"Meilenstein {ms_id}", "due": due, **fields}


def meeting(meeting_id: str = "jour-fixe", **fields: Any) -> dict[str, Any]:
    return {"id": meeting_id, "title": "Jour fixe", "kind": "team",
            "rrule": "FREQ=WEEKLY;BYDAY=TU", "dtstart": "2025-01-07T10:00", **fields}


def plan_text(prog: dict[str, Any] | None = None,
              work_packages: list[dict[str, Any]] | None = None,
              milestones: list[dict[str, Any]] | None = None,
              meetings: list[dict[str, Any]] | None = None,
              extra: str = "") -> str:
    """A small valid plan unless told otherwise: AP1, AP3, two milestones, one meeting."""
    prog = programme() if prog is None else prog
    work_packages = ([wp("AP1", end="Q2 2025"), wp("AP3")]
                     if work_packages is None else work_packages)
    milestones = ([ms("M3.1", "AP3", "Q4 2025"), ms("M3.2", "AP3", "Q2 2026")]
                  if milestones is None else milestones)
    meetings = [meeting()] if meetings is None else meetings
    parts = [_table("[programme]", prog)]
    parts += [_table("[[work_package]]", w) for w in work_packages]
    parts += [_table("[[milestone]]", m) for m in milestones]
    parts += [_table("[[meeting]]", m) for m in meetings]
    return "\n".join(parts) + extra


def plan_error(text: str, path: Path = PATH) -> PlanError:
    with pytest.raises(PlanError) as info:
        parse_plan(text, path)
    return info.value


def assert_names(err: PlanError, entry: str | None, field: str | None,
                 *fragments: str) -> None:
    """The message names the file, the entry and the field, and says what is wrong."""
    message = str(err)
    assert message.startswith(str(err.path))
    assert err.entry == entry
    assert err.field == field
    if entry is not None:
        assert entry in message
    if field is not None:
        assert f"Feld „{field}“" in message
    for fragment in fragments:
        assert fragment in message


# -- the shipped plan ----------------------------------------------------------

SEED_TITLES = {
    "AP1": "Grundlagen und Analyse der Ausgangssituation",
    "AP2": "Leitbildentwicklung",
    "AP3": "Bildungskonferenzen",
    "AP4": "Bildungsportal",
    "AP5": "Koordinierung und Steuerung",
    "AP6": "Aufbau, Weiterführung und Pflege von Kooperationsstrukturen",
    "AP7": "Aufbau und Pflege von Kooperationsstrukturen zu den Themen BNE und Fachkräfte",
    "AP8": "Kommunikation und Öffentlichkeitsarbeit",
    "AP9": "Netzwerkarbeit",
    "AP10": "Maßnahmen für den Schwerpunkt Übergänge",
    "AP11": "Fortführung der Etablierung des Bildungsmonitorings",
    "AP12": "Bildungsberichterstattung im lebenslangen Lernen",
    "AP13": "spezialisierte Bildungsberichterstattung Modul 3",
}

# First and last words of each AP's description in the seed (line breaks joined).
SEED_DESCRIPTION_ENDS = {
    "AP1": ("Analyse der Ausgangssituation, Verfeinerung des Arbeitsprogrammes",
            "geleistete Arbeiten, Strukturen und Akteure"),
    "AP2": ("Konzeption, Umsetzung der geplanten Beteiligungsformate",
            "Entwicklung bildungsstrategischer Rahmen"),
    "AP3": ("Themenerarbeitung und Konzeption", "Organisation und Durchführung, Nacharbeit"),
    "AP4": ("Konzepterarbeitung gemeinsam mit Bildungsakteuren",
            "für das Portal, Etablierung erster Schritte"),
    "AP5": ("Koordinierung und Steuerung mit dem Ziel der Abstimmung/ Bündelung",
            "Aufbau und Organisation eines Bildungsbeirates"),
    "AP6": ("Entwicklung eines zuverlässigen Kooperationssystems",
            "für Kommunales Bildungsmanagement – TransMit"),
    "AP7": ("Stärkung der stadtweiten Arbeitsstruktur",
            "Handlungskonzept mit dem BNE-Kompetenzzentrum"),
    "AP8": ("Kommunikation steuerungsrelevanter Informationen/ Handlungsempfehlungen",
            "z.B. auf der Homepage, Gremienarbeit"),
    "AP9": ("Aktive Mitwirkung an Austausch und Ergebnistransfer auf Landes- und Bundesebene",
            "Ganztag, Fachkräfte, BNE und Monitoring"),
    "AP10": ("Initiierung und Begleitung von konkreten Maßnahmen und Projekten",
             "mit Kooperationspartnern zum Thema Berufsorientierung"),
    "AP11": ("Ausbau der Datenbasis und fortlaufende Datenpflege",
             "weitere Erarbeitung von Indikatoren"),
    "AP12": ("Ermittlung und Pflege Datenquellen und Datenbedarf",
             "Prüfung der Möglichkeiten von Open Data)"),
    "AP13": ("Fortführung Identifikation von Datenquellen",
             "Pflege Indikatoren/ Kennzahlen BNE und Fachkräfte"),
}

AP6_SEED = (
    "Entwicklung eines zuverlässigen Kooperationssystems, Fortführung und Pflege regelmäßige "
    "Jour fixes mit Kooperationspartnern (z.B. Kammern, interne Partner wie VHS und "
    "Stadtbibliothek), Fortführung thematischer Arbeitskreise, z.B. AG Übergang "
    "Kita-Grundschule, AK Schule-Wirtschaft, Aufbau neuer vorhandener Arbeitskreise (z.B. "
    "Übergang Schule-Beruf), Zusammenarbeit mit der Transferagentur Mitteldeutschland für "
    "Kommunales Bildungsmanagement – TransMit"
)


@pytest.fixture(scope="module")
def shipped() -> Plan:
    """The test plan: the shipped plan as the tests know it (tests/fixtures/plan.toml)."""
    return load_plan(TEST_PLAN)


def test_the_shipped_plan_loads_and_holds_the_seeds_aps_and_milestones() -> None:
    """The team's own plan: dates may change, the seed's 13 APs and 6 milestones stay."""
    plan = load_plan(SHIPPED_PLAN)
    assert {w.id: w.title for w in plan.work_packages} == SEED_TITLES
    assert {m.id: (m.ap, m.title) for m in plan.milestones} == {
        "M2.1": ("AP2", "Leitbild beschlossen"),
        **{f"M3.{n}": ("AP3", "BiKo hat stattgefunden") for n in range(1, 5)},
        "M13.1": ("AP13", "Bericht Fachkräfte"),
    }


def test_shipped_plan_programme(shipped: Plan) -> None:
    assert shipped.source == TEST_PLAN
    p = shipped.programme
    assert (p.start, p.end) == (Quarter(2025, 1), Quarter(2027, 2))
    assert (p.first_day, p.last_day) == (date(2025, 1, 1), date(2027, 6, 30))
    assert p.bundesland == "SN"
    assert p.stale_after_weeks == 6


def test_shipped_plan_has_the_thirteen_aps_with_seed_titles(shipped: Plan) -> None:
    assert [w.id for w in shipped.work_packages] == [f"AP{n}" for n in range(1, 14)]
    assert {w.id: w.title for w in shipped.work_packages} == SEED_TITLES
    assert [w.number for w in shipped.work_packages] == list(range(1, 14))
    assert shipped.work_package("AP10").label == "AP 10"
    assert shipped.ap_range == "AP 1 bis AP 13"


def test_shipped_plan_descriptions_are_the_full_seed_text(shipped: Plan) -> None:
    for w in shipped.work_packages:
        head, tail = SEED_DESCRIPTION_ENDS[w.id]
        assert w.description.startswith(head), w.id
        assert w.description.endswith(tail), w.id
        assert "  " not in w.description and "\n" not in w.description, w.id
    ap6 = shipped.work_package("AP6")
    assert ap6 is not None
    assert "TransMit" in ap6.description
    assert ap6.description == AP6_SEED


def test_shipped_plan_spans_follow_the_design(shipped: Plan) -> None:
    spans = {w.id: (str(w.start), str(w.end)) for w in shipped.work_packages}
    assert spans["AP1"] == ("Q1 2025", "Q2 2025")
    assert spans["AP2"] == ("Q1 2025", "Q1 2026")
    assert spans["AP4"] == ("Q2 2025", "Q2 2027")
    assert spans["AP13"] == ("Q1 2026", "Q2 2027")
    for ap in ("AP3", "AP5", "AP6", "AP7", "AP8", "AP9", "AP10", "AP11", "AP12"):
        assert spans[ap] == ("Q1 2025", "Q2 2027"), ap


def test_shipped_plan_milestones(shipped: Plan) -> None:
    assert [m.id for m in shipped.milestones] == [
        "M2.1", "M3.1", "M3.2", "M3.3", "M3.4", "M13.1",
    ]
    biko = shipped.milestones_of("AP3")
    assert [m.id for m in biko] == ["M3.1", "M3.2", "M3.3", "M3.4"]
    assert {m.title for m in biko} == {"BiKo hat stattgefunden"}
    assert [m.due for m in biko] == [
        date(2025, 12, 31), date(2026, 6, 30), date(2026, 12, 31), date(2027, 6, 30),
    ]
    assert [m.due_quarter for m in biko] == [
        Quarter(2025, 4), Quarter(2026, 2), Quarter(2026, 4), Quarter(2027, 2),
    ]
    leitbild = shipped.milestone("M2.1")
    assert leitbild is not None
    assert (leitbild.ap, leitbild.title, leitbild.due) == (
        "AP2", "Leitbild beschlossen", date(2026, 3, 31))
    report = shipped.milestone("M13.1")
    assert report is not None
    assert (report.ap, report.title, report.due) == (
        "AP13", "Bericht Fachkräfte", date(2027, 6, 30))
    assert shipped.milestone("M9.9") is None
    assert shipped.milestones_of("AP1") == ()


def test_shipped_plan_meetings(shipped: Plan) -> None:
    by_id = {m.id: m for m in shipped.meetings}
    assert list(by_id) == ["jour-fixe", "steuerungsgruppe"]
    jf, sg = by_id["jour-fixe"], by_id["steuerungsgruppe"]
    assert jf.kind == "team"
    assert sg.kind == "steering"
    assert jf.dtstart == datetime(2025, 1, 7, 10, 0)  # noqa: DTZ001 - local time by design
    assert jf.dtstart.tzinfo is None and sg.dtstart.tzinfo is None
    assert jf.rrule == "FREQ=WEEKLY;BYDAY=TU"
    assert jf.duration == timedelta(minutes=60)
    assert sg.duration == timedelta(hours=2)
    assert sg.summary_before == timedelta(days=1)


def test_shipped_plan_marks_every_ap_milestone_and_meeting_assumed(shipped: Plan) -> None:
    assert all(w.assumed for w in shipped.work_packages)
    assert all(m.assumed for m in shipped.milestones)
    assert all(m.assumed for m in shipped.meetings)


def test_shipped_plan_has_no_leads_yet(shipped: Plan) -> None:
    # lead = "" in the file means "nobody named yet"
    assert {w.lead for w in shipped.work_packages} == {None}


# -- valid small plans ---------------------------------------------------------


def test_small_plan_parses_with_defaults() -> None:
    plan = parse_plan(plan_text(), PATH)
    assert plan.source == PATH
    assert plan.programme.name == "Testprogramm"
    assert plan.programme.bundesland == "SN"
    assert plan.programme.stale_after_weeks == 6
    ap1 = plan.work_package("AP1")
    assert ap1 is not None
    assert (ap1.description, ap1.lead, ap1.assumed) == ("", None, False)
    assert plan.ap_range == "AP 1 bis AP 3"
    (jf,) = plan.meetings
    assert jf.duration == timedelta(minutes=60)
    assert jf.summary_before == timedelta(minutes=60)
    assert jf.assumed is False


def test_quarter_due_is_the_quarters_last_day() -> None:
    plan = parse_plan(plan_text(milestones=[ms("M3.1", "AP3", "Q1 2026")]), PATH)
    (m,) = plan.milestones
    assert m.due == date(2026, 3, 31)
    assert m.due_quarter == Quarter(2026, 1)


@pytest.mark.parametrize("due", ["2026-06-12", date(2026, 6, 12)])
def test_iso_date_due_is_that_day_without_a_quarter(due: Any) -> None:
    plan = parse_plan(plan_text(milestones=[ms("M3.1", "AP3", due)]), PATH)
    (m,) = plan.milestones
    assert m.due == date(2026, 6, 12)
    assert m.due_quarter is None


@pytest.mark.parametrize(
    ("due", "expected"), [("2025-01-01", date(2025, 1, 1)), ("2027-06-30", date(2027, 6, 30))],
)
def test_due_on_the_programmes_first_and_last_day_is_allowed(due: str, expected: date) -> None:
    plan = parse_plan(plan_text(milestones=[ms("M3.1", "AP3", due)]), PATH)
    assert plan.milestones[0].due == expected


def test_other_quarter_spellings_and_ap_spellings_are_read() -> None:
    text = plan_text(
        prog=programme(start="1/2025", end="2027-Q2"),
        work_packages=[wp("ap 3", start="1. Quartal 2025", end="q2/2027", lead=" Frau Muster ",
                          title="  Bildungskonferenzen  ")],
        milestones=[ms("M3.1", "ap3", "4. Quartal 2025")],
    )
    plan = parse_plan(text, PATH)
    (ap3,) = plan.work_packages
    assert ap3.id == "AP3"
    assert (ap3.start, ap3.end) == (Quarter(2025, 1), Quarter(2027, 2))
    assert ap3.title == "Bildungskonferenzen"
    assert ap3.lead == "Frau Muster"
    assert plan.milestones[0].ap == "AP3"
    assert plan.milestones[0].due == date(2025, 12, 31)
    assert plan.programme.end == Quarter(2027, 2)


def test_meeting_accepts_toml_local_datetime_and_custom_minutes() -> None:
    text = plan_text(meetings=[meeting(
        "sg", kind="steering", dtstart=datetime(2025, 1, 8, 14, 0),  # noqa: DTZ001
        duration_minutes=120, summary_before_minutes=15, assumed=True,
        rrule="FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE",
    )])
    (sg,) = parse_plan(text, PATH).meetings
    assert sg.dtstart == datetime(2025, 1, 8, 14, 0)  # noqa: DTZ001
    assert sg.kind == "steering"
    assert sg.duration == timedelta(minutes=120)
    assert sg.summary_before == timedelta(minutes=15)
    assert sg.assumed is True


def test_a_plan_without_milestones_or_meetings_is_fine() -> None:
    plan = parse_plan(plan_text(milestones=[], meetings=[]), PATH)
    assert plan.milestones == ()
    assert plan.meetings == ()


def test_load_plan_reads_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(plan_text(work_packages=[wp("AP1", title="Öffentlichkeitsarbeit")],
                              milestones=[]), encoding="utf-8")
    plan = load_plan(path)
    assert plan.source == path
    assert plan.work_packages[0].title == "Öffentlichkeitsarbeit"


# -- validation errors ---------------------------------------------------------


def test_toml_syntax_error_names_file_and_line() -> None:
    text = '[programme]\nname = "Test"\nstart = \n'
    err = plan_error(text)
    assert_names(err, None, None, "TOML", "line 3")


def test_milestone_of_unknown_ap() -> None:
    text = plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025"), ms("M9.1", "AP9", "Q4 2025")])
    assert_names(plan_error(text), "[[milestone]] Nr. 2 (M9.1)", "ap", "'AP9'")


def test_ap_end_before_start() -> None:
    text = plan_text(work_packages=[wp("AP1", start="Q3 2025", end="Q2 2025")], milestones=[])
    assert_names(plan_error(text), "[[work_package]] Nr. 1 (AP1)", "end",
                 "Q2 2025", "Q3 2025")


def test_programme_end_before_start() -> None:
    text = plan_text(prog=programme(start="Q2 2027", end="Q1 2025"))
    assert_names(plan_error(text), "[programme]", "end", "Q1 2025", "Q2 2027")


def test_duplicate_ap_id() -> None:
    text = plan_text(work_packages=[wp("AP1"), wp("AP3"), wp("AP1")], milestones=[])
    assert_names(plan_error(text), "[[work_package]] Nr. 3 (AP1)", "id", "doppelt")


def test_duplicate_ap_id_in_another_spelling() -> None:
    text = plan_text(work_packages=[wp("AP3"), wp("ap 3")], milestones=[])
    assert_names(plan_error(text), "[[work_package]] Nr. 2 (ap 3)", "id", "'AP3'", "doppelt")


def test_duplicate_milestone_id() -> None:
    text = plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025"), ms("M3.1", "AP3", "Q2 2026")])
    assert_names(plan_error(text), "[[milestone]] Nr. 2 (M3.1)", "id", "'M3.1'", "doppelt")


def test_duplicate_meeting_id() -> None:
    text = plan_text(meetings=[meeting("jf"), meeting("jf")])
    assert_names(plan_error(text), "[[meeting]] Nr. 2 (jf)", "id", "doppelt")


@pytest.mark.parametrize(
    ("text", "entry", "field"),
    [
        (plan_text(work_packages=[wp("AP1"), wp("AP3", titel="Tippfehler")], milestones=[]),
         "[[work_package]] Nr. 2 (AP3)", "titel"),
        (plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025", datum="2025-12-01")]),
         "[[milestone]] Nr. 1 (M3.1)", "datum"),
        (plan_text(meetings=[meeting(ort="Rathaus")]), "[[meeting]] Nr. 1 (jour-fixe)", "ort"),
        (plan_text(prog=programme(bundeslnd="SN")), "[programme]", "bundeslnd"),
    ],
    ids=["work_package", "milestone", "meeting", "programme"],
)
def test_unknown_field(text: str, entry: str, field: str) -> None:
    err = plan_error(text)
    assert_names(err, entry, field, "unbekanntes Feld")


def test_unknown_field_message_lists_the_allowed_fields() -> None:
    err = plan_error(plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025", datum="x")]))
    for allowed in ("id", "ap", "title", "due", "assumed"):
        assert allowed in err.problem


def test_unknown_top_level_section() -> None:
    text = plan_text(extra='\n[[meetings]]\nid = "x"\n')
    err = plan_error(text)
    assert_names(err, None, None, "[meetings]", "unbekannter Abschnitt")


def test_missing_programme_section() -> None:
    err = plan_error(_table("[[work_package]]", wp("AP1")))
    assert_names(err, None, None, "[programme]", "fehlt")


def test_plan_without_work_packages() -> None:
    err = plan_error(plan_text(work_packages=[], milestones=[]))
    assert_names(err, None, None, "[[work_package]]")


@pytest.mark.parametrize(
    ("text", "entry", "field"),
    [
        (plan_text(work_packages=[wp("AP1", title=None)], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "title"),
        (plan_text(work_packages=[wp("AP1", start=None)], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "start"),
        (plan_text(work_packages=[wp("AP1", id=None)], milestones=[]),
         "[[work_package]] Nr. 1", "id"),
        (plan_text(milestones=[ms("M3.1", "AP3", None)]), "[[milestone]] Nr. 1 (M3.1)", "due"),
        (plan_text(meetings=[meeting(rrule=None)]), "[[meeting]] Nr. 1 (jour-fixe)", "rrule"),
        (plan_text(prog=programme(start=None)), "[programme]", "start"),
        (plan_text(prog=programme(name=None)), "[programme]", "name"),
    ],
    ids=["ap-title", "ap-start", "ap-id", "milestone-due", "meeting-rrule", "programme-start",
         "programme-name"],
)
def test_missing_required_field(text: str, entry: str, field: str) -> None:
    assert_names(plan_error(text), entry, field, "fehlt")


@pytest.mark.parametrize(
    ("due", "shown"),
    [
        ("Q3 2027", "30.09.2027"),
        ("Q4 2024", "31.12.2024"),
        ("2024-12-31", "31.12.2024"),
        ("2027-07-01", "01.07.2027"),
        (date(2030, 1, 1), "01.01.2030"),
    ],
)
def test_due_outside_the_programme(due: Any, shown: str) -> None:
    text = plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025"), ms("M3.2", "AP3", due)])
    assert_names(plan_error(text), "[[milestone]] Nr. 2 (M3.2)", "due", shown,
                 "außerhalb des Programms", "Q1 2025 – Q2 2027")


@pytest.mark.parametrize(
    ("start", "end", "field", "shown"),
    [("Q4 2024", "Q2 2025", "start", "Q4 2024"), ("Q1 2026", "Q3 2027", "end", "Q3 2027")],
)
def test_ap_span_outside_the_programme(start: str, end: str, field: str, shown: str) -> None:
    text = plan_text(work_packages=[wp("AP1"), wp("AP2", start=start, end=end)], milestones=[])
    assert_names(plan_error(text), "[[work_package]] Nr. 2 (AP2)", field, shown,
                 "außerhalb des Programms")


@pytest.mark.parametrize(
    ("text", "entry", "field", "shown"),
    [
        (plan_text(work_packages=[wp("AP1", start="Q5 2026")], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "start", "'Q5 2026'"),
        (plan_text(work_packages=[wp("AP1", end="Sommer 2026")], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "end", "'Sommer 2026'"),
        (plan_text(prog=programme(start="2025")), "[programme]", "start", "'2025'"),
        (plan_text(milestones=[ms("M3.1", "AP3", "Q5 2026")]),
         "[[milestone]] Nr. 1 (M3.1)", "due", "'Q5 2026'"),
        (plan_text(milestones=[ms("M3.1", "AP3", "2026-02-30")]),
         "[[milestone]] Nr. 1 (M3.1)", "due", "'2026-02-30'"),
    ],
    ids=["ap-start", "ap-end", "programme-start", "milestone-due", "impossible-date"],
)
def test_bad_quarter_or_date_text(text: str, entry: str, field: str, shown: str) -> None:
    err = plan_error(text)
    assert_names(err, entry, field, shown, "Q")


@pytest.mark.parametrize(
    ("text", "entry", "field"),
    [
        (plan_text(work_packages=[wp("X3")], milestones=[]), "[[work_package]] Nr. 1 (X3)", "id"),
        (plan_text(work_packages=[wp("AP0")], milestones=[]),
         "[[work_package]] Nr. 1 (AP0)", "id"),
        (plan_text(work_packages=[wp("AP3a")], milestones=[]),
         "[[work_package]] Nr. 1 (AP3a)", "id"),
        (plan_text(milestones=[ms("M3.1", "X3", "Q4 2025")]), "[[milestone]] Nr. 1 (M3.1)", "ap"),
    ],
    ids=["X3", "AP0", "AP3a", "milestone-ap-X3"],
)
def test_bad_ap_id(text: str, entry: str, field: str) -> None:
    assert_names(plan_error(text), entry, field, "AP-Kennung")


@pytest.mark.parametrize(
    ("text", "entry", "field", "says"),
    [
        (plan_text(work_packages=[wp("AP1", title=5)], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "title", "Text"),
        (plan_text(work_packages=[wp("AP1", start=2025)], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "start", "Quartal"),
        (plan_text(milestones=[ms("M3.1", 3, "Q4 2025")]),
         "[[milestone]] Nr. 1 (M3.1)", "ap", "Text"),
        (plan_text(milestones=[ms("M3.1", "AP3", 2026)]),
         "[[milestone]] Nr. 1 (M3.1)", "due", "Text"),
        (plan_text(prog=programme(name=2025)), "[programme]", "name", "Text"),
        (plan_text(prog=programme(stale_after_weeks="6")), "[programme]", "stale_after_weeks",
         "ganze Zahl"),
        (plan_text(prog=programme(stale_after_weeks=True)), "[programme]", "stale_after_weeks",
         "ganze Zahl"),
        (plan_text(work_packages=[wp("AP1", assumed="ja")], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "assumed", "true oder false"),
        (plan_text(meetings=[meeting(duration_minutes=-5)]),
         "[[meeting]] Nr. 1 (jour-fixe)", "duration_minutes", "ganze Zahl"),
        (plan_text(meetings=[meeting(dtstart=2025)]),
         "[[meeting]] Nr. 1 (jour-fixe)", "dtstart", "Datum und Uhrzeit"),
    ],
    ids=["title-number", "start-number", "ap-number", "due-number", "name-number",
         "weeks-text", "weeks-bool", "assumed-text", "minutes-negative", "dtstart-number"],
)
def test_wrong_type(text: str, entry: str, field: str, says: str) -> None:
    assert_names(plan_error(text), entry, field, says)


def test_empty_title_is_rejected() -> None:
    text = plan_text(work_packages=[wp("AP1", title="   ")], milestones=[])
    assert_names(plan_error(text), "[[work_package]] Nr. 1 (AP1)", "title", "leer")


def test_entry_that_is_not_a_table() -> None:
    # a top-level key must come before the first table header
    text = 'meeting = "jeden Dienstag"\n' + plan_text(milestones=[], meetings=[])
    assert_names(plan_error(text), "[meeting]", None, "[[meeting]]")


@pytest.mark.parametrize(
    "rrule", ["FREQ=FOO", "FREQ=WEEKLY;BYDAY=XX", "jeden Dienstag", "FREQ=WEEKLY;BYHOUR=25",
              "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1000000"],
)
def test_invalid_rrule(rrule: str) -> None:
    text = plan_text(meetings=[meeting("jf"), meeting("sg", rrule=rrule)])
    assert_names(plan_error(text), "[[meeting]] Nr. 2 (sg)", "rrule", "RRULE")


@pytest.mark.parametrize("kind", ["monthly", "Team", ""])
def test_meeting_kind_must_be_team_or_steering(kind: str) -> None:
    text = plan_text(meetings=[meeting(kind=kind)])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", "kind", "„team“",
                 "„steering“")


@pytest.mark.parametrize(
    "dtstart",
    [
        "2025-01-07T10:00+01:00",
        "2025-01-07T09:00Z",
        datetime(2025, 1, 7, 10, 0, tzinfo=timezone(timedelta(hours=1))),
    ],
    ids=["text-offset", "text-utc", "toml-offset-datetime"],
)
def test_meeting_dtstart_with_a_timezone(dtstart: Any) -> None:
    text = plan_text(meetings=[meeting(dtstart=dtstart)])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", "dtstart", "Zeitzone")


def test_meeting_dtstart_not_a_datetime() -> None:
    text = plan_text(meetings=[meeting(dtstart="Dienstag 10 Uhr")])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", "dtstart",
                 "'Dienstag 10 Uhr'")


# -- values that cannot work ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "entry", "field", "says"),
    [
        (plan_text(prog=programme(end="Q4 9999")), "[programme]", "end", "Jahr 9999"),
        (plan_text(prog=programme(start="Q1 0000")), "[programme]", "start", "Jahr 0"),
        (plan_text(prog=programme(start="Q4 1999")), "[programme]", "start", "Jahr 1999"),
        (plan_text(work_packages=[wp("AP1", end="4/9999")], milestones=[]),
         "[[work_package]] Nr. 1 (AP1)", "end", "Jahr 9999"),
        (plan_text(milestones=[ms("M3.1", "AP3", "Q4 9999")]),
         "[[milestone]] Nr. 1 (M3.1)", "due", "Jahr 9999"),
        (plan_text(meetings=[meeting(dtstart="9999-12-31T23:00")]),
         "[[meeting]] Nr. 1 (jour-fixe)", "dtstart", "Jahr 9999"),
        (plan_text(meetings=[meeting(dtstart=datetime(1, 1, 1, 10, 0))]),  # noqa: DTZ001
         "[[meeting]] Nr. 1 (jour-fixe)", "dtstart", "Jahr 1 "),
    ],
    ids=["programme-9999", "programme-0000", "programme-1999", "ap-9999", "due-9999",
         "dtstart-9999", "dtstart-toml-0001"],
)
def test_years_outside_2000_to_2100(text: str, entry: str, field: str, says: str) -> None:
    assert_names(plan_error(text), entry, field, says, "2000 bis 2100")


def test_a_date_due_far_off_is_outside_the_programme() -> None:
    text = plan_text(milestones=[ms("M3.1", "AP3", "9999-12-31")])
    assert_names(plan_error(text), "[[milestone]] Nr. 1 (M3.1)", "due", "31.12.9999",
                 "außerhalb des Programms")


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"reminder_days": [10**9]}, "reminder_days", "1 bis 365"),
        ({"reminder_days": [366, 7]}, "reminder_days", "1 bis 365"),
        ({"reminder_days": [0]}, "reminder_days", "1 bis 365"),
        ({"reminder_days": list(range(1, 12))}, "reminder_days", "höchstens 10"),
        ({"overdue_every_days": 10**12}, "overdue_every_days", "1 bis 365"),
        ({"overdue_every_days": 0}, "overdue_every_days", "1 bis 365"),
        ({"overdue_max": 10**9}, "overdue_max", "0 bis 20"),
        ({"overdue_max": 21}, "overdue_max", "0 bis 20"),
        ({"stale_after_weeks": 10**9}, "stale_after_weeks", "0 bis 104"),
    ],
    ids=["reminder-huge", "reminder-366", "reminder-0", "reminders-11", "every-huge",
         "every-0", "max-huge", "max-21", "stale-huge"],
)
def test_programme_numbers_out_of_bounds(fields: dict[str, Any], field: str, says: str) -> None:
    assert_names(plan_error(plan_text(prog=programme(**fields))), "[programme]", field, says)


def test_programme_numbers_at_their_bounds_are_fine() -> None:
    plan = parse_plan(plan_text(prog=programme(
        reminder_days=[365, *range(1, 10)], overdue_every_days=365, overdue_max=20,
        stale_after_weeks=104)), PATH)
    assert plan.programme.reminder_days[0] == 365
    assert len(plan.programme.reminder_days) == 10
    assert plan.programme.overdue_max == 20


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"summary_before_minutes": 10**15}, "summary_before_minutes", "höchstens 7 Tage"),
        ({"summary_before_minutes": 7 * 24 * 60 + 1}, "summary_before_minutes", "1 bis 10080"),
        ({"summary_before_minutes": 0}, "summary_before_minutes", "1 bis 10080"),
        ({"duration_minutes": 10**15}, "duration_minutes", "0 bis 1440"),
    ],
    ids=["summary-huge", "summary-week-and-a-minute", "summary-0", "duration-huge"],
)
def test_meeting_minutes_out_of_bounds(fields: dict[str, Any], field: str, says: str) -> None:
    text = plan_text(meetings=[meeting(**fields)])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", field, says)


def test_a_summary_a_week_ahead_is_fine() -> None:
    plan = parse_plan(plan_text(meetings=[meeting(summary_before_minutes=7 * 24 * 60)]), PATH)
    assert plan.meetings[0].summary_before == timedelta(days=7)


@pytest.mark.parametrize(
    "rrule",
    [
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=1440",
        "freq=secondly",
        "FREQ=DAILY;BYHOUR=9,15",
        "FREQ=WEEKLY;BYDAY=TU;BYMINUTE=0,30",
        "RRULE:FREQ=WEEKLY;BYDAY=TU\nRDATE:20250107T150000",  # a second time on a Tuesday
    ],
)
def test_meeting_rules_more_frequent_than_daily(rrule: str) -> None:
    text = plan_text(meetings=[meeting(rrule=rrule)])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", "rrule",
                 "höchstens ein Termin am Tag")


def test_a_rule_with_interval_zero_is_refused() -> None:
    text = plan_text(meetings=[meeting(rrule="FREQ=WEEKLY;INTERVAL=0")])
    assert_names(plan_error(text), "[[meeting]] Nr. 1 (jour-fixe)", "rrule", "INTERVAL")


@pytest.mark.parametrize("rrule", ["FREQ=DAILY", "FREQ=DAILY;BYHOUR=9;BYMINUTE=30",
                                   "FREQ=YEARLY;INTERVAL=100000"])
def test_daily_and_rarer_rules_are_fine(rrule: str) -> None:
    assert parse_plan(plan_text(meetings=[meeting(rrule=rrule)]), PATH).meetings[0].rrule == rrule


def test_deeply_nested_toml_is_a_syntax_error_not_a_crash() -> None:
    assert_names(plan_error("a = " + "[" * 100_000), None, None, "TOML", "verschachtelt")


def test_a_file_larger_than_1_mb_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    with path.open("wb") as file:
        file.truncate(2 * 1024 * 1024)  # sparse: nothing to read but its size
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert_names(info.value, None, None, str(path), "größer als 1 MB",
                 "ist das die Plandatei?")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["windows", "old-mac"])
def test_other_line_endings_load(tmp_path: Path, newline: str) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(plan_text().replace("\n", newline).encode("utf-8"))
    assert load_plan(path).programme.name == "Testprogramm"


def test_a_file_of_exactly_1_mb_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    text = plan_text()
    path.write_text(text + "#" * (1024 * 1024 - len(text.encode()) - 1) + "\n", encoding="utf-8")
    assert load_plan(path).programme.name == "Testprogramm"


def test_dev_zero_as_the_plan_reads_one_megabyte_and_stops() -> None:
    with pytest.raises(PlanError) as info:
        load_plan(Path("/dev/zero"))
    assert_names(info.value, None, None, "/dev/zero", "größer als 1 MB")


def test_a_named_pipe_without_a_writer_does_not_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.toml"
    os.mkfifo(fifo)
    with pytest.raises(PlanError) as info:
        load_plan(fifo)  # empty at once: no writer
    assert_names(info.value, None, None, str(fifo), "[programme]")


def test_a_pipe_with_a_plan_is_read() -> None:
    # as with APBOT_PLAN=<(…) in a shell: the plan arrives through a pipe
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, plan_text().encode())
        os.close(write_end)
        assert load_plan(Path(f"/dev/fd/{read_end}")).programme.name == "Testprogramm"
    finally:
        os.close(read_end)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "fehlt.toml"
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert_names(info.value, None, None, str(path), "gibt es nicht")


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(plan_text(work_packages=[wp("AP1", title="Öffentlichkeitsarbeit")],
                               milestones=[]).encode("latin-1"))
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert_names(info.value, None, None, str(path), "nicht lesbar")


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as info:
        load_plan(tmp_path)
    assert_names(info.value, None, None, str(tmp_path), "nicht lesbar")


def test_load_plan_error_names_the_real_path(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(plan_text(milestones=[ms("M3.1", "AP9", "Q4 2025")]), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.path == path
    assert_names(info.value, "[[milestone]] Nr. 1 (M3.1)", "ap", str(path))


# -- the real process refuses a broken plan -----------------------------------


def _env(plan: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("APBOT_", "TELEGRAM_"))}
    env.update(APBOT_PLAN=str(plan), APBOT_DATA_DIR=str(data_dir))
    return env


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (plan_text(milestones=[ms("M3.1", "AP3", "Q4 2025"), ms("M3.2", "AP3", "Q3 2027")]),
         ["[[milestone]] Nr. 2 (M3.2)", "Feld „due“"]),
        ('[programme]\nname = "x"\nstart = \n', ["TOML", "line 3"]),
    ],
    ids=["field-error", "toml-syntax"],
)
def test_broken_plan_stops_the_process_with_one_clear_message(
    tmp_path: Path, text: str, expected: list[str],
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(text, encoding="utf-8")
    data_dir = tmp_path / "data"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/plan"],
        cwd=ROOT, env=_env(plan, data_dir), capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("apbot startet nicht: ")
    assert str(plan) in lines[0]
    for fragment in expected:
        assert fragment in lines[0]
    # the plan is checked before the database is touched
    assert not (data_dir / "apbot.json").exists()


def test_apbot_plan_dev_zero_stops_the_process_with_one_clear_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "/plan"],
        cwd=ROOT, env=_env(Path("/dev/zero"), tmp_path / "data"), capture_output=True,
        text=True, timeout=60, check=False,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "apbot startet nicht: /dev/zero: die Datei ist größer als 1 MB – ist das die Plandatei?"
    ]


def test_utf8_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(b"\xef\xbb\xbf" + plan_text().encode("utf-8"))
    assert load_plan(path).programme.name == "Testprogramm"
