"""The Arbeits- und Zeitplan: loading and validating `plan.toml` into frozen dataclasses."""

from __future__ import annotations

import itertools
import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from dateutil.rrule import rrulestr

from workflows.quarters import YEARS, Quarter, YearOutOfRange
from workflows.workdays import valid_bundesland

AP_ID = re.compile(r"^AP([1-9]\d{0,2})$")
MEETING_KINDS = {"team": "Teambesprechung", "steering": "Steuerungsrunde"}
# A plan is a few kilobytes; a larger file is not one (APBOT_PLAN=/dev/zero never ends).
MAX_PLAN_BYTES = 1024 * 1024
TOO_LARGE = "die Datei ist größer als 1 MB – ist das die Plandatei?"
MAX_REMINDERS = 10  # reminders per milestone: more would flood the team chat
# Meeting series meet at most once a day: sub-daily rules would post a summary every few
# minutes, and dateutil steps through every minute or second of them.
_SUB_DAILY = re.compile(r"\bFREQ\s*=\s*(?:HOURLY|MINUTELY|SECONDLY)\b", re.IGNORECASE)
_SEVERAL_A_DAY = re.compile(r"\bBY(?:HOUR|MINUTE|SECOND)\s*=\s*[^;\s]*,", re.IGNORECASE)
_NO_INTERVAL = re.compile(r"\bINTERVAL\s*=\s*0+(?!\d)", re.IGNORECASE)  # the same time forever
ONCE_A_DAY = ("höchstens ein Termin am Tag: eine Sitzungsreihe tagt täglich, wöchentlich "
              "oder seltener (z. B. „FREQ=WEEKLY;BYDAY=TU“)")


class PlanError(Exception):
    """The plan file cannot be used; the message names file, entry and field."""

    def __init__(self, path: Path, problem: str, entry: str | None = None,
                 field: str | None = None) -> None:
        self.path, self.entry, self.field, self.problem = path, entry, field, problem
        where = [str(path)]
        if entry:
            where.append(entry)
        if field:
            where.append(f"Feld „{field}“")
        super().__init__(f"{', '.join(where)}: {problem}")


@dataclass(frozen=True)
class Programme:
    name: str
    start: Quarter
    end: Quarter
    bundesland: str
    stale_after_weeks: int
    post_time: time  # when the automatic reminders go out, local time
    reminder_days: tuple[int, ...]  # days before a milestone's due date
    overdue_every_days: int
    overdue_max: int
    # Reporting deadlines (see workflows/report.py, report_deadlines): the Zwischennachweis
    # on each year is due on this (month, day) of the next year, None for none; the
    # Verwendungsnachweis at the end of the month this many months after the programme.
    interim_report_due: tuple[int, int] | None = (4, 30)
    final_report_months: int = 6

    @property
    def first_day(self) -> date:
        return self.start.first_day

    @property
    def last_day(self) -> date:
        return self.end.last_day


@dataclass(frozen=True)
class WorkPackage:
    id: str
    title: str
    description: str
    start: Quarter
    end: Quarter
    lead: str | None
    assumed: bool
    # The chat member the lead is, when the team named one: a user id, or an @name.
    lead_member: str | None = None

    @property
    def number(self) -> int:
        return int(self.id[2:])

    @property
    def label(self) -> str:
        """How people write it: "AP 3"."""
        return f"AP {self.number}"


@dataclass(frozen=True)
class Milestone:
    id: str
    ap: str
    title: str
    due: date
    due_quarter: Quarter | None  # set when the plan gives a quarter rather than a date
    assumed: bool


@dataclass(frozen=True)
class Meeting:
    id: str
    title: str
    kind: str
    rrule: str
    dtstart: datetime  # naive: local time in the configured time zone
    duration: timedelta
    summary_before: timedelta
    assumed: bool
    place: str | None = None


@dataclass(frozen=True)
class Plan:
    source: Path
    programme: Programme
    work_packages: tuple[WorkPackage, ...]
    milestones: tuple[Milestone, ...]
    meetings: tuple[Meeting, ...]

    def work_package(self, ap_id: str) -> WorkPackage | None:
        return next((wp for wp in self.work_packages if wp.id == ap_id), None)

    def milestone(self, milestone_id: str) -> Milestone | None:
        return next((m for m in self.milestones if m.id == milestone_id), None)

    def milestones_of(self, ap_id: str) -> tuple[Milestone, ...]:
        return tuple(m for m in self.milestones if m.ap == ap_id)

    @property
    def ap_range(self) -> str:
        """ "AP 1 bis AP 13" for messages about unknown APs."""
        numbers = [wp.number for wp in self.work_packages]
        return f"AP {min(numbers)} bis AP {max(numbers)}"


