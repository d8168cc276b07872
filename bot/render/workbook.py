"""The plan as an Excel workbook (.xlsx), both ways: `/plan_excel` sends it, an admin sends
it back edited, and the differences become one plan change with the usual preview.

What the workbook may change (the sheet "Hinweise" in the file says the same):

- Arbeitspakete: Titel, Beschreibung, Beginn, Ende (a date stands for its quarter: the
  plan counts work packages in quarters), Zuständig, Bestätigt. IDs are fixed; a work
  package is neither added nor removed here (a row that is missing changes nothing).
- Meilensteine: AP, Titel, Fällig, Bestätigt; a new row is a new milestone (an empty ID
  gets the next free one, M4.1, M4.2, …); a deleted row removes the milestone.
  "Erreicht am" is what the team reported in the chat and is only shown.
- Sitzungen: shown only, in this version (the sheet is protected); meetings are changed
  with /sitzung in the chat.

"Bestätigt" is taken as written: changing a date in the workbook does not confirm it by
itself (the chat's /faellig does), so what the sheet shows is what the plan gets. An empty
cell says nothing: the entry keeps its state, a new milestone counts as confirmed, as one
added with /meilenstein does.

Reading applies nothing: it returns edits for `apply_edits`, which checks the result by
the same rules as the plan file. Text cells are written as text, never as formulas, and a
formula in a returned workbook is refused rather than trusted with its cached value.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.messages import Attachment, Command, Context, Incoming, Reply, local_today
from bot.plan_commands import Proposal, propose, refused
from bot.render.format import esc, short_day
from workflows.plan import MEETING_KINDS, Milestone, Plan, WorkPackage
from workflows.plan_edit import Edit, PlanEditError
from workflows.progress import MilestoneMark
from workflows.quarters import Quarter

WORKBOOK_FILE = "arbeits-und-zeitplan.xlsx"
NOT_A_WORKBOOK = "Die Datei ist keine Excel-Arbeitsmappe (.xlsx)."
NO_CHANGES = "Die Arbeitsmappe enthält keine Änderungen am Plan."
AP_SHEET, MS_SHEET, MEETING_SHEET, NOTES_SHEET = (
    "Arbeitspakete", "Meilensteine", "Sitzungen", "Hinweise")
AP_COLUMNS = ("ID", "Titel", "Beschreibung", "Beginn", "Ende", "Zuständig", "Bestätigt")
MS_COLUMNS = ("ID", "AP", "Titel", "Fällig", "Erreicht am", "Bestätigt")
MEETING_COLUMNS = ("Name", "Art", "Erster Termin", "Regel (in Worten)", "Ort")
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
# A plan workbook is some ten kilobytes. The limits keep a hostile file (a zip bomb, a
# sheet of a million rows) from taking the bot's memory and time.
MAX_WORKBOOK_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_ROWS = 2000
MAX_COLUMNS = 30
# Text starting with these is a formula to Excel when someone edits the cell.
_FORMULA_START = ("=", "+", "-", "@")
_YES = frozenset({"ja", "j", "x", "yes", "y", "true", "wahr", "1", "bestätigt", "✓", "✔"})
_NO = frozenset({"nein", "n", "no", "false", "falsch", "0", "angenommen"})
_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2})$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_MILESTONE_ID = re.compile(r"^M(\d{1,3})\.(\d{1,3})$", re.IGNORECASE)
_AP_REF = re.compile(r"^(?:AP)?0*([1-9]\d{0,2})$", re.IGNORECASE)


class WorkbookError(Exception):
    """The workbook cannot be read; the message is one German line naming where."""


# -- the meeting rule in words ------------------------------------------------------

WEEKDAYS = {"MO": "Montag", "TU": "Dienstag", "WE": "Mittwoch", "TH": "Donnerstag",
            "FR": "Freitag", "SA": "Samstag", "SU": "Sonntag"}
_WEEKDAY_CODES = tuple(WEEKDAYS)  # Monday first, as date.weekday() counts
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_RULE_KEYS = {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "COUNT", "UNTIL", "WKST"}
_MONTH_SPANS = {3: "im Quartal", 6: "im Halbjahr", 12: "im Jahr"}


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} und {words[-1]}"


def _until_words(value: str) -> str:
    day = datetime.strptime(value[:8], "%Y%m%d").date()  # noqa: DTZ007 - a calendar day
    return f", bis {short_day(day)}"


def rule_words(rrule: str, dtstart: datetime) -> str:
    """The plan's common RRULEs in German ("jeden Dienstag"); others as the rule itself."""
    fallback = f"Regel {rrule}"
    try:
        parts: dict[str, str] = {}
        for part in filter(None, rrule.strip().upper().split(";")):
            key, value = part.split("=", 1)  # ValueError without "=": the fallback
            parts[key] = value
        if not set(parts) <= _RULE_KEYS:
            return fallback
        if parts.get("COUNT") == "1":
            return "einmalig"
        interval = int(parts.get("INTERVAL", "1"))
        suffix = ""
        if "COUNT" in parts:
            suffix = f", {int(parts['COUNT'])}-mal"
        elif "UNTIL" in parts:
            suffix = _until_words(parts["UNTIL"])
        days = [_BYDAY.match(code) for code in parts.get("BYDAY", "").split(",") if code]
        if any(m is None for m in days) or interval < 1:
            return fallback
        matched = [m for m in days if m is not None]
        words = _frequency_words(parts["FREQ"], interval, matched, parts, dtstart)
    except (KeyError, ValueError):
        return fallback
    return fallback if words is None else words + suffix


