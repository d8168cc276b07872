"""The plan as an Excel workbook, both ways (issue 13 §3): /plan_excel, an edited workbook
sent back, and `python -m bot plan export|import`."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.commands import COMMANDS
from bot.core import Core
from bot.messages import ButtonPress, Context, Incoming
from bot.render.workbook import (
    COMMANDS as WORKBOOK_COMMANDS,
)
from bot.render.workbook import (
    NO_CHANGES,
    NOT_A_WORKBOOK,
    WorkbookError,
    excel_command,
    plan_workbook,
    read_workbook,
    rule_words,
    workbook_sent,
)
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.plan import Plan, load_plan
from workflows.plan_edit import Edit, PlanEditError, apply_edits
from workflows.progress import Author, MilestoneMark
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TODAY = NOW.date()
TEAM, ADMIN, MEMBER = "-100123", "1", "3"
REPO = Path(__file__).resolve().parents[1]
_ids = itertools.count(900)


@pytest.fixture
def plan() -> Plan:
    return load_plan(TEST_PLAN)


def local(text: str) -> datetime:
    """A naive local time, as the plan and the workbook hold them."""
    return datetime.fromisoformat(text)


def export(plan: Plan, marks: list[MilestoneMark] | None = None) -> bytes:
    return plan_workbook(plan, marks or [], TODAY)


def edited(data: bytes, change: Callable[[Any], None]) -> bytes:
    """The workbook after `change(book)`, as someone editing it in Excel would save it."""
    book = openpyxl.load_workbook(io.BytesIO(data))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def row_of(sheet: Any, entry_id: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == entry_id)


def with_edits(plan: Plan, tmp_path: Path, *edits: Edit) -> Plan:
    """The test plan with some entries changed (written to a copy, never the fixture)."""
    applied = apply_edits(TEST_PLAN.read_text(encoding="utf-8"), tmp_path / "plan.toml", edits)
    (tmp_path / "plan.toml").write_text(applied.text, encoding="utf-8")
    return applied.plan


# -- the exported workbook ----------------------------------------------------------


def test_the_export_has_three_sheets_with_typed_dates_frozen_bold_headers(plan: Plan) -> None:
    book = openpyxl.load_workbook(io.BytesIO(export(plan)))
    assert book.sheetnames == ["Arbeitspakete", "Meilensteine", "Sitzungen", "Hinweise"]
    assert book["Sitzungen"].protection.sheet  # shown only: edits there are not read back
    aps, ms, meetings = book["Arbeitspakete"], book["Meilensteine"], book["Sitzungen"]
    assert [c.value for c in aps[1]] == ["ID", "Titel", "Beschreibung", "Beginn", "Ende",
                                         "Zuständig", "Bestätigt"]
    assert [c.value for c in ms[1]] == ["ID", "AP", "Titel", "Fällig", "Erreicht am",
                                        "Bestätigt"]
    assert [c.value for c in meetings[1]] == ["Name", "Art", "Erster Termin",
                                              "Regel (in Worten)", "Ort"]
    for sheet in (aps, ms, meetings):
        assert sheet.freeze_panes == "A2"
        assert all(c.font.bold for c in sheet[1])
        assert all(sheet.column_dimensions[c.column_letter].width >= 8 for c in sheet[1])

    ap4 = aps[row_of(aps, "AP4")]
    assert [c.value for c in ap4[:2]] == ["AP4", "Bildungsportal"]
    begin, end = ap4[3], ap4[4]
    assert begin.is_date and begin.value.date() == date(2025, 4, 1)  # Q2 2025's first day
    assert end.is_date and end.value.date() == date(2027, 6, 30)  # Q2 2027's last day
    assert begin.number_format == end.number_format == "DD.MM.YYYY"
    assert ap4[6].value == "nein"  # assumed
    assert ap4[2].alignment.wrap_text  # the long description

    due = ms.cell(row_of(ms, "M3.2"), 4)
    assert due.is_date and due.value.date() == date(2026, 6, 30)
    assert due.number_format == "DD.MM.YYYY"

    jour_fixe = meetings[2]
    assert jour_fixe[0].value == "Jour fixe Koordinierungsteam"
    assert jour_fixe[1].value == "Teambesprechung"
    assert jour_fixe[2].is_date and jour_fixe[2].value == local("2025-01-07T10:00")
    assert jour_fixe[2].number_format == "DD.MM.YYYY HH:MM"
    assert jour_fixe[3].value == "jeden Dienstag"
    assert meetings[3][3].value == "jeden 2. Mittwoch im Quartal"


def test_a_meeting_shows_its_place(plan: Plan, tmp_path: Path) -> None:
    placed = with_edits(plan, tmp_path, Edit("set", "meeting", "steuerungsgruppe",
                                             (("place", "Rathaus, Raum 2"),)))
    meetings = openpyxl.load_workbook(io.BytesIO(export(placed)))["Sitzungen"]
    assert [c.value for c in meetings[3]][::4] == ["Steuerungsgruppe Bildung", "Rathaus, Raum 2"]


def test_reached_on_shows_the_last_report_that_stands(plan: Plan) -> None:
    def mark(day: date, withdrawn: bool = False) -> MilestoneMark:
        return MilestoneMark("M3.1", day, Author("1", "Bea"), TEAM, None, NOW, withdrawn)

    data = export(plan, [mark(date(2025, 11, 20)), mark(date(2025, 11, 27), withdrawn=True)])
    ms = openpyxl.load_workbook(io.BytesIO(data))["Meilensteine"]
    reached = ms.cell(row_of(ms, "M3.1"), 5)
    assert reached.value.date() == date(2025, 11, 20) and reached.number_format == "DD.MM.YYYY"
    assert ms.cell(row_of(ms, "M3.2"), 5).value is None
    # Shown only: the chat records it, the workbook does not change it.
    assert read_workbook(data, plan) == ([], [])


@pytest.mark.parametrize("text", ["=SUMME(A1:A9)", "+49 341 123", "-Frau Müller", "@bea",
                                  '=HYPERLINK("http://x","klick")'])
def test_text_that_looks_like_a_formula_is_stored_as_text(plan: Plan, tmp_path: Path,
                                                         text: str) -> None:
    odd = with_edits(plan, tmp_path, Edit("set", "work_package", "AP4", (("lead", text),)),
                     Edit("set", "milestone", "M3.2", (("title", text),)))
    data = export(odd)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist()
                  if n.startswith("xl/worksheets/")]
    assert not any("<f>" in xml or "<f " in xml for xml in sheets)
    book = openpyxl.load_workbook(io.BytesIO(data))
    aps, ms = book["Arbeitspakete"], book["Meilensteine"]
    for cell in (aps.cell(row_of(aps, "AP4"), 6), ms.cell(row_of(ms, "M3.2"), 3)):
        assert cell.value == text and cell.data_type == "s"
    # and it reads back as the same text: no change
    assert read_workbook(data, odd) == ([], [])


@pytest.mark.parametrize(("rule", "words"), [
    ("FREQ=WEEKLY;BYDAY=TU", "jeden Dienstag"),
    ("FREQ=MONTHLY;INTERVAL=3;BYDAY=2WE", "jeden 2. Mittwoch im Quartal"),
    ("FREQ=DAILY;COUNT=1", "einmalig"),
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH", "alle 2 Wochen Donnerstag"),
    ("FREQ=WEEKLY;BYDAY=MO,WE,FR", "jeden Montag, Mittwoch und Freitag"),
    ("FREQ=WEEKLY", "jeden Dienstag"),  # the day of the first meeting
    ("FREQ=MONTHLY;BYDAY=1MO", "monatlich am 1. Montag"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "monatlich am letzten Freitag"),
    ("FREQ=MONTHLY;BYMONTHDAY=15", "monatlich am 15."),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=1MO", "alle 2 Monate am 1. Montag"),
    ("FREQ=YEARLY", "jährlich am 07.01."),
    ("FREQ=DAILY", "täglich"),
    ("FREQ=WEEKLY;BYDAY=TU;COUNT=10", "jeden Dienstag, 10-mal"),
    ("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270630T235959Z", "jeden Dienstag, bis 30.06.2027"),
    ("FREQ=YEARLY;BYMONTH=3;BYDAY=2WE", "Regel FREQ=YEARLY;BYMONTH=3;BYDAY=2WE"),
    ("FREQ=MONTHLY;BYDAY=MO", "Regel FREQ=MONTHLY;BYDAY=MO"),
    ("kaputt", "Regel kaputt"),
])
def test_meeting_rules_in_german_words(rule: str, words: str) -> None:
    assert rule_words(rule, local("2025-01-07T10:00")) == words


# -- reading it back ----------------------------------------------------------------


def test_an_unchanged_workbook_has_no_changes(plan: Plan) -> None:
    assert read_workbook(export(plan), plan) == ([], [])


def round_trip_edits(book: Any) -> None:
    """A due date, a lead, a span, a confirmation, a new milestone, a deleted one."""
    aps, ms = book["Arbeitspakete"], book["Meilensteine"]
    ms.cell(row_of(ms, "M3.2"), 4).value = date(2026, 5, 15)
    aps.cell(row_of(aps, "AP4"), 6).value = "Frau Müller"
    aps.cell(row_of(aps, "AP3"), 4).value = date(2025, 5, 15)  # → Q2 2025
    aps.cell(row_of(aps, "AP1"), 7).value = "ja"
    ms.delete_rows(row_of(ms, "M13.1"))
    ms.append([None, "AP4", "Portal online", date(2027, 3, 31), None, None])
    book["Sitzungen"]["A2"].value = "Ganz anderer Name"  # read-only: ignored


def test_round_trip_turns_cell_edits_into_the_plan_change(plan: Plan, tmp_path: Path) -> None:
    data = edited(export(plan), round_trip_edits)
    edits, lines = read_workbook(data, plan)
    assert edits == [
        Edit("set", "work_package", "AP1", (("assumed", False),)),
        Edit("set", "work_package", "AP3", (("start", "Q2 2025"), ("end", "Q2 2027"))),
        Edit("set", "work_package", "AP4", (("lead", "Frau Müller"),)),
        Edit("remove", "milestone", "M13.1"),
        Edit("set", "milestone", "M3.2", (("due", "2026-05-15"),)),
        Edit("add", "milestone", "M4.1", (("ap", "AP4"), ("title", "Portal online"),
                                          ("due", "2027-03-31"))),
    ]
    assert lines == [
        "AP 1 Zeitraum Q1 2025 – Q2 2025 bestätigt",
        "AP 3 Zeitraum Q2 2025 – Q2 2027 statt Q1 2025 – Q2 2027",
        "AP 4 zuständig: Frau Müller (bisher: noch niemand)",
        "Meilenstein M13.1 „Bericht Fachkräfte“ (AP 13, fällig 30.06.2027) entfernt",
        "M3.2 fällig 15.05.2026 statt 30.06.2026",
        "neuer Meilenstein M4.1 „Portal online“ (AP 4), fällig 31.03.2027",
    ]
    new = apply_edits(TEST_PLAN.read_text(encoding="utf-8"), tmp_path / "plan.toml",
                      edits).plan
    assert new.milestone("M3.2").due == date(2026, 5, 15)  # type: ignore[union-attr]
    assert new.milestone("M13.1") is None
    m41 = new.milestone("M4.1")
    assert m41 is not None and (m41.ap, m41.due, m41.assumed) == ("AP4", date(2027, 3, 31),
                                                                  False)
    ap3, ap4, ap1 = (new.work_package(i) for i in ("AP3", "AP4", "AP1"))
    assert ap4 is not None and ap4.lead == "Frau Müller"
    assert ap3 is not None and str(ap3.start) == "Q2 2025"
    assert ap1 is not None and not ap1.assumed
    assert new.meetings == plan.meetings
    # The new plan, exported again, reads back as no change.
    assert read_workbook(export(new), new) == ([], [])


def test_quarter_milestones_keep_their_quarter_when_untouched(plan: Plan, tmp_path: Path) -> None:
    def change(book: Any) -> None:
        ms = book["Meilensteine"]
        ms.cell(row_of(ms, "M3.3"), 3).value = "BiKo Herbst"
    edits, lines = read_workbook(edited(export(plan), change), plan)
    assert edits == [Edit("set", "milestone", "M3.3", (("title", "BiKo Herbst"),))]
    assert lines == ["M3.3 Titel „BiKo Herbst“ statt „BiKo hat stattgefunden“"]
    text = apply_edits(TEST_PLAN.read_text(encoding="utf-8"), tmp_path / "p.toml", edits).text
    entries = {e["id"]: e for e in tomllib.loads(text)["milestone"]}
    assert entries["M3.3"]["due"] == "Q4 2026" and entries["M3.2"]["due"] == "Q2 2026"


def test_typed_text_dates_quarters_and_confirmations_are_understood(plan: Plan) -> None:
    def change(book: Any) -> None:
        ms, aps = book["Meilensteine"], book["Arbeitspakete"]
        r = row_of(ms, "M3.2")
        ms.cell(r, 4).value = "15.5.26"
        ms.cell(r, 6).value = "Ja"
        ms.cell(row_of(ms, "M3.3"), 4).value = "Q3 2026"
        aps.cell(row_of(aps, "AP13"), 5).value = "2027-05-02"  # Q2 2027: unchanged
        aps.cell(row_of(aps, "AP12"), 7).value = True
    edits, lines = read_workbook(edited(export(plan), change), plan)
    assert edits == [
        Edit("set", "work_package", "AP12", (("assumed", False),)),
        Edit("set", "milestone", "M3.2", (("due", "2026-05-15"), ("assumed", False))),
        Edit("set", "milestone", "M3.3", (("due", "Q3 2026"),)),
    ]
    assert "M3.2 fällig 15.05.2026 bestätigt" in lines
    assert "M3.3 fällig 30.09.2026 statt 31.12.2026" in lines


def test_new_milestones_get_free_ids_and_never_one_just_removed(plan: Plan) -> None:
    def change(book: Any) -> None:
        ms = book["Meilensteine"]
        ms.delete_rows(row_of(ms, "M3.4"))
        ms.append([None, "AP3", "BiKo 5", date(2027, 3, 1), None, "nein"])
        ms.append(["M4.7", "AP 4", "Portal fertig", date(2027, 3, 31), None, None])
        ms.append([None, 4, "Portal online", date(2027, 3, 15), None, None])
    edits, lines = read_workbook(edited(export(plan), change), plan)
    assert [(e.op, e.id) for e in edits] == [("remove", "M3.4"), ("add", "M3.5"),
                                            ("add", "M4.7"), ("add", "M4.1")]
    assert edits[1].fields[-1] == ("assumed", True)  # "nein": an assumed date
    assert lines[1] == "neuer Meilenstein M3.5 „BiKo 5“ (AP 3), fällig 01.03.2027 (angenommen)"


def test_a_change_that_breaks_the_plan_is_left_to_apply_edits(plan: Plan,
                                                              tmp_path: Path) -> None:
    def change(book: Any) -> None:
        aps = book["Arbeitspakete"]
        aps.cell(row_of(aps, "AP3"), 5).value = date(2026, 3, 31)  # M3.3 and M3.4 outside
    edits, _ = read_workbook(edited(export(plan), change), plan)
    assert edits == [Edit("set", "work_package", "AP3", (("start", "Q1 2025"),
                                                         ("end", "Q1 2026")))]
    with pytest.raises(PlanEditError, match=r"M3\.2 wäre am 30\.06\.2026 fällig"):
        apply_edits(TEST_PLAN.read_text(encoding="utf-8"), tmp_path / "plan.toml", edits)


def set_cell(sheet: str, entry: str | None, column: int, value: Any,
             number_format: str | None = None) -> Callable[[Any], None]:
    def change(book: Any) -> None:
        ws = book[sheet]
        row = row_of(ws, entry) if entry else ws.max_row + 1
        ws.cell(row, column).value = value
        if number_format:  # a number in a date-formatted cell is a date to Excel, too
            ws.cell(row, column).number_format = number_format
        if entry is None:  # a new row needs something in it besides the bad cell
            ws.cell(row, 3).value = ws.cell(row, 3).value or "Neu"
    return change


@pytest.mark.parametrize(("change", "message"), [
    (set_cell("Meilensteine", "M3.2", 4, "31.02.2026"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: „31.02.2026“ ist kein Datum."),
    (set_cell("Meilensteine", "M3.2", 4, "demnächst"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: „demnächst“ ist kein Datum "
     "(z. B. 15.05.2026 oder ein Quartal wie „Q2 2026“)."),
    (set_cell("Meilensteine", "M3.2", 4, 46000, "General"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: „46000“ ist kein Datum"),
    (set_cell("Meilensteine", "M3.2", 4, None),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: leer – ein Meilenstein braucht ein "
     "Fälligkeitsdatum"),
    (set_cell("Meilensteine", "M3.2", 6, "vielleicht"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Bestätigt“: „vielleicht“ – bitte „ja“ oder "
     "„nein“ eintragen."),
    (set_cell("Meilensteine", "M3.2", 2, "AP99"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „AP“: „AP99“ ist kein Arbeitspaket des Plans "
     "(AP 1 bis AP 13)."),
    (set_cell("Meilensteine", "M3.2", 4, "=DATUM(2026;5;15)"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: „=DATUM(2026;5;15)“ ist eine Formel"),
    (set_cell("Meilensteine", "M3.2", 1, "M3.3"),
     "Blatt „Meilensteine“, Zeile 5, Spalte „ID“: M3.3 steht doppelt in der Tabelle."),
    (set_cell("Meilensteine", "M3.2", 1, "Sonstiges"),
     "Blatt „Meilensteine“, Zeile 4, Spalte „ID“: „Sonstiges“ ist keine Meilenstein-Kennung"),
    (set_cell("Meilensteine", None, 2, None),
     "Blatt „Meilensteine“, Zeile 8, Spalte „AP“: leer – bitte das Arbeitspaket eintragen"),
    (set_cell("Arbeitspakete", "AP4", 4, "Frühjahr"),
     "Blatt „Arbeitspakete“, Zeile 5, Spalte „Beginn“: „Frühjahr“ ist kein Datum"),
    (set_cell("Arbeitspakete", "AP4", 5, None),
     "Blatt „Arbeitspakete“, Zeile 5, Spalte „Ende“: leer – ein Arbeitspaket braucht Beginn "
     "und Ende."),
    (set_cell("Arbeitspakete", "AP4", 2, " "),
     "Blatt „Arbeitspakete“, Zeile 5, Spalte „Titel“: leer – ein Arbeitspaket braucht einen "
     "Titel."),
    (set_cell("Arbeitspakete", "AP4", 1, "AP14"),
     "Blatt „Arbeitspakete“, Zeile 5, Spalte „ID“: „AP14“ ist kein Arbeitspaket des Plans"),
    (set_cell("Arbeitspakete", None, 1, None),
     "Blatt „Arbeitspakete“, Zeile 15, Spalte „ID“: leer – Arbeitspakete lassen sich hier "
     "nicht anlegen"),
])
def test_a_cell_it_cannot_read_is_named_by_sheet_row_and_column(
        plan: Plan, change: Callable[[Any], None], message: str) -> None:
    with pytest.raises(WorkbookError) as caught:
        read_workbook(edited(export(plan), change), plan)
    assert str(caught.value).startswith(message), str(caught.value)


def test_a_missing_sheet_or_column_is_named(plan: Plan) -> None:
    def drop_sheet(book: Any) -> None:
        del book["Meilensteine"]

    def rename_column(book: Any) -> None:
        book["Arbeitspakete"]["F1"].value = "Leitung"

    with pytest.raises(WorkbookError, match="Das Blatt „Meilensteine“ fehlt"):
        read_workbook(edited(export(plan), drop_sheet), plan)
    with pytest.raises(WorkbookError, match="Blatt „Arbeitspakete“: die Spalte „Zuständig“ "
                       "fehlt"):
        read_workbook(edited(export(plan), rename_column), plan)


def docx_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.mark.parametrize("data", [
    b"", b"\x00\x01garbage" * 100, b"ID;Titel\nAP1;x\n", docx_bytes(),
    b"PK\x03\x04" + bytes(200),
], ids=["empty", "random", "csv", "docx", "broken-zip"])
def test_not_a_workbook(plan: Plan, data: bytes) -> None:
    with pytest.raises(WorkbookError) as caught:
        read_workbook(data, plan)
    assert str(caught.value) == NOT_A_WORKBOOK == "Die Datei ist keine Excel-Arbeitsmappe (.xlsx)."


def test_a_truncated_workbook_is_not_a_workbook(plan: Plan) -> None:
    data = export(plan)
    with pytest.raises(WorkbookError, match=r"keine Excel-Arbeitsmappe"):
        read_workbook(data[: len(data) // 2], plan)


# -- the chat -----------------------------------------------------------------------


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    shutil.copyfile(TEST_PLAN, d / "plan.toml")
    return d


@pytest.fixture
def store(data_dir: Path) -> Iterator[Store]:
    s = Store.open(data_dir, NOW)
    yield s
    s.close()


@pytest.fixture
def core(data_dir: Path, store: Store) -> Core:
    settings = Settings(team_chat_id=TEAM, admin_ids=frozenset({ADMIN}), timezone=TZ,
                        data_dir=data_dir, plan_path=data_dir / "plan.toml")
    return Core(Context(settings, load_plan(data_dir / "plan.toml"), store), COMMANDS)


def sent_by(user: int, name: str) -> Incoming:
    return Incoming(text="", chat_id=TEAM, user_id=user, user_name=name,
                    chat_type="supergroup", message_id=next(_ids), date=NOW)


def test_plan_excel_sends_the_workbook_as_a_document(core: Core) -> None:
    [command] = WORKBOOK_COMMANDS
    assert (command.name, command.description) == ("plan_excel",
                                                   "Den Plan als Excel-Datei (.xlsx)")
    [reply] = excel_command(core.ctx, sent_by(MEMBER, "Max"), "", NOW)
    attachment = reply.attachment
    assert attachment is not None
    assert (attachment.kind, attachment.filename) == ("document", "arbeits-und-zeitplan.xlsx")
    assert "zurückschicken" in attachment.caption and len(attachment.caption) <= 1024
    book = openpyxl.load_workbook(io.BytesIO(attachment.data))
    assert book["Meilensteine"].max_row == 1 + len(core.ctx.plan.milestones)


def test_an_admin_sends_it_back_previews_and_takes_the_change(core: Core,
                                                             data_dir: Path) -> None:
    data = edited(export(core.ctx.plan), round_trip_edits)
    replies = workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), data, NOW)
    assert isinstance(replies, list)
    [preview] = replies
    assert "M3.2 fällig 15.05.2026 statt 30.06.2026" in preview.text
    assert "AP 4 zuständig: Frau Müller (bisher: noch niemand)" in preview.text
    assert tomllib.loads((data_dir / "plan.toml").read_text(encoding="utf-8")) == \
        tomllib.loads(TEST_PLAN.read_text(encoding="utf-8"))  # nothing yet
    ok = next(b.data for b in preview.buttons if b.label == "Übernehmen")
    result = core.press(ButtonPress(ok, TEAM, ADMIN, "Bea"), NOW)
    assert result.notice == "Übernommen.", result
    assert core.ctx.plan.milestone("M3.2").due == date(2026, 5, 15)  # type: ignore[union-attr]
    assert core.ctx.plan.milestone("M4.1") is not None
    [change] = core.ctx.store.plan_changes()
    assert change["by_name"] == "Bea" and "neuer Meilenstein M4.1" in "; ".join(change["lines"])
    # The same file sent again: its new row is M4.1 now, not another milestone.
    assert workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), data, NOW) == NO_CHANGES


def test_a_member_is_refused_and_bad_workbooks_change_nothing(core: Core) -> None:
    data = edited(export(core.ctx.plan), round_trip_edits)
    refused = workbook_sent(core.ctx, sent_by(MEMBER, "Max"), data, NOW)
    assert isinstance(refused, str) and refused.startswith("Den Plan ändern nur die Admins")
    assert workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), b"nonsense", NOW) == (
        "Die Datei ist keine Excel-Arbeitsmappe (.xlsx). Ich habe nichts geändert.")
    bad = edited(export(core.ctx.plan), set_cell("Meilensteine", "M3.2", 4, "31.02.2026"))
    assert workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), bad, NOW) == (
        "Blatt „Meilensteine“, Zeile 4, Spalte „Fällig“: „31.02.2026“ ist kein Datum. "
        "Ich habe nichts geändert.")
    outside = edited(export(core.ctx.plan), set_cell("Meilensteine", "M3.2", 4,
                                                     date(2024, 5, 1)))
    answer = workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), outside, NOW)
    assert isinstance(answer, str) and answer.startswith("Das ergäbe keinen gültigen Plan")
    assert answer.endswith(" Ich habe nichts geändert.")
    assert workbook_sent(core.ctx, sent_by(ADMIN, "Bea"), export(core.ctx.plan), NOW) == \
        NO_CHANGES == "Die Arbeitsmappe enthält keine Änderungen am Plan."
    assert core.ctx.store.plan_changes() == []


# -- the command line, as its own process --------------------------------------------


def fixture_digest() -> str:
    return hashlib.sha256(TEST_PLAN.read_bytes()).hexdigest()


def plan_cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot plan …` on the copy of the test plan in `data_dir`.

    Not tests/run_cli.py: it points APBOT_PLAN at the fixture, and `plan import --yes`
    writes to the plan the bot runs on.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("APBOT_", "TELEGRAM_"))}
    env.update(APBOT_DATA_DIR=str(data_dir), APBOT_PLAN=str(data_dir / "plan.toml"))
    return subprocess.run([sys.executable, "-m", "bot", "plan", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def cli_data(tmp_path: Path) -> Iterator[Path]:
    d = tmp_path / "cli-data"
    d.mkdir()
    shutil.copyfile(TEST_PLAN, d / "plan.toml")
    before = fixture_digest()
    yield d
    assert fixture_digest() == before, "the test plan fixture must never be written"


def test_cli_export_writes_a_workbook_beside_a_running_bot(cli_data: Path,
                                                          tmp_path: Path) -> None:
    running = Store.open(cli_data, NOW)  # holds the lock, as the running bot does
    try:
        out = tmp_path / "plan.xlsx"
        done = plan_cli(cli_data, "export", str(out))
    finally:
        running.close()
    assert done.returncode == 0, done.stderr
    assert "plan.xlsx geschrieben" in done.stdout
    book = openpyxl.load_workbook(out)
    assert book.sheetnames[:3] == ["Arbeitspakete", "Meilensteine", "Sitzungen"]
    assert book["Meilensteine"]["D2"].is_date


def test_cli_import_shows_the_differences_and_changes_only_with_yes(cli_data: Path,
                                                                   tmp_path: Path) -> None:
    plan_file = cli_data / "plan.toml"
    original = plan_file.read_bytes()
    workbook = tmp_path / "bearbeitet.xlsx"
    workbook.write_bytes(edited(export(load_plan(plan_file)), round_trip_edits))

    shown = plan_cli(cli_data, "import", str(workbook))
    assert shown.returncode == 0, shown.stderr
    assert "M3.2 fällig 15.05.2026 statt 30.06.2026" in shown.stdout
    assert "AP 4 zuständig: Frau Müller (bisher: noch niemand)" in shown.stdout
    assert "Nichts geändert" in shown.stdout and "--yes" in shown.stdout
    assert plan_file.read_bytes() == original

    running = Store.open(cli_data, NOW)
    try:
        locked = plan_cli(cli_data, "import", str(workbook), "--yes")
    finally:
        running.close()
    assert locked.returncode == 2
    assert "läuft schon ein apbot" in locked.stderr and "Traceback" not in locked.stderr
    assert plan_file.read_bytes() == original

    taken = plan_cli(cli_data, "import", str(workbook), "--yes")
    assert taken.returncode == 0, taken.stderr
    assert "Übernommen" in taken.stdout
    new = load_plan(plan_file)
    assert new.milestone("M3.2").due == date(2026, 5, 15)  # type: ignore[union-attr]
    assert new.work_package("AP4").lead == "Frau Müller"  # type: ignore[union-attr]
    assert "# Arbeits- und Zeitplan Bildungskommunen" in plan_file.read_text(encoding="utf-8")
    assert list((cli_data / "plan-versions").glob("plan-*.toml"))  # the version before
    store = Store.open(cli_data, NOW)
    try:
        [change] = store.plan_changes()
    finally:
        store.close()
    assert change["by"] == "0" and change["by_name"] == "Kommandozeile"
    assert "M3.2 fällig 15.05.2026 statt 30.06.2026" in change["lines"]

    again = plan_cli(cli_data, "import", str(workbook))
    assert again.returncode == 0 and "keine Änderungen" in again.stdout


def test_cli_import_of_a_bad_file_says_what_and_changes_nothing(cli_data: Path,
                                                               tmp_path: Path) -> None:
    bad = tmp_path / "kaputt.xlsx"
    bad.write_bytes(b"not a workbook")
    done = plan_cli(cli_data, "import", str(bad), "--yes")
    assert done.returncode == 2
    assert "Die Datei ist keine Excel-Arbeitsmappe (.xlsx)." in done.stderr
    assert (cli_data / "plan.toml").read_bytes() == TEST_PLAN.read_bytes()
    missing = plan_cli(cli_data, "import", str(tmp_path / "fehlt.xlsx"))
    assert missing.returncode == 2 and "lässt sich nicht lesen" in missing.stderr

