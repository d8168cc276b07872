"""/bericht and the CSV export: the period report's data, its Markdown, and updates for Excel."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.__main__ import main
from bot.commands import COMMANDS
from bot.core import Core
from bot.files import report_period
from bot.messages import Context, Incoming, Reply
from bot.report_export import CSV_HEADER, report_markdown, updates_csv
from bot.settings import Settings
from tests.conftest import TEST_PLAN
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


def test_quarter_report_while_it_runs(plan: Plan, history: Store) -> None:
    rep = report(plan, history, quarter_period(Quarter(2027, 1)))
    assert rep.as_of == TODAY
    ap3 = next(r for r in rep.rows if r.wp.id == "AP3")
    assert (ap3.state, ap3.percent) == ("verzögert", 70)
    assert [u.text for u in ap3.updates] == ["BiKo 3 verschoben"]
    assert [(s.milestone.id, s.kind) for s in ap3.open] == [("M3.3", "überfällig"),
                                                             ("M3.4", "offen")]
    text = report_markdown(plan, rep, TODAY)
    assert "Stand der Angaben: 03.02.2027 (der Berichtszeitraum läuft noch)  " in text
    assert "  - M3.3 BiKo hat stattgefunden – fällig 31.12.2026 * – überfällig\n" in text
    assert not any(r.wp.id in ("AP1", "AP2") for r in rep.rows)


def test_an_ended_ap_with_news_in_the_period_is_reported(plan: Plan, history: Store) -> None:
    add(history, "AP1", "2026-02-01", "Nachtrag Bestandsaufnahme")
    rep = report(plan, history, year_period(2026))
    assert rep.rows[0].wp.id == "AP1"
    assert [u.text for u in rep.rows[0].updates] == ["Nachtrag Bestandsaufnahme"]


# -- Markdown ----------------------------------------------------------------------


def test_markdown_report_at_a_fixed_date(plan: Plan, history: Store) -> None:
    text = report_markdown(plan, report(plan, history, year_period(2026)), TODAY)
    lines = text.split("\n")
    assert lines[0] == "# Sachbericht 2026 – Bildungskommunen – Arbeits- und Zeitplan"
    assert "Berichtszeitraum: 01.01.2026 – 31.12.2026  " in lines
    assert "Stand der Angaben: 31.12.2026  " in lines
    assert "Zusammengestellt von apbot am 03.02.2027 aus den Meldungen im Team-Chat." in lines
    header = lines.index("## Übersicht") + 2
    assert lines[header] == ("| AP | Titel | Zeitraum laut Plan | Gemeldeter Stand | Fortschritt "
                             "| Meilensteine erreicht | Meldungen |")
    assert lines[header + 2] == ("| AP 2 | Leitbildentwicklung | Q1 2025 – Q1 2026 * "
                                 "| abgeschlossen | 100 % | M2.1 (20.03.2026) | 1 |")
    assert lines[header + 3] == ("| AP 3 | Bildungskonferenzen | Q1 2025 – Q2 2027 * "
                                 "| ohne Zustand | 60 % | M3.2 (12.06.2026) | 1 |")
    assert ("| AP 4 | Bildungsportal | Q2 2025 – Q2 2027 * | keine Meldung | – | – | 0 |"
            in lines)
    assert "Im Berichtszeitraum: 3 Meldungen, 2 Meilensteine erreicht." in lines

    section = text.split("## AP 3 – Bildungskonferenzen\n\n")[1].split("\n\n")[0]
    assert section.split("\n") == [
        "- Zeitraum laut Plan: Q1 2025 – Q2 2027 *; am 31.12.2026: läuft",
        "- Gemeldeter Stand: ohne Zustand, Fortschritt 60 % (letzte Meldung 12.06.2026)",
        "- Meilensteine erreicht im Berichtszeitraum:",
        "  - M3.2 BiKo hat stattgefunden – erreicht am 12.06.2026 (fällig 30.06.2026 *)",
        "- Offene Meilensteine:",
        "  - M3.3 BiKo hat stattgefunden – fällig 31.12.2026 *",
        "  - M3.4 BiKo hat stattgefunden – fällig 30.06.2027 *",
        "- Meldungen im Berichtszeitraum (1):",
        "  - 12.06.2026, Ben Berg: BiKo 2 | Rathaus, 120 Gäste",
    ]
    assert ("  - 01.10.2026, Ben Berg (weitergeleitet von Presseamt): Flyer gedruckt"
            in lines)
    assert "- Meldungen im Berichtszeitraum (0): keine" in lines  # e.g. AP 4
    assert "Irrtum" not in text and "BiKo 3 verschoben" not in text


def test_markdown_escapes_pipes_in_the_table(plan: Plan, store: Store) -> None:
    from dataclasses import replace

    odd = replace(plan, work_packages=(replace(plan.work_packages[0], title="A | B"),))
    text = report_markdown(odd, report(odd, store, year_period(2025)), TODAY)
    assert "| AP 1 | A \\| B |" in text


def test_report_of_an_empty_store(plan: Plan, store: Store) -> None:
    text = report_markdown(plan, report(plan, store, year_period(2026)), TODAY)
    assert "Im Berichtszeitraum: 0 Meldungen, 0 Meilensteine erreicht." in text
    assert text.count("| keine Meldung | – | – | 0 |") == 12


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


def ask(core: Core, text: str, chat_id: int = TEAM) -> list[Reply]:
    return core.handle(Incoming(text=text, chat_id=chat_id, user_id=2, user_name="Anna",
                                chat_type="supergroup", message_id=1), NOW)


@pytest.fixture
def core(settings: Settings, plan: Plan, history: Store) -> Core:
    return Core(Context(settings, plan, history), COMMANDS)


def test_bericht_sends_markdown_as_a_document(core: Core) -> None:
    [reply] = ask(core, "/bericht 2026")
    file = reply.attachment
    assert file is not None and file.kind == "document"
    assert file.filename == "sachbericht-2026.md"
    assert file.caption == ("📝 <b>Sachbericht 2026</b> (01.01.2026 – 31.12.2026) als Markdown: "
                            "Übersicht, dann je Arbeitspaket Stand, Meilensteine und die "
                            "3 Meldungen des Zeitraums.")
    assert file.data.decode("utf-8").startswith("# Sachbericht 2026 – ")
    assert "export report --period 2026" in file.fallback_text
    [quarter] = ask(core, "/report Q3 2026")
    assert quarter.attachment is not None
    assert quarter.attachment.filename == "sachbericht-2026-Q3.md"
    [this_year] = ask(core, "/bericht")
    assert this_year.attachment is not None
    assert this_year.attachment.filename == "sachbericht-2027.md"


def test_bericht_explains_a_period_it_does_not_understand(core: Core) -> None:
    [reply] = ask(core, "/bericht <irgendwann>")
    assert reply.attachment is None
    assert reply.text.startswith("„&lt;irgendwann&gt;“ verstehe ich nicht als Berichtszeitraum")
    assert "/bericht Q3 2026" in reply.text


def test_bericht_only_in_allowed_chats(core: Core) -> None:
    [reply] = ask(core, "/bericht 2026", chat_id=-100999)
    assert reply.attachment is None and "nur für das Koordinierungsteam" in reply.text


# -- CSV --------------------------------------------------------------------------------


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM tells Excel it is UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_csv_has_every_update_for_german_excel(plan: Plan, history: Store) -> None:
    add(history, "AP5", "2026-11-02", "=SUMME(A1:A9) und - Strich", ANNA, percent=10)
    add(history, "AP5", "2026-11-03", "- erledigt", ANNA)
    rows = read_csv(updates_csv(plan, history.updates(), TZ))
    assert tuple(rows[0]) == CSV_HEADER
    assert len(rows) == 1 + len(history.updates()) == 11
    assert rows[1] == ["10.05.2025", "09:00", "AP 1", "Grundlagen und Analyse der "
                       "Ausgangssituation", "Anna Adler", "Bestandsaufnahme fertig",
                       "abgeschlossen", "", "", "nein", "1"]
    by_text = {r[5]: r for r in rows[1:]}
    assert by_text["BiKo 2 | Rathaus, 120 Gäste"][4] == "Ben Berg"
    assert by_text["BiKo 2 | Rathaus, 120 Gäste"][7] == "60"
    assert by_text["Irrtum"][9] == "ja"  # withdrawn, kept and marked
    assert by_text["Flyer\ngedruckt"][8] == "Presseamt"  # line breaks survive quoting
    # Excel would run these as formulas
    assert "'=SUMME(A1:A9) und - Strich" in by_text
    assert "'- erledigt" in by_text
    assert [r[0] for r in rows[1:]] == sorted((r[0] for r in rows[1:]),
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
    assert "  - 12.06.2026, Ben Berg: BiKo 2 | Rathaus, 120 Gäste" in text
    done = run_cli(settings.data_dir, "export", "report", "--period", "Q3 2026", str(md))
    assert done.returncode == 0, done.stderr
    assert md.read_text(encoding="utf-8").startswith("# Sachbericht Q3 2026 – ")
    done = run_cli(settings.data_dir, "export", "csv", str(table))
    assert done.returncode == 0, done.stderr
    assert read_csv(table.read_bytes()) == read_csv(updates_csv(load_plan(PLAN_PATH),
                                                                history.updates(), TZ))


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