def _frequency_words(freq: str, interval: int, days: list[re.Match[str]],
                     parts: dict[str, str], dtstart: datetime) -> str | None:
    plain = [WEEKDAYS[m.group(2)] for m in days if m.group(1) is None]
    if freq in ("DAILY", "WEEKLY") and len(plain) < len(days):
        return None  # "2WE" in a weekly rule is not a common form
    if freq == "DAILY" and not days:
        return "täglich" if interval == 1 else f"alle {interval} Tage"
    if freq in ("DAILY", "WEEKLY"):
        if freq == "DAILY" and interval != 1:
            return None
        names = plain or [WEEKDAYS[_WEEKDAY_CODES[dtstart.weekday()]]]
        return f"jeden {_and(names)}" if interval == 1 else f"alle {interval} Wochen {_and(names)}"
    if freq == "MONTHLY":
        if len(days) > 1 or (days and "BYMONTHDAY" in parts):
            return None
        if days:
            number = int(days[0].group(1) or 0)
            if number == -1:
                which = "letzten"
            elif 1 <= number <= 5:
                which = f"{number}."
            else:  # "MO" every Monday of the month, "-2MO" the one before the last
                return None
            base = f"{which} {WEEKDAYS[days[0].group(2)]}"
        else:
            day = int(parts.get("BYMONTHDAY", dtstart.day))
            if not 1 <= day <= 31:
                return None
            base = f"{day}."
        if interval == 1:
            return f"monatlich am {base}"
        if interval in _MONTH_SPANS and days:
            return f"jeden {base} {_MONTH_SPANS[interval]}"
        return f"alle {interval} Monate am {base}"
    if freq == "YEARLY" and not days and "BYMONTHDAY" not in parts:
        every = "jährlich" if interval == 1 else f"alle {interval} Jahre"
        return f"{every} am {dtstart:%d.%m.}"
    return None


# -- writing ------------------------------------------------------------------------


def _reached(marks: Iterable[MilestoneMark]) -> dict[str, date]:
    """The day each milestone was last reported reached (withdrawn reports do not count)."""
    reached: dict[str, date] = {}
    for mark in marks:
        if not mark.withdrawn:
            reached[mark.milestone] = mark.reached_on
    return reached


def _yes_no(confirmed: bool) -> str:
    return "ja" if confirmed else "nein"


