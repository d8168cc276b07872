"""The plan as a plain-text timeline (the Gantt chart's stand-in when no picture can be sent),
and what the chart shows: its window of quarters and each AP's reported states by day."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from bot.render.format import esc, short_day
from workflows.plan import Plan
from workflows.progress import Update, order_key
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


# -- what the Gantt chart shows (bot/render/gantt.py draws it; no matplotlib here) ---------

StateHistory = tuple[tuple[date, str], ...]  # (day reported, state), oldest first


@dataclass(frozen=True)
class ChartWindow:
    """The quarters a chart shows."""

    first: Quarter
    last: Quarter

    @property
    def quarters(self) -> list[Quarter]:
        return quarters_between(self.first, self.last)


def whole_programme(plan: Plan) -> ChartWindow:
    return ChartWindow(plan.programme.start, plan.programme.end)


def phone_window(plan: Plan, today: date, at_least: int = 4) -> ChartWindow:
    """From the quarter before today's to the programme's end, at least `at_least` quarters
    where the programme has them; the whole programme before it starts and after it ends."""
    start, end = plan.programme.start, plan.programme.end
    if not start.first_day <= today <= end.last_day:
        return ChartWindow(start, end)
    first = max(start, Quarter.of(today) - 1)
    while first > start and len(quarters_between(first, end)) < at_least:
        first = first - 1
    return ChartWindow(first, end)


def state_histories(plan: Plan, updates: Iterable[Update], tz: ZoneInfo) -> dict[str, StateHistory]:
    """Per AP, each reported state from the local day it was reported, oldest first.

    Withdrawn reports do not count; a report repeating the state before it adds nothing.
    """
    by_ap: dict[str, list[Update]] = {}
    for u in updates:
        if u.state and not u.withdrawn:
            by_ap.setdefault(u.ap, []).append(u)
    histories: dict[str, StateHistory] = {}
    for wp in plan.work_packages:
        changes: list[tuple[date, str]] = []
        for u in sorted(by_ap.get(wp.id, ()), key=order_key):
            state = u.state or ""
            if not changes or changes[-1][1] != state:
                changes.append((u.at.astimezone(tz).date(), state))
        if changes:
            histories[wp.id] = tuple(changes)
    return histories


def state_spans(history: StateHistory, start: date, end: date,
                today: date) -> list[tuple[date, date, str | None]]:
    """[from, to) stretches of a bar from `start` to `end` (exclusive) by reported state.

    None: no state reported yet. A state holds from the day it was reported until the
    next report, at most until today ("abgeschlossen": to the span's end); what lies
    after today belongs to no state.
    """
    known_until = min(end, today + timedelta(days=1))
    spans: list[tuple[date, date, str | None]] = []
    first = history[0][0] if history else known_until
    if start < min(first, known_until):
        spans.append((start, min(first, known_until), None))
    for i, (day, state) in enumerate(history):
        if day > today:
            break
        following = history[i + 1][0] if i + 1 < len(history) else None
        if following is None and state == "abgeschlossen":
            until = end  # done: nothing of the span is still ahead
        else:
            until = min(following or known_until, known_until)
        lo, hi = max(day, start), min(until, end)
        if lo < hi:
            spans.append((lo, hi, state))
    return spans


@dataclass(frozen=True)
class ChartRequest:
    """Everything a chart is drawn from: a snapshot taken on the event loop, so drawing
    can run in a worker thread, and a key for charts already drawn."""

    plan: Plan
    statuses: tuple[APStatus, ...]
    today: date
    histories: tuple[tuple[str, StateHistory], ...]
    window: ChartWindow
    width: int

    @property
    def history_of(self) -> dict[str, StateHistory]:
        return dict(self.histories)
