"""The plan as a plain-text timeline: the Gantt chart's stand-in when no picture can be sent."""

from __future__ import annotations

from datetime import date

from bot.format import esc, short_day
from workflows.plan import Plan
from workflows.quarters import Quarter, quarters_between
from workflows.queries import APStatus, MilestoneStatus

IN_SPAN, OUTSIDE = "=", "."
MILESTONE_SIGNS = {"überfällig": "!", "bald": "o", "offen": "o", "erreicht": "*"}
URGENCY = ("überfällig", "bald", "offen", "erreicht")  # one sign per quarter: the most urgent


def _cell(st: APStatus, q: Quarter) -> str:
    due_here = [ms for ms in st.milestones if q.contains(ms.milestone.due)]
    if due_here:
        worst = min(due_here, key=lambda ms: URGENCY.index(ms.kind))
        return MILESTONE_SIGNS[worst.kind]
    return IN_SPAN if st.wp.start <= q <= st.wp.end else OUTSIDE


def _by_year(quarters: list[Quarter]) -> list[list[Quarter]]:
    years: list[list[Quarter]] = []
    for q in quarters:
        if years and years[-1][0].year == q.year:
            years[-1].append(q)
        else:
            years.append([q])
    return years


def progress_label(st: APStatus) -> str:
    """ "läuft · 60 %", "60 %", "Meldung vom 12.06.2026" or "keine Meldung"."""
    p = st.progress
    if p.last_update is None:
        return "keine Meldung"
    parts = [p.state] if p.state else []
    if p.percent is not None:
        parts.append(f"{p.percent} %")
    return " · ".join(parts) or f"Meldung vom {short_day(p.last_update.date())}"


def _milestone_list(statuses: list[APStatus]) -> list[str]:
    listed: list[MilestoneStatus] = sorted(
        (ms for st in statuses for ms in st.milestones), key=lambda ms: ms.milestone.due)
    return [f"{MILESTONE_SIGNS[ms.kind]} {esc(ms.milestone.id)} {esc(ms.milestone.title)} – "
            + (f"erreicht {short_day(ms.reached_on)}" if ms.reached_on else
               f"fällig {short_day(ms.milestone.due)}" + (" (überfällig)"
                                                            if ms.kind == "überfällig" else ""))
            for ms in listed]


def timeline_text(plan: Plan, statuses: list[APStatus], today: date) -> str:
    """One line per AP over the programme's quarters, in a <pre> block (Telegram HTML)."""
    years = _by_year(quarters_between(plan.programme.start, plan.programme.end))
    widths = [max(len(y), 4) for y in years]  # room for the year above its quarters
    label_width = max(len(st.wp.label) for st in statuses) + 2 if statuses else 6

    def row(cells: list[str]) -> str:
        return " ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [" " * label_width + row([str(y[0].year) for y in years]),
             " " * label_width + row(["".join(str(q.number) for q in y) for y in years])]
    for st in statuses:
        cells = row(["".join(_cell(st, q) for q in y) for y in years])
        pad = sum(widths) + len(widths) - 1
        lines.append(f"{st.wp.label.ljust(label_width)}{cells.ljust(pad)}  {progress_label(st)}")
    column = next((sum(w + 1 for w in widths[:i]) + j for i, y in enumerate(years)
                   for j, q in enumerate(y) if q.contains(today)), None)
    if column is not None:
        lines.append(" " * (label_width + column) + "^ heute")
    text = [
        f"<b>Arbeits- und Zeitplan</b> – Stand {short_day(today)}",
        "<pre>" + esc("\n".join(lines)) + "</pre>",
        f"{IN_SPAN} Zeitraum laut Plan · * Meilenstein erreicht · o offen · ! überfällig",
    ]
    if milestones := _milestone_list(statuses):
        text += ["", "<b>Meilensteine</b>", *milestones]
    return "\n".join(text)