# ------------------------------------------------------------------ field readers

Reader = Callable[[Any], Any]


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"erwartet Text in Anführungszeichen, gefunden {value!r}")
    return value.strip()


def _nonempty(value: Any) -> str:
    text = _text(value)
    if not text:
        raise ValueError("darf nicht leer sein")
    return text


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"erwartet true oder false, gefunden {value!r}")
    return value


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"erwartet eine ganze Zahl ≥ 0, gefunden {value!r}")
    return value


def _between(low: int, high: int, unit: str) -> Reader:
    """A reader of whole numbers low..high: anything beyond cannot be meant and overflows."""
    def read(value: Any) -> int:
        number = _count(value)
        if not low <= number <= high:
            raise ValueError(f"erwartet eine ganze Zahl von {low} bis {high} ({unit}), "
                             f"gefunden {value!r}")
        return number
    return read


_reminder_day = _between(1, 365, "Tage vor dem Fälligkeitstag")


def _day_counts(value: Any) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ValueError(f"erwartet eine Liste von Tagen wie [28, 7], gefunden {value!r}")
    days = tuple(sorted({_reminder_day(v) for v in value}, reverse=True))
    if len(days) > MAX_REMINDERS:
        raise ValueError(f"höchstens {MAX_REMINDERS} Erinnerungen je Meilenstein, "
                         f"gefunden {len(days)}")
    return days


def _year_problem(year: int) -> str:
    return f"das Jahr {year} liegt außerhalb der Jahre {YEARS[0]} bis {YEARS[-1]}"


def _clock_time(value: Any) -> time:
    text = _text(value)
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"erwartet eine Uhrzeit wie „08:00“, gefunden {value!r}") from None
    if time(2) <= parsed < time(3):
        # On the autumn change 02:00–03:00 happens twice, in spring not at all.
        raise ValueError("zwischen 02:00 und 03:00 wegen der Zeitumstellung nicht möglich")
    return parsed


_MONTH_DAY = re.compile(r"^(?:(\d{1,2})\.(\d{1,2})\.?|(\d{1,2})-(\d{1,2}))$")


def _month_day(value: Any) -> tuple[int, int] | None:
    """ "30.04." or "04-30": a day of every year (not 29 February); "" for none."""
    text = _text(value)
    if not text:
        return None
    m = _MONTH_DAY.match(text.replace(" ", ""))
    if m is not None:
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        try:
            date(2001, int(month), int(day))  # a year without 29 February
            return int(month), int(day)
        except ValueError:
            pass
    raise ValueError(f"erwartet einen Tag des Jahres wie „30.04.“ (oder „\"\"“ für keinen), "
                     f"gefunden {value!r}")


def _bundesland(value: Any) -> str:
    code = _nonempty(value).upper()
    if not valid_bundesland(code):
        raise ValueError(f"unbekanntes Bundesland-Kürzel {value!r} (z. B. „SN“ für Sachsen)")
    return code


def _quarter(value: Any) -> Quarter:
    try:
        return Quarter.parse(_text(value))
    except YearOutOfRange as err:
        raise ValueError(f"{_year_problem(err.year)}, gefunden {value!r}") from None
    except ValueError:
        raise ValueError(f"erwartet ein Quartal wie „Q4 2026“, gefunden {value!r}") from None


def _due(value: Any) -> tuple[date, Quarter | None]:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, None
    text = _text(value)
    try:
        quarter = Quarter.parse(text)
        return quarter.last_day, quarter
    except YearOutOfRange as err:
        raise ValueError(f"{_year_problem(err.year)}, gefunden {value!r}") from None
    except ValueError:
        pass
    try:
        return date.fromisoformat(text), None
    except ValueError:
        raise ValueError(
            "erwartet ein Quartal wie „Q2 2026“ oder ein Datum wie „2026-06-12“, "
            f"gefunden {value!r}"
        ) from None


def _local_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(_text(value))
        except ValueError:
            raise ValueError(
                f"erwartet Datum und Uhrzeit wie „2025-01-07T10:00“, gefunden {value!r}"
            ) from None
    if parsed.tzinfo is not None:
        raise ValueError("Ortszeit ohne Zeitzone angeben, z. B. 2025-01-07T10:00")
    if parsed.year not in YEARS:
        raise ValueError(f"{_year_problem(parsed.year)}, gefunden {value!r}")
    return parsed


def _ap_id(value: Any) -> str:
    text = _text(value).upper().replace(" ", "")
    if not AP_ID.match(text):
        raise ValueError(f"erwartet eine AP-Kennung wie „AP3“, gefunden {value!r}")
    return text


