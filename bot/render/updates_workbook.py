"""`/meldungen [Zeitraum]`: the team's reports as an Excel workbook (.xlsx).

Three sheets: *Meldungen* (every report, withdrawn ones marked, with a real date cell and
time cell), *Meilensteine* (every milestone of the plan: due, reached on, reported by
whom) and *Arbeitspakete* (the status table at the end of the period). Header rows are
frozen and filtered, columns wide enough to read.

Text is stored as text and shown exactly as written: a report that starts with "=" is a
string cell in a column formatted as text ("@"), so Excel neither runs it as a formula
nor shows an apostrophe, and keeps it text when someone edits the cell. (The CSV of
`export csv` needs an apostrophe for that; a workbook does not.)
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.files import _slug, report_period
from bot.messages import Attachment, Command, Context, Incoming, Reply, local_today
from bot.render.format import esc, short_day
from bot.render.report_document import milestone_count
from bot.render.workbook import DATE_FORMAT, _header
from workflows.periods import Period
from workflows.plan import Plan
from workflows.progress import MilestoneMark, Update
from workflows.report import period_report, programme_period

UPDATE_SHEET, MILESTONE_SHEET, AP_SHEET = "Meldungen", "Meilensteine", "Arbeitspakete"
UPDATE_COLUMNS = ("Nr.", "Datum", "Uhrzeit", "AP", "Arbeitspaket", "Von", "Meldung", "Zustand",
                  "Fortschritt (%)", "Zurückgenommen", "Weitergeleitet von")
UPDATE_WIDTHS = (6, 12, 9, 8, 34, 20, 70, 15, 15, 16, 20)
MILESTONE_COLUMNS = ("ID", "AP", "Titel", "Fällig", "Erreicht am", "Gemeldet von")
MILESTONE_WIDTHS = (8, 8, 40, 12, 13, 22)
AP_COLUMNS = ("AP", "Titel", "Beginn", "Ende", "Phase", "Stand", "Fortschritt (%)",
              "Letzte Meldung", "Meldungen im Zeitraum", "Meilensteine erreicht/fällig")
AP_WIDTHS = (8, 46, 10, 10, 15, 16, 15, 15, 22, 28)
TEXT_FORMAT = "@"  # Excel's "Text" format: what is typed there stays text
TIME_FORMAT = "HH:MM"


@dataclass(frozen=True)
class _Mark:
    reached_on: date
    by: str


def _reached_by(marks: Iterable[MilestoneMark], until: date) -> dict[str, _Mark]:
    """The latest valid mark of each milestone up to `until`: when, and who reported it."""
    reached: dict[str, _Mark] = {}
    for mark in sorted((m for m in marks if not m.withdrawn and m.reached_on <= until),
                       key=lambda m: (m.at, m.id or 0)):
        reached[mark.milestone] = _Mark(mark.reached_on, mark.author.name)
    return reached


def _rows(sheet: Any, rows: Iterable[Sequence[Any]], *, dates: Sequence[int] = (),
          times: Sequence[int] = (), wrap: Sequence[int] = ()) -> None:
    """Append rows below the header: dates and times as such, every text as text."""
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    top = Alignment(vertical="top")
    wrapped = Alignment(vertical="top", wrap_text=True)
    for values in rows:
        sheet.append(list(values))
        for cell in sheet[sheet.max_row]:
            if cell.column in dates:
                cell.number_format = DATE_FORMAT
            elif cell.column in times:
                cell.number_format = TIME_FORMAT
            elif isinstance(cell.value, str):
                # openpyxl takes "=…" for a formula: it is the team's text.
                cell.data_type = "s"
                cell.number_format = TEXT_FORMAT
            cell.alignment = wrapped if cell.column in wrap else top
    last = get_column_letter(sheet.max_column)
    sheet.auto_filter.ref = f"A1:{last}{max(sheet.max_row, 1)}"


def updates_workbook(plan: Plan, updates: Iterable[Update], marks: Iterable[MilestoneMark],
                     period: Period | None, today: date, tz: ZoneInfo) -> bytes:
    """The workbook for `period` (None: every report ever recorded), as of `today`."""
    from openpyxl import Workbook  # about 0.4 s to import: only when a workbook is wanted

    updates, marks = list(updates), list(marks)
    scope = period or programme_period(plan)
    report = period_report(plan, updates, marks, scope, today)
    book = Workbook()
    sheet = book.active
    sheet.title = UPDATE_SHEET
    _header(sheet, UPDATE_COLUMNS, UPDATE_WIDTHS)
    chosen = sorted((u for u in updates
                     if period is None or period.contains(u.at.astimezone(tz).date())),
                    key=lambda u: (u.at, u.id or 0))
    rows = []
    for n, u in enumerate(chosen, start=1):
        at = u.at.astimezone(tz)
        wp = plan.work_package(u.ap)
        rows.append((n, at.date(), at.time().replace(second=0, microsecond=0, tzinfo=None),
                     wp.label if wp else u.ap, wp.title if wp else "", u.author.name, u.text,
                     u.state or "", u.percent, "ja" if u.withdrawn else "nein",
                     u.forwarded_from or ""))
    _rows(sheet, rows, dates=(2,), times=(3,), wrap=(5, 7))

    reached = _reached_by(marks, report.as_of)
    milestones = book.create_sheet(MILESTONE_SHEET)
    _header(milestones, MILESTONE_COLUMNS, MILESTONE_WIDTHS)
    none = _Mark(date.min, "")
    _rows(milestones, ((m.id, f"AP {m.ap[2:]}", m.title, m.due,
                        reached[m.id].reached_on if m.id in reached else None,
                        reached.get(m.id, none).by) for m in plan.milestones),
          dates=(4, 5), wrap=(3,))

    aps = book.create_sheet(AP_SHEET)
    _header(aps, AP_COLUMNS, AP_WIDTHS)
    _rows(aps, ((r.wp.label, r.wp.title, str(r.wp.start), str(r.wp.end), r.phase,
                 r.state or ("keine Meldung" if r.last_update is None else "ohne Zustand"),
                 r.percent, r.last_update.astimezone(tz).date() if r.last_update else None,
                 len(r.updates), milestone_count(r, report))
                for r in report.rows), dates=(8,), wrap=(2,))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _file_slug(period: Period | None) -> str:
    return "" if period is None else f"-{_slug(period)}"


def updates_attachment(ctx: Context, period: Period | None, now: datetime) -> Attachment:
    """The reports as an .xlsx document; rendered by the front-end from a snapshot."""
    today = local_today(ctx, now)
    plan, tz = ctx.plan, ctx.settings.timezone
    updates, marks = ctx.store.updates(), ctx.store.marks()

    def render() -> bytes:  # from the snapshot above only: it may run in another thread
        return updates_workbook(plan, updates, marks, period, today, tz)

    count = sum(1 for u in updates
                if period is None or period.contains(u.at.astimezone(tz).date()))
    what = ("alle Meldungen" if period is None
            else f"die Meldungen {esc(period.label)} ({short_day(period.start)} – "
                 f"{short_day(period.end)})")
    caption = (f"📗 <b>Meldungen</b> als Excel-Datei: {what}, {count} "
               f"{'Zeile' if count == 1 else 'Zeilen'} (zurückgenommene markiert), dazu die "
               "Blätter Meilensteine und Arbeitspakete, Stand "
               f"{short_day(min(today, period.end) if period else today)}.")
    fallback = ("Die Excel-Datei ließ sich nicht senden. Die Meldungen zeigt /verlauf AP3 hier "
                "im Chat.")
    return Attachment(f"meldungen{_file_slug(period)}.xlsx", render, "document", caption,
                      fallback)


ALL_WORDS = frozenset({"", "alle", "alles", "gesamt"})


def updates_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    if args.strip().lower() in ALL_WORDS:
        return [Reply("", attachment=updates_attachment(ctx, None, now))]
    period = report_period(args, local_today(ctx, now), ctx.plan)
    if period is None:
        return (f"„{esc(args)}“ verstehe ich nicht als Zeitraum. Beispiele: /meldungen (alle), "
                "/meldungen 2026, /meldungen Q3 2026, /meldungen Juni 2026")
    return [Reply("", attachment=updates_attachment(ctx, period, now))]


COMMANDS = (
    Command("meldungen", updates_command, "Alle Meldungen als Excel-Datei (.xlsx), mit "
            "Meilensteinen und Arbeitspaketen", usage="[2026 | Q3 2026]"),
)
