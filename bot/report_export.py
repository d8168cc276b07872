"""Files for the funder's progress report: the period report as Markdown, all updates as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date
from zoneinfo import ZoneInfo

from bot.format import short_day
from workflows.plan import Plan, WorkPackage
from workflows.progress import Update
from workflows.queries import MilestoneStatus
from workflows.report import APReport, Report

# Excel runs a cell that starts with one of these as a formula ("- erledigt" → #NAME?).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return _one_line(text).replace("|", "\\|")


def _span(wp: WorkPackage) -> str:
    return f"{wp.start} – {wp.end}" + (" *" if wp.assumed else "")


def _state(row: APReport) -> str:
    if row.last_update is None:
        return "keine Meldung"
    return row.state or "ohne Zustand"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _percent(row: APReport) -> str:
    return "–" if row.percent is None else f"{row.percent} %"


def _ms_name(s: MilestoneStatus) -> str:
    return f"{s.milestone.id} {_one_line(s.milestone.title)}"


def _due(s: MilestoneStatus) -> str:
    due = f"fällig {short_day(s.milestone.due)}"
    return due + (" *" if s.milestone.assumed else "")


def _reached_line(s: MilestoneStatus) -> str:
    reached = short_day(s.reached_on) if s.reached_on else "?"
    return f"{_ms_name(s)} – erreicht am {reached} ({_due(s)})"


def _open_line(s: MilestoneStatus) -> str:
    late = " – überfällig" if s.kind == "überfällig" else ""
    return f"{_ms_name(s)} – {_due(s)}{late}"


def _update_line(u: Update) -> str:
    forwarded = f" (weitergeleitet von {_one_line(u.forwarded_from)})" if u.forwarded_from else ""
    return f"{short_day(u.at.date())}, {_one_line(u.author.name)}{forwarded}: {_one_line(u.text)}"


def _section(title: str, lines: list[str], empty: str) -> list[str]:
    if not lines:
        return [f"- {title}: {empty}"]
    return [f"- {title}:", *(f"  - {line}" for line in lines)]


def _ap_section(row: APReport, as_of: date) -> list[str]:
    wp = row.wp
    return [
        f"## {wp.label} – {_one_line(wp.title)}",
        "",
        f"- Zeitraum laut Plan: {_span(wp)}; am {short_day(as_of)}: {row.phase}",
        f"- Gemeldeter Stand: {_state(row)}, Fortschritt {_percent(row)}"
        + (f" (letzte Meldung {short_day(row.last_update.date())})" if row.last_update else ""),
        *_section("Meilensteine erreicht im Berichtszeitraum",
                  [_reached_line(s) for s in row.reached], "keine"),
        *_section("Offene Meilensteine", [_open_line(s) for s in row.open], "keine"),
        *_section(f"Meldungen im Berichtszeitraum ({len(row.updates)})",
                  [_update_line(u) for u in row.updates], "keine"),
        "",
    ]


def report_markdown(plan: Plan, report: Report, today: date) -> str:
    """The report as Markdown: a summary table, then one section per AP."""
    p = report.period
    running = report.as_of < p.end
    lines = [
        f"# Sachbericht {p.label} – {_one_line(plan.programme.name)}",
        "",
        f"Berichtszeitraum: {short_day(p.start)} – {short_day(p.end)}  ",
        f"Stand der Angaben: {short_day(report.as_of)}"
        + (" (der Berichtszeitraum läuft noch)" if running else "") + "  ",
        f"Zusammengestellt von apbot am {short_day(today)} aus den Meldungen im Team-Chat.",
        "",
        "## Übersicht",
        "",
        "| AP | Titel | Zeitraum laut Plan | Gemeldeter Stand | Fortschritt "
        "| Meilensteine erreicht | Meldungen |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in report.rows:
        reached = ", ".join(f"{s.milestone.id} ({short_day(s.reached_on)})"
                            for s in row.reached if s.reached_on) or "–"
        lines.append(f"| {row.wp.label} | {_cell(row.wp.title)} | {_span(row.wp)} "
                     f"| {_state(row)} | {_percent(row)} | {reached} | {len(row.updates)} |")
    if not report.rows:
        lines.append("| – | Im Berichtszeitraum läuft laut Plan kein Arbeitspaket. "
                     "| | | | | |")
    lines += [
        "",
        f"Im Berichtszeitraum: {_count(report.update_count, 'Meldung', 'Meldungen')}, "
        f"{_count(report.reached_count, 'Meilenstein', 'Meilensteine')} erreicht.",
    ]
    if any(r.wp.assumed or any(s.milestone.assumed for s in (*r.reached, *r.open))
           for r in report.rows):
        lines.append("Mit * markierte Zeiträume und Fälligkeiten sind im Plan angenommen und "
                     "vom Team noch nicht bestätigt.")
    lines.append("")
    for row in report.rows:
        lines += _ap_section(row, report.as_of)
    return "\n".join(lines).rstrip("\n") + "\n"


def _text_cell(text: str) -> str:
    """A cell Excel shows as text, never runs as a formula."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text


CSV_HEADER = ("Datum", "Uhrzeit", "AP", "Arbeitspaket", "Von", "Meldung", "Zustand",
              "Fortschritt (%)", "Weitergeleitet von", "Zurückgenommen", "Nr.")


def updates_csv(plan: Plan, updates: Iterable[Update], tz: ZoneInfo) -> bytes:
    """Every update, oldest first, as CSV for German Excel: UTF-8 with BOM, semicolons."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for u in sorted(updates, key=lambda u: (u.at, u.id or 0)):
        at = u.at.astimezone(tz)
        wp = plan.work_package(u.ap)
        writer.writerow([
            f"{at:%d.%m.%Y}", f"{at:%H:%M}", wp.label if wp else u.ap,
            _text_cell(wp.title) if wp else "", _text_cell(u.author.name),
            _text_cell(u.text), u.state or "", "" if u.percent is None else u.percent,
            _text_cell(u.forwarded_from or ""), "ja" if u.withdrawn else "nein",
            "" if u.id is None else u.id,
        ])
    return out.getvalue().encode("utf-8-sig")