def _meeting_kind(value: Any) -> str:
    kind = _text(value)
    if kind not in MEETING_KINDS:
        raise ValueError(f"erwartet „team“ oder „steering“, gefunden {value!r}")
    return kind


# field name -> (reader, default); a default of ... marks a required field
Schema = Mapping[str, tuple[Reader, Any]]

PROGRAMME: Schema = {
    "name": (_nonempty, ...), "start": (_quarter, ...), "end": (_quarter, ...),
    "bundesland": (_bundesland, "SN"),
    "stale_after_weeks": (_between(0, 104, "Wochen"), 6), "post_time": (_clock_time, "08:00"),
    "reminder_days": (_day_counts, [28, 7]),
    "overdue_every_days": (_between(1, 365, "Tage"), 14),
    "overdue_max": (_between(0, 20, "Erinnerungen"), 4),
    "interim_report_due": (_month_day, "30.04."),
    "final_report_months": (_between(0, 24, "Monate nach Programmende"), 6),
}
WORK_PACKAGE: Schema = {
    "id": (_ap_id, ...), "title": (_nonempty, ...), "description": (_text, ""),
    "start": (_quarter, ...), "end": (_quarter, ...), "lead": (_text, ""),
    "lead_member": (_text, ""), "assumed": (_flag, False),
}
MILESTONE: Schema = {
    "id": (_nonempty, ...), "ap": (_ap_id, ...), "title": (_nonempty, ...), "due": (_due, ...),
    "assumed": (_flag, False),
}
MEETING: Schema = {
    "id": (_nonempty, ...), "title": (_nonempty, ...), "kind": (_meeting_kind, ...),
    "rrule": (_nonempty, ...), "dtstart": (_local_datetime, ...),
    "duration_minutes": (_between(0, 24 * 60, "Minuten, höchstens ein Tag"), 60),
    "summary_before_minutes": (_between(1, 7 * 24 * 60, "Minuten, höchstens 7 Tage"), 60),
    "assumed": (_flag, False), "place": (_text, ""),
}
TOP_LEVEL = {"programme", "work_package", "milestone", "meeting"}


def _read_entry(path: Path, entry: str, raw: Any, schema: Schema) -> dict[str, Any]:
    """Check one table against its schema and convert its values."""
    if not isinstance(raw, dict):
        raise PlanError(path, "erwartet eine Tabelle", entry)
    unknown = sorted(set(raw) - set(schema))
    if unknown:
        raise PlanError(path, f"unbekanntes Feld (erlaubt: {', '.join(schema)})", entry, unknown[0])
    values: dict[str, Any] = {}
    for name, (reader, default) in schema.items():
        if name not in raw:
            if default is ...:
                raise PlanError(path, "fehlt", entry, name)
            values[name] = reader(default)
            continue
        try:
            values[name] = reader(raw[name])
        except ValueError as err:
            raise PlanError(path, str(err), entry, name) from None
    return values


def _entries(path: Path, document: dict[str, Any], key: str, schema: Schema,
             label: str) -> list[tuple[str, dict[str, Any]]]:
    """All [[key]] tables, each with a name for messages, ids checked for duplicates."""
    raw = document.get(key, [])
    if not isinstance(raw, list):
        raise PlanError(path, f"erwartet eine Liste von [[{key}]]-Tabellen", f"[{key}]")
    seen: set[str] = set()
    out = []
    for n, item in enumerate(raw, start=1):
        name = f"{label} Nr. {n}"
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            name += f" ({item['id']})"
        values = _read_entry(path, name, item, schema)
        if values["id"] in seen:
            raise PlanError(path, f"Kennung {values['id']!r} kommt doppelt vor", name, "id")
        seen.add(values["id"])
        out.append((name, values))
    return out