def plan_workbook(plan: Plan, marks: list[MilestoneMark], today: date) -> bytes:
    """The plan as an .xlsx: work packages, milestones, meetings, and how to edit it."""
    from openpyxl import Workbook  # about 0.4 s to import: only when a workbook is wanted
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    aps = book.active
    aps.title = AP_SHEET
    _header(aps, AP_COLUMNS, (8, 42, 70, 12, 12, 24, 11))
    for wp in plan.work_packages:
        aps.append([wp.id, wp.title, wp.description, wp.start.first_day, wp.end.last_day,
                    wp.lead or "", _yes_no(not wp.assumed)])
    _format_rows(aps, dates=(4, 5), wrap=(2, 3))

    reached = _reached(marks)
    milestones = book.create_sheet(MS_SHEET)
    _header(milestones, MS_COLUMNS, (8, 8, 42, 12, 13, 11))
    for m in plan.milestones:
        milestones.append([m.id, m.ap, m.title, m.due, reached.get(m.id),
                           _yes_no(not m.assumed)])
    _format_rows(milestones, dates=(4, 5), wrap=(3,))

    for sheet, column in ((aps, "G"), (milestones, "F")):
        choice = DataValidation(type="list", formula1='"ja,nein"', allow_blank=True,
                                error="Bitte „ja“ oder „nein“ eintragen.",
                                errorTitle="Bestätigt")
        sheet.add_data_validation(choice)
        choice.add(f"{column}2:{column}{MAX_ROWS}")

    meetings = book.create_sheet(MEETING_SHEET)
    _header(meetings, MEETING_COLUMNS, (34, 18, 18, 36, 24))
    for s in plan.meetings:
        meetings.append([s.title, MEETING_KINDS.get(s.kind, s.kind), s.dtstart,
                         rule_words(s.rrule, s.dtstart), s.place or ""])
    _format_rows(meetings, datetimes=(3,), wrap=(1, 4))
    _read_only(meetings)

    notes = book.create_sheet(NOTES_SHEET)
    notes.column_dimensions["A"].width = 110
    for line in _notes(plan, today):
        notes.append([line])
    notes["A1"].font = Font(bold=True)
    for row in notes.iter_rows():
        for cell in row:
            _as_text(cell)
    _read_only(notes)

    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _header(sheet: Any, columns: Sequence[str], widths: Sequence[int]) -> None:
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append(list(columns))
    for n, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(n)].width = width
        cell = sheet.cell(row=1, column=n)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top")
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(sheet.max_row, 1)}"


def _format_rows(sheet: Any, dates: Sequence[int] = (), datetimes: Sequence[int] = (),
                 wrap: Sequence[int] = ()) -> None:
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    sheet.auto_filter.ref = f"A1:{get_column_letter(sheet.max_column)}{sheet.max_row}"
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if cell.column in dates:
                cell.number_format = DATE_FORMAT
            elif cell.column in datetimes:
                cell.number_format = DATETIME_FORMAT
            _as_text(cell)
            cell.alignment = Alignment(vertical="top", wrap_text=cell.column in wrap)


def _as_text(cell: Any) -> None:
    """Text stays text: openpyxl makes "=…" a formula, Excel re-reads "+…" or "-…" as one
    when the cell is edited; the quote prefix keeps it text there too."""
    if isinstance(cell.value, str) and cell.value.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def _read_only(sheet: Any) -> None:
    """Protected without a password: a hint that edits here are not read back."""
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False  # widening a column is still allowed
    sheet.protection.formatRows = False


def _notes(plan: Plan, today: date) -> list[str]:
    return [
        f"{plan.programme.name} – Stand {short_day(today)}",
        "",
        "So ändern Sie den Plan mit dieser Datei (nur Admins):",
        "1. Im Blatt „Arbeitspakete“ lassen sich Titel, Beschreibung, Beginn, Ende, "
        "Zuständig und Bestätigt ändern.",
        "   Der Plan rechnet Arbeitspakete in Quartalen: ein Datum bei Beginn oder Ende "
        "steht für sein Quartal (z. B. 15.05.2025 → Q2 2025).",
        "   Die ID bleibt, wie sie ist; Arbeitspakete werden hier weder angelegt noch "
        "entfernt.",
        "2. Im Blatt „Meilensteine“ lassen sich AP, Titel, Fällig und Bestätigt ändern.",
        "   Eine neue Zeile ist ein neuer Meilenstein (ID leer lassen: er bekommt die "
        "nächste freie, z. B. M4.1); eine gelöschte Zeile entfernt den Meilenstein.",
        "   „Erreicht am“ zeigt, was im Chat gemeldet wurde; Änderungen dort werden nicht "
        "übernommen.",
        "3. Bestätigt: „ja“, wenn der Termin feststeht, „nein“, solange er angenommen ist. "
        "Ein neues Datum allein bestätigt nichts.",
        "4. Die Sitzungen sind hier nur zum Ansehen; ändern lassen sie sich im Chat mit "
        "/sitzung.",
        "5. Datumsangaben als Datum eintragen (z. B. 15.05.2026), keine Formeln.",
        "",
        "Dann die Datei als Dokument an apbot schicken (in den Teamchat oder privat). "
        "apbot zeigt alle Änderungen als Vorschau;",
        "erst „Übernehmen“ ändert den Plan. Eine Zelle, die apbot nicht lesen kann, nennt "
        "er mit Blatt, Zeile und Spalte – dann ändert sich nichts.",
    ]


