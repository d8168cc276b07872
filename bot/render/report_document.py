"""The Sachbericht's content as a plain document: headings, paragraphs, lists and a table.

One structure for every format (Word, PDF, Markdown), so the files say the same. It is
built from the engine's `Report` as funders expect a Sachbericht or Zwischennachweis: a
title block, an overview table, then per work package its goals from the plan, what was
done in the period, milestones reached, milestones due and not reached with the reasons
reported, and the outlook. User text is kept exactly as written: escaping is each
renderer's job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.render.format import short_day
from workflows.plan import Plan, WorkPackage
from workflows.progress import Update
from workflows.queries import MilestoneStatus
from workflows.report import APReport, Report

DRAFT_NOTE = "Entwurf – erzeugt aus den Meldungen im Team-Chat"
SUMMARY_COLUMNS = ("AP", "Zeitraum laut Plan", "Stand am Ende des Zeitraums", "Fortschritt",
                   "Meilensteine erreicht/fällig")
# Relative widths: the AP column carries the title, the others short values.
SUMMARY_WIDTHS = (31.0, 22.0, 20.0, 18.0, 21.0)
ASSUMED = " (angenommen)"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int  # 1: a section (Übersicht, an AP), 2: a part of an AP's section


@dataclass(frozen=True)
class Paragraph:
    text: str
    emphasis: bool = False  # the draft note, remarks under the table


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    widths: tuple[float, ...]  # relative
    rows: tuple[tuple[str, ...], ...]


Block = Heading | Paragraph | Bullets | Table


@dataclass(frozen=True)
class ReportDocument:
    title: str  # "Sachbericht 2026"
    subtitle: str  # the programme
    facts: tuple[tuple[str, str], ...]  # the title block: ("Berichtszeitraum", "…"), …
    blocks: tuple[Block, ...]


def _span(wp: WorkPackage) -> str:
    return f"{wp.start} – {wp.end}" + (ASSUMED if wp.assumed else "")


def _state(row: APReport) -> str:
    if row.last_update is None:
        return "keine Meldung"
    return row.state or "ohne Zustand"


def _percent(row: APReport) -> str:
    return "–" if row.percent is None else f"{row.percent} %"


def _due(s: MilestoneStatus) -> str:
    return f"fällig {short_day(s.milestone.due)}" + (ASSUMED if s.milestone.assumed else "")


def _milestone(s: MilestoneStatus) -> str:
    return f"{s.milestone.id} {s.milestone.title}"


def milestone_count(row: APReport, report: Report) -> str:
    """Milestones reached in the period / due in it by the as-of day (one reached early
    counts as due: it is done)."""
    period = report.period
    due = {s.milestone.id for s in (*row.reached, *row.open)
           if period.contains(s.milestone.due) and s.milestone.due <= report.as_of}
    due |= {s.milestone.id for s in row.reached}
    if not due:
        return "–"
    return f"{len(row.reached)} / {len(due)}"


def _author(u: Update) -> str:
    forwarded = f" (weitergeleitet von {u.forwarded_from})" if u.forwarded_from else ""
    return f"{u.author.name}{forwarded}"


def update_line(u: Update) -> str:
    """ "12.06.2026, Ben Berg: BiKo 2 im Rathaus" – the text exactly as written."""
    return f"{short_day(u.at.date())}, {_author(u)}: {u.text}"


def _setback_line(u: Update) -> str:
    return f"Gemeldet am {short_day(u.at.date())} von {_author(u)} ({u.state}): {u.text}"


def _summary(report: Report) -> Table:
    rows = tuple((f"{r.wp.label} {r.wp.title}", _span(r.wp), _state(r), _percent(r),
                  milestone_count(r, report)) for r in report.rows)
    return Table(SUMMARY_COLUMNS, SUMMARY_WIDTHS, rows)


def _outlook(row: APReport, as_of: date) -> tuple[str, ...]:
    wp = row.wp
    if as_of > wp.end.last_day:
        lines = [f"Laut Plan endete {wp.label} mit {wp.end}."]
    elif as_of < wp.start.first_day:
        lines = [f"Laut Plan beginnt {wp.label} mit {wp.start} und läuft bis {wp.end}."]
    else:
        lines = [f"Laut Plan läuft {wp.label} bis {wp.end}."]
    lines += [f"Nächster Meilenstein: {_milestone(s)} – {_due(s)}" for s in row.ahead]
    return tuple(lines)


def _ap_blocks(row: APReport, as_of: date) -> list[Block]:
    wp = row.wp
    state = f"Stand am {short_day(as_of)}: {_state(row)}, Fortschritt {_percent(row)}"
    if row.last_update is not None:
        state += f" (letzte Meldung {short_day(row.last_update.date())})"
    blocks: list[Block] = [
        Heading(f"{wp.label} – {wp.title}", 1),
        Paragraph(f"Zeitraum laut Plan: {_span(wp)}; am {short_day(as_of)}: {row.phase}. "
                  f"{state}."),
        Heading("Ziele laut Plan", 2),
        Paragraph(wp.description or "Der Plan beschreibt keine Ziele für dieses Arbeitspaket."),
        Heading(f"Umgesetzt im Berichtszeitraum ({len(row.updates)} Meldungen)"
                if len(row.updates) != 1 else "Umgesetzt im Berichtszeitraum (1 Meldung)", 2),
    ]
    blocks.append(Bullets(tuple(update_line(u) for u in row.updates)) if row.updates
                  else Paragraph("Keine Meldung im Berichtszeitraum."))
    blocks.append(Heading("Erreichte Meilensteine", 2))
    blocks.append(Bullets(tuple(
        f"{_milestone(s)} – erreicht am {short_day(s.reached_on)} ({_due(s)})"
        for s in row.reached if s.reached_on)) if row.reached
        else Paragraph("Kein Meilenstein im Berichtszeitraum erreicht."))
    if row.due_open:
        blocks.append(Heading("Fällig und nicht erreicht", 2))
        items = [f"{_milestone(s)} – {_due(s)}" + (" – überfällig" if s.days_left < 0 else "")
                 for s in row.due_open]
        reasons = [_setback_line(u) for u in row.setbacks] or [
            "Gründe wurden im Team-Chat nicht gemeldet."]
        blocks += [Bullets(tuple(items)), Paragraph("Gründe laut Meldungen:"),
                   Bullets(tuple(reasons))]
    # What the team's meetings decided and got done for the AP: only where there is some.
    if row.decisions:
        blocks.append(Heading("Beschlüsse im Berichtszeitraum", 2))
        blocks.append(Bullets(tuple(f"{short_day(e.at.date())}: {e.text}"
                                    for e in row.decisions)))
    if row.done_tasks:
        blocks.append(Heading("Erledigte Aufgaben im Berichtszeitraum", 2))
        blocks.append(Bullets(tuple(f"{short_day(e.done_at.date())}: {e.text} ({e.owner or '–'})"
                                    for e in row.done_tasks if e.done_at)))
    blocks.append(Heading("Ausblick", 2))
    blocks.append(Bullets(_outlook(row, as_of)))
    return blocks


def report_document(plan: Plan, report: Report, today: date) -> ReportDocument:
    """The Sachbericht for `report`, written on `today`."""
    p = report.period
    as_of = short_day(report.as_of)
    if report.as_of < p.end:
        as_of += " (der Berichtszeitraum läuft noch)"
    facts = (
        ("Programm", plan.programme.name),
        ("Berichtszeitraum", f"{short_day(p.start)} – {short_day(p.end)}"),
        ("Stand der Angaben", as_of),
        ("Erstellt am", short_day(today)),
    )
    blocks: list[Block] = [Paragraph(DRAFT_NOTE, emphasis=True), Heading("Übersicht", 1)]
    if report.rows:
        blocks.append(_summary(report))
    else:
        blocks.append(Paragraph("Im Berichtszeitraum läuft laut Plan kein Arbeitspaket."))
    updates, reached = report.update_count, report.reached_count
    blocks.append(Paragraph(
        f"Im Berichtszeitraum: {updates} {'Meldung' if updates == 1 else 'Meldungen'}, "
        f"{reached} {'Meilenstein' if reached == 1 else 'Meilensteine'} erreicht."))
    if any(r.wp.assumed or any(s.milestone.assumed for s in (*r.reached, *r.open))
           for r in report.rows):
        blocks.append(Paragraph("Mit „angenommen“ markierte Zeiträume und Fälligkeiten stehen "
                                "so im Plan, sind vom Team aber noch nicht bestätigt.",
                                emphasis=True))
    for row in report.rows:
        blocks += _ap_blocks(row, report.as_of)
    return ReportDocument(f"Sachbericht {p.label}", plan.programme.name, facts, tuple(blocks))
