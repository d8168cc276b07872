"""/bericht, /meldungen and the CSV export: the period report's data, the Sachbericht as
Word, PDF and Markdown, the reports as an Excel workbook and as CSV for scripts."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from bot.commands import COMMANDS
from bot.core import Core
from bot.files import report_period
from bot.messages import Context, Incoming, Reply
from bot.render.report_document import SUMMARY_COLUMNS, ReportDocument, report_document
from bot.render.report_export import (
    CSV_HEADER,
    md_escape,
    report_docx,
    report_markdown,
    report_pdf,
    updates_csv,
)
from bot.render.updates_workbook import (
    AP_COLUMNS,
    MILESTONE_COLUMNS,
    UPDATE_COLUMNS,
    updates_workbook,
)
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.office_files import docx, docx_lines, pdf_pages
from tests.run_cli import run_cli
from workflows.periods import Period, quarter_period, year_period
from workflows.plan import Plan, load_plan
from workflows.progress import Author, MilestoneMark, Update
from workflows.quarters import Quarter
from workflows.report import Report, period_report
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 2, 3, 10, 0, tzinfo=TZ)  # early 2027: the report on 2026 is due
TODAY = NOW.date()
TEAM = -100123
ANNA, BEN = Author(2, "Anna Adler"), Author(3, "Ben Berg")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({1}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=PLAN_PATH)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), TZ).replace(hour=hour)


def add(store: Store, ap: str, day: str, text: str, author: Author = ANNA,
        **fields: object) -> Update:
    update = Update(ap=ap, text=text, author=author, chat_id=TEAM, message_id=None, at=at(day),
                    **fields)  # type: ignore[arg-type]
    return store.add_update(update, NOW)


def reach(store: Store, milestone: str, day: str) -> None:
    store.add_mark(MilestoneMark(milestone=milestone, reached_on=date.fromisoformat(day),
                                 author=ANNA, chat_id=TEAM, message_id=None, at=at(day)), NOW)


@pytest.fixture
def history(store: Store) -> Store:
    """A year of reports around 2026."""
    add(store, "AP1", "2025-05-10", "Bestandsaufnahme fertig", state="abgeschlossen")
    add(store, "AP2", "2025-11-04", "Entwurf Leitbild", state="läuft", percent=50)
    add(store, "AP2", "2026-03-20", "Leitbild im Stadtrat beschlossen", state="abgeschlossen")
    reach(store, "M2.1", "2026-03-20")
    add(store, "AP3", "2025-12-02", "BiKo 1 durchgeführt")
    reach(store, "M3.1", "2025-12-02")
    add(store, "AP3", "2026-06-12", "BiKo 2 | Rathaus, 120 Gäste", BEN, percent=60)
    reach(store, "M3.2", "2026-06-12")
    add(store, "AP3", "2026-09-01", "Irrtum", withdrawn=True)
    add(store, "AP3", "2027-01-15", "BiKo 3 verschoben", state="verzögert", percent=70)
    add(store, "AP8", "2026-10-01", "Flyer\ngedruckt", BEN, state="läuft",
        forwarded_from="Presseamt")
    return store


def report(plan: Plan, store: Store, period: Period, today: date = TODAY) -> Report:
    return period_report(plan, store.updates(), store.marks(), period, today)


def markdown(plan: Plan, rep: Report) -> str:
    return report_markdown(report_document(plan, rep, TODAY))


def document(plan: Plan, store: Store, period: Period) -> ReportDocument:
    return report_document(plan, report(plan, store, period), TODAY)


# What the team writes, as written: gender stars, quotes, tags, ampersands, a formula.
TRICKY = 'Kolleg*innen & „Gäste“ eingeladen: "Zitat", <b>fett</b>, =SUM(A1) -- 3 ... 4_5'


# -- the report's data ------------------------------------------------------------


def test_year_report_rows_states_milestones_and_updates(plan: Plan, history: Store) -> None:
    rep = report(plan, history, year_period(2026))
    assert rep.as_of == date(2026, 12, 31)
    ids = [r.wp.id for r in rep.rows]
    assert ids == [f"AP{n}" for n in range(2, 14)]  # AP1 ended in 2025 and said nothing since

    ap2 = next(r for r in rep.rows if r.wp.id == "AP2")
    assert (ap2.phase, ap2.state, ap2.percent) == ("beendet", "abgeschlossen", 100)
    assert [(s.milestone.id, s.reached_on) for s in ap2.reached] == [("M2.1", date(2026, 3, 20))]
    assert ap2.open == ()
    assert [u.text for u in ap2.updates] == ["Leitbild im Stadtrat beschlossen"]

    ap3 = next(r for r in rep.rows if r.wp.id == "AP3")
    # as of 31.12.2026: the January report and the withdrawn one do not count
    assert (ap3.state, ap3.percent) == (None, 60)
    assert [s.milestone.id for s in ap3.reached] == ["M3.2"]  # M3.1 was reached in 2025
    # due on the period's last day: not yet overdue then
    assert [(s.milestone.id, s.kind) for s in ap3.open] == [("M3.3", "bald"), ("M3.4", "offen")]
    assert [u.text for u in ap3.updates] == ["BiKo 2 | Rathaus, 120 Gäste"]
    assert (rep.update_count, rep.reached_count) == (3, 2)
    # M3.3 is due on the period's last day and was not reached by then; no reason reported
    assert ([s.milestone.id for s in ap3.due_open], ap3.setbacks) == (["M3.3"], ())


def test_quarter_report_while_it_runs(plan: Plan, history: Store) -> None:
    rep = report(plan, history, quarter_period(Quarter(2027, 1)))
    assert rep.as_of == TODAY
    ap3 = next(r for r in rep.rows if r.wp.id == "AP3")
    assert (ap3.state, ap3.percent) == ("verzögert", 70)
    assert [u.text for u in ap3.updates] == ["BiKo 3 verschoben"]
    assert [(s.milestone.id, s.kind) for s in ap3.open] == [("M3.3", "überfällig"),
                                                             ("M3.4", "offen")]
    assert [s.milestone.id for s in ap3.due_open] == ["M3.3"]
    assert [s.milestone.id for s in ap3.ahead] == ["M3.4"]
    assert [u.text for u in ap3.setbacks] == ["BiKo 3 verschoben"]  # the reason reported
    text = markdown(plan, rep)
    assert "Stand der Angaben: 03.02.2027 (der Berichtszeitraum läuft noch)  " in text
    assert ("- M3.3 BiKo hat stattgefunden – fällig 31.12.2026 (angenommen) – überfällig\n"
            in text)
    assert ("- Gemeldet am 15.01.2027 von Anna Adler (verzögert): BiKo 3 verschoben\n"
            in text)
    assert not any(r.wp.id in ("AP1", "AP2") for r in rep.rows)


def test_an_ended_ap_with_news_in_the_period_is_reported(plan: Plan, history: Store) -> None:
    add(history, "AP1", "2026-02-01", "Nachtrag Bestandsaufnahme")
    rep = report(plan, history, year_period(2026))
    assert rep.rows[0].wp.id == "AP1"
    assert [u.text for u in rep.rows[0].updates] == ["Nachtrag Bestandsaufnahme"]


# -- Markdown (the command line) ----------------------------------------------------


def test_markdown_report_at_a_fixed_date(plan: Plan, history: Store) -> None:
    text = markdown(plan, report(plan, history, year_period(2026)))
    lines = text.split("\n")
    assert lines[0] == "# Sachbericht 2026 – Bildungskommunen – Arbeits- und Zeitplan"
    assert "Berichtszeitraum: 01.01.2026 – 31.12.2026  " in lines
    assert "Stand der Angaben: 31.12.2026  " in lines
    assert "Erstellt am: 03.02.2027  " in lines
    assert "*Entwurf – erzeugt aus den Meldungen im Team-Chat*" in lines
    header = lines.index("## Übersicht") + 2
    assert lines[header] == ("| AP | Zeitraum laut Plan | Stand am Ende des Zeitraums | "
                             "Fortschritt | Meilensteine erreicht/fällig |")
    assert lines[header + 2] == ("| AP 2 Leitbildentwicklung | Q1 2025 – Q1 2026 (angenommen) "
                                 "| abgeschlossen | 100 % | 1 / 1 |")
    assert lines[header + 3] == ("| AP 3 Bildungskonferenzen | Q1 2025 – Q2 2027 (angenommen) "
                                 "| ohne Zustand | 60 % | 1 / 2 |")
    assert ("| AP 4 Bildungsportal | Q2 2025 – Q2 2027 (angenommen) | keine Meldung | – | – |"
            in lines)
    assert "Im Berichtszeitraum: 3 Meldungen, 2 Meilensteine erreicht." in lines

    section = text.split("## AP 3 – Bildungskonferenzen\n\n")[1].split("\n## ")[0]
    assert section.split("\n") == [
        "Zeitraum laut Plan: Q1 2025 – Q2 2027 (angenommen); am 31.12.2026: läuft. Stand am "
        "31.12.2026: ohne Zustand, Fortschritt 60 % (letzte Meldung 12.06.2026).",
        "",
        "### Ziele laut Plan",
        "",
        "Themenerarbeitung und Konzeption, Organisation und Durchführung, Nacharbeit",
        "",
        "### Umgesetzt im Berichtszeitraum (1 Meldung)",
        "",
        "- 12.06.2026, Ben Berg: BiKo 2 \\| Rathaus, 120 Gäste",
        "",
        "### Erreichte Meilensteine",
        "",
        "- M3.2 BiKo hat stattgefunden – erreicht am 12.06.2026 (fällig 30.06.2026 "
        "(angenommen))",
        "",
        "### Fällig und nicht erreicht",
        "",
        "- M3.3 BiKo hat stattgefunden – fällig 31.12.2026 (angenommen)",
        "",
        "Gründe laut Meldungen:",
        "",
        "- Gründe wurden im Team-Chat nicht gemeldet.",
        "",
        "### Ausblick",
        "",
        "- Laut Plan läuft AP 3 bis Q2 2027.",
        "- Nächster Meilenstein: M3.4 BiKo hat stattgefunden – fällig 30.06.2027 (angenommen)",
        "",
    ]
    # a line break in a report stays one, forwarded reports say from where
    assert "- 01.10.2026, Ben Berg (weitergeleitet von Presseamt): Flyer\\\n  gedruckt" in text
    assert "Irrtum" not in text and "BiKo 3 verschoben" not in text


@pytest.mark.parametrize("text", [
    TRICKY, "# keine Überschrift", "- kein Punkt", "1. keine Liste", "> kein Zitat",
    "a\\b `c` [d](e) ~~f~~ &amp; &#169; <!-- g -->", "Zeile 1\nZeile 2", "===", "+ x", "*",
])
def test_markdown_escaping_keeps_user_text_as_written(text: str) -> None:
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark", {"html": True}).enable("table").render(
        md_escape(text))
    # CommonMark's HTML holds the text escaped once; nothing became markup.
    import html
    plain = html.unescape(rendered.removeprefix("<p>").removesuffix("</p>\n"))
    assert plain == text


def test_markdown_escapes_pipes_and_markup_in_the_table(plan: Plan, store: Store) -> None:
    from dataclasses import replace

    odd = replace(plan, work_packages=(replace(plan.work_packages[0], title="A | B *C*"),))
    text = markdown(odd, report(odd, store, year_period(2025)))
    assert "| AP 1 A \\| B \\*C\\* |" in text


def test_report_of_an_empty_store(plan: Plan, store: Store) -> None:
    text = markdown(plan, report(plan, store, year_period(2026)))
    assert "Im Berichtszeitraum: 0 Meldungen, 0 Meilensteine erreicht." in text
    assert text.count("| keine Meldung | – |") == 12


# -- Word ---------------------------------------------------------------------------------


def test_word_report_reads_back_with_python_docx(plan: Plan, history: Store) -> None:
    add(history, "AP3", "2026-11-20", TRICKY, BEN)
    data = report_docx(document(plan, history, year_period(2026)))
    word = docx(data)
    assert word.core_properties.title == "Sachbericht 2026"
    assert word.core_properties.language == "de-DE"
    lines = docx_lines(data)
    assert lines[:5] == ["Sachbericht 2026",
                         "Programm: Bildungskommunen – Arbeits- und Zeitplan",
                         "Berichtszeitraum: 01.01.2026 – 31.12.2026",
                         "Stand der Angaben: 31.12.2026", "Erstellt am: 03.02.2027"]
    assert "Entwurf – erzeugt aus den Meldungen im Team-Chat" in lines
    # the team's text exactly as written, dated, with its author; the withdrawn one left out
    assert f"20.11.2026, Ben Berg: {TRICKY}" in lines
    assert "12.06.2026, Ben Berg: BiKo 2 | Rathaus, 120 Gäste" in lines
    assert "Irrtum" not in "\n".join(lines)

    [table] = word.tables
    assert tuple(c.text for c in table.rows[0].cells) == SUMMARY_COLUMNS
    assert len(table.rows) == 1 + 12
    assert [c.text for c in table.rows[2].cells] == [
        "AP 3 Bildungskonferenzen", "Q1 2025 – Q2 2027 (angenommen)", "ohne Zustand", "60 %",
        "1 / 2"]
    widths = [col.width.cm for col in table.columns]
    assert 16.5 < sum(widths) < 17.5  # the page's width between its margins
    assert widths[0] == max(widths) and min(widths) > 2.5  # the AP column, none squeezed

    headings = [(p.style.name, p.text) for p in word.paragraphs
                if p.style.name.startswith("Heading")]
    ap3 = headings.index(("Heading 1", "AP 3 – Bildungskonferenzen"))
    assert headings[ap3:ap3 + 6] == [
        ("Heading 1", "AP 3 – Bildungskonferenzen"), ("Heading 2", "Ziele laut Plan"),
        ("Heading 2", "Umgesetzt im Berichtszeitraum (2 Meldungen)"),
        ("Heading 2", "Erreichte Meilensteine"), ("Heading 2", "Fällig und nicht erreicht"),
        ("Heading 2", "Ausblick")]
    bullets = [p.text for p in word.paragraphs if p.style.name == "List Bullet"]
    assert "M3.2 BiKo hat stattgefunden – erreicht am 12.06.2026 (fällig 30.06.2026 " \
           "(angenommen))" in bullets


def test_word_report_keeps_line_breaks_and_replaces_only_unwritable_characters(
        plan: Plan, store: Store) -> None:
    add(store, "AP3", "2026-05-04", "Zeile 1\nZeile 2\x07 😀")
    lines = docx_lines(report_docx(document(plan, store, year_period(2026))))
    assert "04.05.2026, Anna Adler: Zeile 1\nZeile 2\ufffd 😀" in lines


# -- PDF ------------------------------------------------------------------------------------


def test_pdf_report_has_the_same_content(plan: Plan, history: Store) -> None:
    add(history, "AP3", "2026-11-20", TRICKY, BEN)
    pages = pdf_pages(report_pdf(document(plan, history, year_period(2026))))
    assert 3 <= len(pages) <= 12
    first = pages[0]
    assert first.startswith("Sachbericht 2026\n")
    assert "Entwurf – erzeugt aus den Meldungen im Team-Chat" in first
    assert "Stand am Ende" in first and "Meilensteine" in first  # the summary table
    for n, page in enumerate(pages, start=1):
        assert page.rstrip().endswith(f"Sachbericht 2026 – Seite {n} von {len(pages)}")
    flat = " ".join(" ".join(pages).split())
    assert f"20.11.2026, Ben Berg: {TRICKY}" in flat
    assert "AP 13 – Spezialisierte" in flat or "AP 13 – spezialisierte" in flat
    assert "Irrtum" not in flat


def test_pdf_wraps_long_reports_keeping_every_character(plan: Plan, store: Store) -> None:
    long_word = "Bildungs" + "x" * 150 + "ende"
    long_text = " ".join(f"Wort{n}" for n in range(120)) + "\nneue Zeile"
    add(store, "AP3", "2026-05-04", long_word)
    add(store, "AP3", "2026-05-05", long_text)
    pages = pdf_pages(report_pdf(document(plan, store, year_period(2026))))
    squeezed = "".join("".join(pages).split())
    assert "".join(f"04.05.2026, Anna Adler: {long_word}".split()) in squeezed
    assert "".join(f"05.05.2026, Anna Adler: {long_text}".split()) in squeezed
    lines = "\n".join(pages).split("\n")
    assert max(len(line) for line in lines) < 120  # broken into lines that fit the page


def test_reports_are_quick(plan: Plan, history: Store) -> None:
    import time

    doc = document(plan, history, year_period(2026))
    started = time.perf_counter()
    report_docx(doc)
    report_pdf(doc)
    # About 1.5 s here with the imports (0.3 s Word, 1.2 s PDF); generous for a busy machine.
    assert time.perf_counter() - started < 10


# -- periods and the command ------------------------------------------------------------


@pytest.mark.parametrize(("args", "expected"), [
    ("", ("2027", date(2027, 1, 1), date(2027, 12, 31))),
    ("2026", ("2026", date(2026, 1, 1), date(2026, 12, 31))),
    ("Q3 2026", ("Q3 2026", date(2026, 7, 1), date(2026, 9, 30))),
    ("3/2026", ("Q3 2026", date(2026, 7, 1), date(2026, 9, 30))),
    ("letztes Quartal", ("letztes Quartal (Q4 2026)", date(2026, 10, 1), date(2026, 12, 31))),
    ("Juni 2026", ("Juni 2026", date(2026, 6, 1), date(2026, 6, 30))),
    ("Murks", None),
    ("heute", None),
])
def test_report_periods(args: str, expected: tuple[str, date, date] | None) -> None:
    period = report_period(args, TODAY)
    got = None if period is None else (period.label, period.start, period.end)
    assert got == expected


def ask(core: Core, text: str, chat_id: str = TEAM) -> list[Reply]:
    return core.handle(Incoming(text=text, chat_id=chat_id, user_id="2", user_name="Anna",
                                chat_type="supergroup", message_id="1"), NOW)


@pytest.fixture
def core(settings: Settings, plan: Plan, history: Store) -> Core:
    return Core(Context(settings, plan, history), COMMANDS)


def test_bericht_sends_word_and_on_request_pdf(core: Core) -> None:
    [reply] = ask(core, "/bericht 2026")
    file = reply.attachment
    assert file is not None and file.kind == "document"
    assert file.filename == "sachbericht-2026.docx"
    assert not file.is_rendered  # drawn by the front-end, in a worker thread
    assert file.caption == (
        "📝 <b>Sachbericht 2026</b> (01.01.2026 – 31.12.2026) als Word-Datei zum Bearbeiten, "
        "ein Entwurf aus den 3 Meldungen des Zeitraums: Übersicht, dann je Arbeitspaket Ziele, "
        "Umgesetztes, Meilensteine und Ausblick. Als PDF: /bericht 2026 pdf")
    assert docx_lines(file.data)[0] == "Sachbericht 2026"
    assert "export report --period 2026 bericht.docx" in file.fallback_text
    for text in ("/bericht 2026 pdf", "/bericht PDF 2026", "/bericht 2026 als PDF"):
        [pdf] = ask(core, text)
        assert pdf.attachment is not None, text
        assert pdf.attachment.filename == "sachbericht-2026.pdf"
        assert " als PDF, ein Entwurf" in pdf.attachment.caption
    assert pdf_pages(pdf.attachment.data)[0].startswith("Sachbericht 2026\n")
    [quarter] = ask(core, "/report Q3 2026")
    assert quarter.attachment is not None
    assert quarter.attachment.filename == "sachbericht-2026-Q3.docx"
    assert quarter.attachment.caption.endswith("Als PDF: /bericht Q3 2026 pdf")
    [month] = ask(core, "/bericht Juni 2026 word")
    assert month.attachment is not None
    assert month.attachment.caption.endswith("Als PDF: /bericht Juni 2026 pdf")
    [this_year] = ask(core, "/bericht pdf")
    assert this_year.attachment is not None
    assert this_year.attachment.filename == "sachbericht-2027.pdf"


def test_bericht_explains_a_period_it_does_not_understand(core: Core) -> None:
    [reply] = ask(core, "/bericht <irgendwann>")
    assert reply.attachment is None
    assert reply.text.startswith("„&lt;irgendwann&gt;“ verstehe ich nicht als Berichtszeitraum")
    assert "/bericht Q3 2026" in reply.text


def test_bericht_only_in_allowed_chats(core: Core) -> None:
    [reply] = ask(core, "/bericht 2026", chat_id="-100999")
    assert reply.attachment is None and "nur für das Koordinierungsteam" in reply.text


# -- CSV --------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM tells Excel it is UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_has_every_update_and_milestone_numbered_without_gaps(plan: Plan,
                                                                 history: Store) -> None:
    add(history, "AP5", "2026-11-02", "=SUMME(A1:A9) und - Strich", ANNA, percent=10)
    add(history, "AP5", "2026-11-03", "- erledigt", ANNA)
    rows = read_csv(updates_csv(plan, history.updates(), TZ, history.marks()))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + len(history.updates()) + len(history.marks()) == 14
    assert [r[0] for r in rows[1:]] == [str(n) for n in range(1, 14)]
    assert rows[1] == ["1", "Meldung", "10.05.2025", "09:00", "AP 1", "Grundlagen und Analyse "
                       "der Ausgangssituation", "Anna Adler", "Bestandsaufnahme fertig",
                       "abgeschlossen", "", "", "", "nein"]
    by_text = {r[7]: r for r in rows[1:]}
    assert by_text["BiKo 2 | Rathaus, 120 Gäste"][6] == "Ben Berg"
    assert by_text["BiKo 2 | Rathaus, 120 Gäste"][9] == "60"
    assert by_text["Irrtum"][12] == "ja"  # withdrawn, kept and marked
    assert by_text["Flyer\ngedruckt"][11] == "Presseamt"  # line breaks survive quoting
    # the milestone reached that day comes after the day's report
    biko = [r for r in rows[1:] if r[2] == "12.06.2026"]
    assert [r[1] for r in biko] == ["Meldung", "Meilenstein"]
    assert biko[1][3:] == ["", "AP 3", "Bildungskonferenzen", "Anna Adler",
                           "BiKo hat stattgefunden", "", "", "M3.2", "", "nein"]
    # Excel would run these as formulas, should someone open the file there
    assert "'=SUMME(A1:A9) und - Strich" in by_text
    assert "'- erledigt" in by_text
    assert [r[2] for r in rows[1:]] == sorted((r[2] for r in rows[1:]),
                                               key=lambda d: d.split(".")[::-1])


def test_csv_of_an_empty_store_is_just_the_header(plan: Plan, store: Store) -> None:
    data = updates_csv(plan, store.updates(), TZ)
    assert data == ("\ufeff" + ";".join(CSV_HEADER) + "\r\n").encode("utf-8")


# -- the CLI ------------------------------------------------------------------------------


def test_cli_export_report_and_csv(settings: Settings, history: Store, tmp_path: Path) -> None:
    # `history` keeps the store open and locked, as the running bot does.
    md, table = tmp_path / "bericht.md", tmp_path / "meldungen.csv"
    done = run_cli(settings.data_dir, "export", "report", "--period", "2026", str(md))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{md} geschrieben")
    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Sachbericht 2026 – ")
    assert "- 12.06.2026, Ben Berg: BiKo 2 \\| Rathaus, 120 Gäste" in text
    # Word by --format, PDF by the file's extension
    for extra in (["--format", "docx", str(tmp_path / "bericht.bin")],
                  [str(tmp_path / "bericht.pdf")]):
        done = run_cli(settings.data_dir, "export", "report", "--period", "Q3 2026", *extra)
        assert done.returncode == 0, done.stderr
    assert docx_lines((tmp_path / "bericht.bin").read_bytes())[0] == "Sachbericht Q3 2026"
    assert pdf_pages((tmp_path / "bericht.pdf").read_bytes())[0].startswith(
        "Sachbericht Q3 2026")
    done = run_cli(settings.data_dir, "export", "csv", str(table))
    assert done.returncode == 0, done.stderr
    assert read_csv(table.read_bytes()) == read_csv(updates_csv(
        load_plan(PLAN_PATH), history.updates(), TZ, history.marks()))


def test_cli_export_report_with_a_bad_period(settings: Settings, tmp_path: Path) -> None:
    done = run_cli(settings.data_dir, "export", "report", "--period", "irgendwann",
                   str(tmp_path / "b.md"))
    assert done.returncode == 2
    assert "„irgendwann“ ist kein Berichtszeitraum" in done.stderr
    assert not (tmp_path / "b.md").exists()


@pytest.mark.parametrize("argv", [["export"], ["export", "pdf", "x"], ["export", "csv"]])
def test_cli_export_needs_a_kind_and_a_file(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)  # argparse stops before anything is set up
    assert info.value.code == 2


# -- Excel: /meldungen ------------------------------------------------------------------


def open_book(data: bytes) -> Any:
    import openpyxl

    return openpyxl.load_workbook(io.BytesIO(data))


def days(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """openpyxl reads a date cell as a naive datetime at midnight: its day."""
    return tuple(v.date() if isinstance(v, datetime) else v for v in row)


def test_meldungen_workbook_reads_back_with_openpyxl(plan: Plan, history: Store) -> None:
    add(history, "AP5", "2026-11-02", "=SUM(A1)", ANNA, percent=10)
    add(history, "AP5", "2026-11-03", TRICKY, BEN)
    add(history, "AP5", "2026-11-04", "- erledigt\n+ neu", BEN)
    data = updates_workbook(plan, history.updates(), history.marks(), None, TODAY, TZ)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()  # no formula
    book = open_book(data)
    assert book.sheetnames == ["Meldungen", "Meilensteine", "Arbeitspakete"]

    sheet = book["Meldungen"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == UPDATE_COLUMNS
    assert len(rows) == 1 + 11
    assert [r[0] for r in rows[1:]] == list(range(1, 12))  # numbered without gaps
    assert days(rows[1][:10]) == (1, date(2025, 5, 10), time(9, 0), "AP 1",
                            "Grundlagen und Analyse der Ausgangssituation", "Anna Adler",
                            "Bestandsaufnahme fertig", "abgeschlossen", None, "nein")
    assert sheet["B2"].is_date and sheet["B2"].number_format == "DD.MM.YYYY"
    assert sheet["C2"].number_format == "HH:MM"
    by_text = {r[6]: r for r in rows[1:]}
    assert by_text["Irrtum"][9] == "ja"  # withdrawn, kept and marked
    assert by_text["BiKo 2 | Rathaus, 120 Gäste"][8] == 60
    assert by_text["Flyer\ngedruckt"][10] == "Presseamt"
    # the team's text as written: no formula, no apostrophe, text also when edited
    for text in ("=SUM(A1)", TRICKY, "- erledigt\n+ neu"):
        row = next(r for r in sheet.iter_rows(min_row=2) if r[6].value == text)
        cell = row[6]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (text, "s", False)
        assert cell.number_format == "@"
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:K12"
    widths = {c: sheet.column_dimensions[c].width for c in "ABCDEFGHIJK"}
    assert all(widths[c] >= len(str(rows[0][n])) for n, c in enumerate(widths))
    assert widths["G"] >= 60  # the reports themselves

    milestones = book["Meilensteine"]
    ms = {r[0]: days(r) for r in milestones.iter_rows(min_row=2, values_only=True)}
    assert next(milestones.iter_rows(max_row=1, values_only=True)) == MILESTONE_COLUMNS
    assert ms["M3.2"] == ("M3.2", "AP 3", "BiKo hat stattgefunden", date(2026, 6, 30),
                          date(2026, 6, 12), "Anna Adler")
    assert ms["M3.3"][4:] == (None, None)
    assert len(ms) == len(plan.milestones)
    assert milestones.freeze_panes == "A2"
    assert milestones.auto_filter.ref == f"A1:F{1 + len(plan.milestones)}"

    aps = book["Arbeitspakete"]
    table = list(aps.iter_rows(values_only=True))
    assert table[0] == AP_COLUMNS
    assert [r[0] for r in table[1:]] == [f"AP {n}" for n in range(1, 14)]
    ap3 = next(days(r) for r in table if r[0] == "AP 3")
    assert ap3 == ("AP 3", "Bildungskonferenzen", "Q1 2025", "Q2 2027", "läuft", "verzögert",
                   70, date(2027, 1, 15), 3, "2 / 3")
    assert aps.freeze_panes == "A2"


def test_meldungen_for_a_period_and_in_the_chat(core: Core) -> None:
    [reply] = ask(core, "/meldungen 2026")
    file = reply.attachment
    assert file is not None and file.kind == "document"
    assert file.filename == "meldungen-2026.xlsx"
    assert not file.is_rendered
    assert file.caption == (
        "📗 <b>Meldungen</b> als Excel-Datei: die Meldungen 2026 (01.01.2026 – 31.12.2026), "
        "4 Zeilen (zurückgenommene markiert), dazu die Blätter Meilensteine und "
        "Arbeitspakete, Stand 31.12.2026.")
    rows = list(open_book(file.data)["Meldungen"].iter_rows(min_row=2, values_only=True))
    assert [r[1].year for r in rows] == [2026] * 4
    assert "Irrtum" in [r[6] for r in rows]
    [everything] = ask(core, "/meldungen")
    assert everything.attachment is not None
    assert everything.attachment.filename == "meldungen.xlsx"
    assert "alle Meldungen, 8 Zeilen" in everything.attachment.caption
    [bad] = ask(core, "/meldungen <irgendwann>")
    assert bad.attachment is None
    assert bad.text.startswith("„&lt;irgendwann&gt;“ verstehe ich nicht als Zeitraum.")
    [stranger] = ask(core, "/meldungen", chat_id=-100999)
    assert stranger.attachment is None and "nur für das Koordinierungsteam" in stranger.text