# -- reading ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    """One data row of a sheet: its number as Excel shows it and its cells by column."""

    sheet: str
    number: int
    cells: dict[str, Any]

    def where(self, column: str) -> str:
        return f"Blatt „{self.sheet}“, Zeile {self.number}, Spalte „{column}“"

    def fail(self, column: str, problem: str) -> WorkbookError:
        return WorkbookError(f"{self.where(column)}: {problem}")

    def value(self, column: str) -> Any:
        return self.cells.get(column)


def _shown(value: Any) -> str:
    """A cell's value as the person sees it, for a message."""
    if isinstance(value, datetime):
        return f"{value:%d.%m.%Y %H:%M}" if value.time() != datetime.min.time() \
            else short_day(value.date())
    if isinstance(value, date):
        return short_day(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(row: _Row, column: str) -> str:
    value = row.value(column)
    if _blank(value):
        return ""
    if isinstance(value, bool):
        raise row.fail(column, f"„{_shown(value)}“ ist kein Text.")
    return " ".join(_shown(value).split()) if column != "Beschreibung" else _shown(value).strip()


def _day(row: _Row, column: str, quarters: bool) -> date | Quarter:
    """A date cell; typed text in German or ISO form, or (where allowed) a quarter, too."""
    value = row.value(column)
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    example = "15.05.2026" + (" oder ein Quartal wie „Q2 2026“" if quarters else "")
    if not isinstance(value, str):
        raise row.fail(column, f"„{_shown(value)}“ ist kein Datum (z. B. {example}).")
    text = value.strip()
    if m := _GERMAN_DAY.match(text):
        year = int(m.group(3)) + (2000 if len(m.group(3)) == 2 else 0)
        parts = (year, int(m.group(2)), int(m.group(1)))
    elif m := _ISO_DAY.match(text):
        parts = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        if quarters:
            try:
                return Quarter.parse(text)
            except ValueError:
                pass
        raise row.fail(column, f"„{text}“ ist kein Datum (z. B. {example}).")
    try:
        return date(*parts)
    except ValueError:
        raise row.fail(column, f"„{text}“ ist kein Datum.") from None


def _required_day(row: _Row, column: str, quarters: bool, what: str) -> date | Quarter:
    if _blank(row.value(column)):
        raise row.fail(column, f"leer – {what}.")
    return _day(row, column, quarters)


def _confirmed(row: _Row) -> bool | None:
    """ "ja" / "nein"; None for an empty cell (no statement)."""
    value = row.value("Bestätigt")
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    word = _shown(value).strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    raise row.fail("Bestätigt", f"„{_shown(value)}“ – bitte „ja“ oder „nein“ eintragen.")


def _ap_ref(row: _Row, column: str, plan: Plan) -> WorkPackage:
    text = _text(row, column)
    m = _AP_REF.match(text.replace(" ", ""))
    if not text:
        raise row.fail(column, "leer – bitte das Arbeitspaket eintragen (z. B. AP3).")
    wp = plan.work_package(f"AP{int(m.group(1))}") if m else None
    if wp is None:
        raise row.fail(column, f"„{text}“ ist kein Arbeitspaket des Plans "
                       f"({plan.ap_range}).")
    return wp


def _rows(book: Any, name: str, columns: Sequence[str]) -> list[_Row]:
    """The sheet's non-empty rows below the header, cells by header name."""
    if name not in book.sheetnames:
        raise WorkbookError(f"Das Blatt „{name}“ fehlt in der Arbeitsmappe. Bitte die Datei "
                            "von /plan_excel bearbeiten und die Blätter nicht umbenennen.")
    sheet = book[name]
    sheet.reset_dimensions()  # other programs write wrong dimensions; read what is there
    lines = sheet.iter_rows(max_col=MAX_COLUMNS)
    header = next(lines, ())
    positions: dict[str, int] = {}
    for n, cell in enumerate(header):
        if isinstance(cell.value, str) and cell.value.strip() in columns:
            positions.setdefault(cell.value.strip(), n)
    for column in columns:
        if column not in positions:
            raise WorkbookError(f"Blatt „{name}“: die Spalte „{column}“ fehlt in der "
                                "Kopfzeile (Zeile 1).")
    rows: list[_Row] = []
    for number, line in enumerate(lines, start=2):
        if number > MAX_ROWS:
            raise WorkbookError(f"Blatt „{name}“ hat mehr als {MAX_ROWS} Zeilen – ist das "
                                "die Arbeitsmappe des Plans?")
        cells: dict[str, Any] = {}
        for column, n in positions.items():
            cell = line[n] if n < len(line) else None
            if cell is None or cell.value is None:
                continue
            if cell.data_type == "f":
                raise WorkbookError(
                    f"Blatt „{name}“, Zeile {number}, Spalte „{column}“: „{cell.value}“ ist "
                    "eine Formel – bitte den Wert selbst eintragen.")
            if cell.data_type == "e":
                raise WorkbookError(f"Blatt „{name}“, Zeile {number}, Spalte „{column}“: "
                                    f"„{cell.value}“ ist ein Fehlerwert, kein Inhalt.")
            cells[column] = cell.value
        if any(not _blank(v) for v in cells.values()):
            rows.append(_Row(name, number, cells))
    return rows


def _open(data: bytes) -> Any:
    """The workbook in openpyxl's streaming mode; WorkbookError if it is none."""
    if len(data) > MAX_WORKBOOK_BYTES:
        raise WorkbookError(f"Die Datei ist größer als {MAX_WORKBOOK_BYTES // 1024 // 1024} MB "
                            "– ist das die Arbeitsmappe des Plans?")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise WorkbookError(NOT_A_WORKBOOK) from None
    if "xl/workbook.xml" not in names:  # a .docx or .odt is a zip file, too
        raise WorkbookError(NOT_A_WORKBOOK)
    if unpacked > MAX_UNPACKED_BYTES:
        raise WorkbookError("Die Arbeitsmappe ist entpackt zu groß – ist das die "
                            "Arbeitsmappe des Plans?")
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # Extensions openpyxl does not know (slicers, x14 validation) are irrelevant.
            warnings.simplefilter("ignore")
            return load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds (KeyError, TypeError, …) on a damaged file
        raise WorkbookError(NOT_A_WORKBOOK) from None


def read_workbook(data: bytes, plan: Plan) -> tuple[list[Edit], list[str]]:
    """The edits that turn `plan` into the workbook's content, and German lines saying
    what they change; WorkbookError naming sheet, row and column for a cell it cannot
    read. Nothing is applied or validated as a plan here: that is apply_edits' job."""
    book = _open(data)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ap_rows = _rows(book, AP_SHEET, AP_COLUMNS)
            ms_rows = _rows(book, MS_SHEET, MS_COLUMNS)
    finally:
        book.close()
    edits: list[Edit] = []
    lines: list[str] = []
    for edit, said in (*_work_package_edits(ap_rows, plan), *_milestone_edits(ms_rows, plan)):
        edits.append(edit)
        lines.extend(said)
    return edits, lines


Change = tuple[Edit, list[str]]


def _work_package_edits(rows: list[_Row], plan: Plan) -> list[Change]:
    changes: list[Change] = []
    seen: set[str] = set()
    for row in rows:
        if _blank(row.value("ID")):
            raise row.fail("ID", "leer – Arbeitspakete lassen sich hier nicht anlegen; "
                           "bitte die ID der Zeile stehen lassen.")
        wp = _ap_ref(row, "ID", plan)
        if wp.id in seen:
            raise row.fail("ID", f"{wp.label} steht doppelt in der Tabelle.")
        seen.add(wp.id)
        change = _work_package_change(row, wp)
        if change is not None:
            changes.append(change)
    return changes


def _quarter_of(row: _Row, column: str) -> Quarter:
    value = _required_day(row, column, True, "ein Arbeitspaket braucht Beginn und Ende")
    return value if isinstance(value, Quarter) else Quarter.of(value)


def _work_package_change(row: _Row, wp: WorkPackage) -> Change | None:
    fields: list[tuple[str, Any]] = []
    lines: list[str] = []
    title = _text(row, "Titel")
    if not title:
        raise row.fail("Titel", "leer – ein Arbeitspaket braucht einen Titel.")
    if title != " ".join(wp.title.split()):
        fields.append(("title", title))
        lines.append(f"{wp.label} Titel „{title}“ statt „{wp.title}“")
    description = _text(row, "Beschreibung")
    if " ".join(description.split()) != " ".join(wp.description.split()):
        fields.append(("description", description))
        lines.append(f"{wp.label} Beschreibung: „{_short(description)}“" if description
                     else f"{wp.label} Beschreibung entfernt")
    start, end = _quarter_of(row, "Beginn"), _quarter_of(row, "Ende")
    if (start, end) != (wp.start, wp.end):
        fields += [("start", str(start)), ("end", str(end))]
        lines.append(f"{wp.label} Zeitraum {start} – {end} statt {wp.start} – {wp.end}")
    lead = _text(row, "Zuständig")
    if lead != (wp.lead or ""):
        fields.append(("lead", lead))
        lines.append(f"{wp.label} zuständig: {lead or 'noch niemand'} "
                     f"(bisher: {wp.lead or 'noch niemand'})")
    confirmed = _confirmed(row)
    if confirmed is not None and confirmed == wp.assumed:
        fields.append(("assumed", not confirmed))
        span = f"{start} – {end}"
        lines.append(f"{wp.label} Zeitraum {span} bestätigt" if confirmed
                     else f"{wp.label} Zeitraum {span} wieder als angenommen markiert")
    return (Edit("set", "work_package", wp.id, tuple(fields)), lines) if fields else None


def _short(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"


def _milestone_edits(rows: list[_Row], plan: Plan) -> list[Change]:
    taken = {m.id for m in plan.milestones}
    listed: set[str] = set()
    changes: list[Change] = []
    new_rows: list[_Row] = []
    for row in rows:
        raw = _text(row, "ID")
        if not raw:
            new_rows.append(row)
            continue
        m = _MILESTONE_ID.match(raw)
        ms_id = f"M{int(m.group(1))}.{int(m.group(2))}" if m else raw
        if ms_id in listed:
            raise row.fail("ID", f"{ms_id} steht doppelt in der Tabelle.")
        listed.add(ms_id)
        existing = plan.milestone(ms_id)
        if existing is None:
            if not m:
                raise row.fail("ID", f"„{raw}“ ist keine Meilenstein-Kennung wie „M4.1“ "
                               "(für einen neuen Meilenstein die Zelle leer lassen).")
            taken.add(ms_id)
            new_rows.append(row)
            continue
        change = _milestone_change(row, existing, plan)
        if change is not None:
            changes.append(change)
    added_rows: list[_Row] = []
    for row in new_rows:
        same = _already_in_plan(row, plan, listed)
        if same is None:
            added_rows.append(row)
        elif (change := _milestone_change(row, same, plan)) is not None:
            changes.append(change)
    # Removed first: a new milestone never takes the id of one removed in the same change
    # (marks in the store refer to milestones by id).
    removed = [(Edit("remove", "milestone", m.id),
                [f"Meilenstein {m.id} „{m.title}“ (AP {m.ap[2:]}, fällig {short_day(m.due)}) "
                 "entfernt"])
               for m in plan.milestones if m.id not in listed]
    added = [_new_milestone(row, plan, taken) for row in added_rows]
    return [*removed, *changes, *added]


def _already_in_plan(row: _Row, plan: Plan, listed: set[str]) -> Milestone | None:
    """The plan's milestone a new row without an ID already is, if the sheet does not list
    it: the same workbook sent a second time. The row then stands for that milestone,
    rather than removing it and adding it again under the next id."""
    if _text(row, "ID"):
        return None
    wp, title, (_, due) = _ap_ref(row, "AP", plan), _text(row, "Titel"), _due_value(row)
    same = next((m for m in plan.milestones if m.id not in listed and m.ap == wp.id
                 and " ".join(m.title.split()) == title and m.due == due), None)
    if same is not None:
        listed.add(same.id)
    return same


def _due_value(row: _Row) -> tuple[str, date]:
    """What goes into the file for the due cell: the quarter as written, or the day."""
    value = _required_day(row, "Fällig", True, "ein Meilenstein braucht ein Fälligkeitsdatum "
                          "(zum Entfernen die ganze Zeile löschen)")
    if isinstance(value, Quarter):
        return str(value), value.last_day
    return value.isoformat(), value


def _milestone_change(row: _Row, m: Milestone, plan: Plan) -> Change | None:
    fields: list[tuple[str, Any]] = []
    lines: list[str] = []
    wp = _ap_ref(row, "AP", plan)
    if wp.id != m.ap:
        fields.append(("ap", wp.id))
        lines.append(f"{m.id} gehört zu {wp.label} statt AP {m.ap[2:]}")
    title = _text(row, "Titel")
    if not title:
        raise row.fail("Titel", "leer – ein Meilenstein braucht einen Titel.")
    if title != " ".join(m.title.split()):
        fields.append(("title", title))
        lines.append(f"{m.id} Titel „{title}“ statt „{m.title}“")
    value, due = _due_value(row)
    # The exported date of a quarter's milestone is the quarter's last day: unchanged,
    # it keeps the quarter in the file.
    if due != m.due:
        fields.append(("due", value))
        lines.append(f"{m.id} fällig {short_day(due)} statt {short_day(m.due)}")
    confirmed = _confirmed(row)
    if confirmed is not None and confirmed == m.assumed:
        fields.append(("assumed", not confirmed))
        lines.append(f"{m.id} fällig {short_day(due)} bestätigt" if confirmed
                     else f"{m.id} fällig {short_day(due)} wieder als angenommen markiert")
    return (Edit("set", "milestone", m.id, tuple(fields)), lines) if fields else None


def _next_free(ap_id: str, taken: set[str]) -> str:
    """M4.1, M4.2, …: as plan_edit.next_milestone_id, also skipping ids this workbook uses."""
    number, n = ap_id.removeprefix("AP"), 1
    while f"M{number}.{n}" in taken:
        n += 1
    return f"M{number}.{n}"


def _new_milestone(row: _Row, plan: Plan, taken: set[str]) -> Change:
    wp = _ap_ref(row, "AP", plan)
    title = _text(row, "Titel")
    if not title:
        raise row.fail("Titel", "leer – ein neuer Meilenstein braucht einen Titel.")
    value, due = _due_value(row)
    raw = _text(row, "ID")
    if m := _MILESTONE_ID.match(raw):
        ms_id = f"M{int(m.group(1))}.{int(m.group(2))}"
    else:
        ms_id = _next_free(wp.id, taken)
        taken.add(ms_id)
    fields: list[tuple[str, Any]] = [("ap", wp.id), ("title", title), ("due", value)]
    assumed = _confirmed(row) is False  # empty: confirmed, as /meilenstein adds one
    if assumed:
        fields.append(("assumed", True))
    line = f"neuer Meilenstein {ms_id} „{title}“ ({wp.label}), fällig {short_day(due)}"
    return Edit("add", "milestone", ms_id, tuple(fields)), [
        line + (" (angenommen)" if assumed else "")]


# -- the chat -----------------------------------------------------------------------


def workbook_attachment(ctx: Context, now: datetime) -> Attachment:
    """The plan as an .xlsx document, with a caption on how to send it back."""
    today = local_today(ctx, now)
    plan, marks = ctx.plan, ctx.store.marks()

    def render() -> bytes:  # from the snapshot above only: it may run in another thread
        return plan_workbook(plan, marks, today)

    caption = (f"📗 <b>Arbeits- und Zeitplan</b> als Excel-Datei, Stand {short_day(today)}.\n"
               "Ändern (Admins): Zeiträume, Zuständige, Meilensteine und „Bestätigt“ in der "
               "Datei bearbeiten, Zeilen für neue Meilensteine anfügen oder löschen, dann die "
               "Datei als Dokument hierher zurückschicken. Ich zeige die Änderungen als "
               "Vorschau; erst „Übernehmen“ ändert den Plan. Die Sitzungen sind dort nur zum "
               "Ansehen.")
    fallback = ("Die Excel-Datei ließ sich nicht senden. Den Plan zeigen /plan und "
                "/meilensteine hier im Chat.")
    return Attachment(WORKBOOK_FILE, render, "document", caption, fallback)


def excel_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply]:
    return [Reply("", attachment=workbook_attachment(ctx, now))]


def workbook_sent(ctx: Context, msg: Incoming, data: bytes,
                  now: datetime) -> list[Reply] | str:
    """An edited workbook came back: admins get the differences as one preview."""
    if (no := refused(ctx, msg)) is not None:
        return no
    try:
        edits, lines = read_workbook(data, ctx.plan)
        if not edits:
            return NO_CHANGES
        return propose(ctx, msg, Proposal(tuple(edits), tuple(lines)), now)
    except (WorkbookError, PlanEditError) as err:
        return f"{esc(str(err))} Ich habe nichts geändert."


COMMANDS = (
    Command("plan_excel", excel_command, "Den Plan als Excel-Datei (.xlsx)"),
)
