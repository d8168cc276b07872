"""The plan file: the shipped plan loads as written; every mistake names file, entry, field."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

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
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, date):  # date and datetime: TOML's own (unquoted) forms
        return value.isoformat()
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
    return load_plan(SHIPPED_PLAN)


def test_shipped_plan_programme(shipped: Plan) -> None:
    assert shipped.source == SHIPPED_PLAN
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
    "rrule", ["FREQ=FOO", "FREQ=WEEKLY;BYDAY=XX", "jeden Dienstag", "FREQ=WEEKLY;BYHOUR=25"],
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


def test_utf8_file_with_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(b"\xef\xbb\xbf" + plan_text().encode("utf-8"))
    assert load_plan(path).programme.name == "Testprogramm"