def parse_plan(text: str, path: Path) -> Plan:
    """Validate plan text; raise PlanError naming the file, entry and field."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PlanError(path, f"TOML-Syntaxfehler: {err}") from None
    except RecursionError:  # "a = [[[[…" thousands deep
        problem = "TOML-Syntaxfehler: Listen oder Tabellen zu tief verschachtelt"
        raise PlanError(path, problem) from None
    unknown = sorted(set(document) - TOP_LEVEL)
    if unknown:
        raise PlanError(path, f"unbekannter Abschnitt [{unknown[0]}] "
                        f"(erlaubt: {', '.join(sorted(TOP_LEVEL))})")
    if "programme" not in document:
        raise PlanError(path, "der Abschnitt [programme] fehlt")
    prog = _read_entry(path, "[programme]", document["programme"], PROGRAMME)
    programme = Programme(**prog)
    if programme.end < programme.start:
        raise PlanError(path, f"Ende {programme.end} liegt vor dem Beginn {programme.start}",
                        "[programme]", "end")

    work_packages = []
    for name, v in _entries(path, document, "work_package", WORK_PACKAGE, "[[work_package]]"):
        wp = WorkPackage(v["id"], v["title"], v["description"], v["start"], v["end"],
                         v["lead"] or None, v["assumed"], v["lead_member"] or None)
        if wp.end < wp.start:
            raise PlanError(path, f"Ende {wp.end} liegt vor dem Beginn {wp.start}", name, "end")
        for fld, q in (("start", wp.start), ("end", wp.end)):
            if not programme.start <= q <= programme.end:
                raise PlanError(path, f"{q} liegt außerhalb des Programms "
                                f"({programme.start} – {programme.end})", name, fld)
        work_packages.append(wp)
    if not work_packages:
        raise PlanError(path, "der Plan enthält kein [[work_package]]")
    ap_ids = {wp.id for wp in work_packages}

    milestones = []
    for name, v in _entries(path, document, "milestone", MILESTONE, "[[milestone]]"):
        if v["ap"] not in ap_ids:
            raise PlanError(path, f"Arbeitspaket {v['ap']!r} gibt es im Plan nicht", name, "ap")
        due, quarter = v["due"]
        if not programme.first_day <= due <= programme.last_day:
            raise PlanError(path, f"{due:%d.%m.%Y} liegt außerhalb des Programms "
                            f"({programme.start} – {programme.end})", name, "due")
        milestones.append(Milestone(v["id"], v["ap"], v["title"], due, quarter, v["assumed"]))

    meetings = []
    for name, v in _entries(path, document, "meeting", MEETING, "[[meeting]]"):
        if _SUB_DAILY.search(v["rrule"]) or _SEVERAL_A_DAY.search(v["rrule"]):
            raise PlanError(path, ONCE_A_DAY, name, "rrule")
        if _NO_INTERVAL.search(v["rrule"]):
            raise PlanError(path, "keine gültige RRULE (INTERVAL muss mindestens 1 sein)", name,
                            "rrule")
        try:
            first = list(itertools.islice(rrulestr(v["rrule"], dtstart=v["dtstart"]), 20))
        except (ValueError, TypeError, OverflowError) as err:
            raise PlanError(path, f"keine gültige RRULE ({err})", name, "rrule") from None
        if not first:
            raise PlanError(path, "die Regel ergibt keinen einzigen Termin", name, "rrule")
        if len({t.date() for t in first}) < len(first):  # e.g. an RDATE beside the rule
            raise PlanError(path, ONCE_A_DAY, name, "rrule")
        meetings.append(Meeting(
            v["id"], v["title"], v["kind"], v["rrule"], v["dtstart"],
            timedelta(minutes=v["duration_minutes"]),
            timedelta(minutes=v["summary_before_minutes"]), v["assumed"], v["place"] or None,
        ))
    return Plan(path, programme, tuple(work_packages), tuple(milestones), tuple(meetings))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, at most MAX_PLAN_BYTES + 1 of them: a device may never end."""
    # Non-blocking open: a named pipe without a writer would otherwise wait forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise PlanError(path, "die Plandatei ist nicht lesbar: ein Verzeichnis, keine Datei")
        if stat.S_ISREG(info.st_mode) and info.st_size > MAX_PLAN_BYTES:
            raise PlanError(path, TOO_LARGE)
        os.set_blocking(fd, True)
        with open(fd, "rb", closefd=False) as file:
            return file.read(MAX_PLAN_BYTES + 1)
    finally:
        os.close(fd)


def load_plan(path: Path) -> Plan:
    """Read and validate the plan file."""
    try:
        data = _read_bytes(path)
    except FileNotFoundError:
        raise PlanError(path, "die Plandatei gibt es nicht") from None
    except OSError as err:
        raise PlanError(path, f"die Plandatei ist nicht lesbar ({err})") from None
    if len(data) > MAX_PLAN_BYTES:
        raise PlanError(path, TOO_LARGE)
    try:
        text = data.decode("utf-8-sig")  # editors on Windows add a BOM
    except UnicodeDecodeError as err:
        raise PlanError(path, f"die Plandatei ist nicht lesbar ({err})") from None
    # Universal newlines, as reading in text mode gave: old Mac files end lines with "\r".
    return parse_plan(text.replace("\r\n", "\n").replace("\r", "\n"), path)
