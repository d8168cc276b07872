"""The progress report for a period (Sachbericht, Zwischennachweis): what each AP did, reached."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from workflows.minutes import DECISION, TASK, Entry
from workflows.periods import Period, year_period
from workflows.plan import Plan, WorkPackage
from workflows.progress import MilestoneMark, Update, ap_progress, order_key, reached_milestones
from workflows.queries import MilestoneStatus, milestone_status


@dataclass(frozen=True)
class APReport:
    """One work package in the period: plan span, reported state, milestones, updates."""

    wp: WorkPackage
    phase: str  # "nicht begonnen", "läuft", "beendet" on the report's as-of day
    state: str | None  # as last reported up to the as-of day
    percent: int | None
    last_update: datetime | None  # the latest report up to the as-of day, any period
    reached: tuple[MilestoneStatus, ...]  # reached within the period, by date
    open: tuple[MilestoneStatus, ...]  # not reached by the as-of day, by due date
    updates: tuple[Update, ...]  # recorded within the period, not withdrawn, oldest first
    # Reports of a delay, a block or a pause (see _setbacks): the reasons the team gave
    # for milestones not reached.
    setbacks: tuple[Update, ...] = ()
    decisions: tuple[Entry, ...] = ()  # taken within the period, oldest first
    done_tasks: tuple[Entry, ...] = ()  # action items completed within the period

    @property
    def due_open(self) -> tuple[MilestoneStatus, ...]:
        """Milestones due by the as-of day and not reached by then."""
        return tuple(s for s in self.open if s.days_left <= 0)

    @property
    def ahead(self) -> tuple[MilestoneStatus, ...]:
        """Milestones due after the as-of day: the plan's outlook for the AP."""
        return tuple(s for s in self.open if s.days_left > 0)


SETBACK_STATES = ("verzögert", "blockiert", "zurückgestellt")


@dataclass(frozen=True)
class Report:
    period: Period
    as_of: date  # the period's last day, or today while the period is still running
    rows: tuple[APReport, ...]

    @property
    def update_count(self) -> int:
        return sum(len(r.updates) for r in self.rows)

    @property
    def reached_count(self) -> int:
        return sum(len(r.reached) for r in self.rows)


def programme_period(plan: Plan) -> Period:
    """The whole programme (e.g. Q1 2025 – Q2 2027): the period of the final report.

    A funder's Verwendungsnachweis reports on the whole funding period, not on its last
    year; the yearly Zwischennachweise are the reports by year.
    """
    prog = plan.programme
    return Period(prog.first_day, prog.last_day, f"Gesamtlaufzeit {prog.start} bis {prog.end}",
                  "programme")


def _phase(wp: WorkPackage, day: date) -> str:
    if day < wp.start.first_day:
        return "nicht begonnen"
    return "beendet" if day > wp.end.last_day else "läuft"


def _setbacks(mine: list[Update], in_period: tuple[Update, ...],
              state: str | None) -> tuple[Update, ...]:
    """The period's reports of setbacks; without any, the one that set a setback state
    still in force (an older delay that was resolved since is no reason)."""
    here = tuple(u for u in in_period if u.state in SETBACK_STATES)
    if here or state not in SETBACK_STATES:
        return here
    stated = [u for u in mine if u.state]
    return (max(stated, key=order_key),) if stated else ()


def period_report(plan: Plan, updates: Iterable[Update], marks: Iterable[MilestoneMark],
                  period: Period, today: date, entries: Iterable[Entry] = ()) -> Report:
    """Every AP that runs in `period` or has news in it, as it stood at the period's end.

    State, progress and open milestones are taken as of the period's last day (or
    `today`, if that comes first), so a report on 2026 written in March 2027 shows
    the end of 2026 and not what happened since.
    """
    as_of = min(period.end, today)
    live = [u for u in updates if not u.withdrawn and u.at.date() <= as_of]
    # A milestone reached after the as-of day was still open then.
    reached = {ms: day for ms, day in reached_milestones(marks).items() if day <= as_of}
    kept = [e for e in entries if not e.withdrawn and e.ap is not None]
    decided = [e for e in kept if e.kind == DECISION and e.at.date() <= as_of
               and period.contains(e.at.date())]
    done = [e for e in kept if e.kind == TASK and e.done_at is not None
            and e.done_at.date() <= as_of and period.contains(e.done_at.date())]
    rows = []
    for wp in plan.work_packages:
        mine = [u for u in live if u.ap == wp.id]
        in_period = tuple(sorted((u for u in mine if period.contains(u.at.date())),
                                 key=lambda u: u.at))
        statuses = [milestone_status(m, reached, as_of) for m in plan.milestones_of(wp.id)]
        reached_here = tuple(sorted(
            (s for s in statuses if s.reached_on is not None and period.contains(s.reached_on)),
            key=lambda s: (s.reached_on or s.milestone.due, s.milestone.id)))
        still_open = tuple(sorted((s for s in statuses if s.reached_on is None),
                                  key=lambda s: (s.milestone.due, s.milestone.id)))
        decisions = tuple(sorted((e for e in decided if e.ap == wp.id), key=lambda e: e.at))
        tasks = tuple(sorted((e for e in done if e.ap == wp.id),
                             key=lambda e: e.done_at or e.at))
        overlaps = wp.start.first_day <= period.end and wp.end.last_day >= period.start
        if not (overlaps or in_period or reached_here or decisions or tasks):
            continue
        progress = ap_progress(mine)
        rows.append(APReport(wp, _phase(wp, as_of), progress.state, progress.percent,
                             progress.last_update, reached_here, still_open, in_period,
                             _setbacks(mine, in_period, progress.state), decisions, tasks))
    return Report(period, as_of, tuple(rows))


@dataclass(frozen=True)
class ReportDeadline:
    """A report the funder expects: the Zwischennachweis on a year, the Verwendungsnachweis."""

    id: str  # "ZN2025", "VN": stable, for the post log
    title: str  # "Zwischennachweis 2025"
    due: date
    period: Period  # what the report covers: the year, or the whole programme


def report_deadlines(plan: Plan) -> tuple[ReportDeadline, ...]:
    """The programme's reporting deadlines, by due date.

    A Zwischennachweis for each calendar year of the programme that ends before the
    programme does, due on `interim_report_due` of the next year (the last year goes into
    the Verwendungsnachweis); the Verwendungsnachweis on the whole programme at the end
    of the month `final_report_months` after the programme's last month.
    """
    prog = plan.programme
    deadlines = []
    if prog.interim_report_due is not None:
        month, day = prog.interim_report_due
        for year in range(prog.first_day.year, prog.last_day.year):
            if year + 1 > date.max.year:
                break
            deadlines.append(ReportDeadline(f"ZN{year}", f"Zwischennachweis {year}",
                                            date(year + 1, month, day), year_period(year)))
    months = prog.last_day.year * 12 + prog.last_day.month - 1 + prog.final_report_months
    year, month = divmod(months, 12)
    if year <= date.max.year:
        due = date(year, month + 1, calendar.monthrange(year, month + 1)[1])
        deadlines.append(ReportDeadline("VN", "Verwendungsnachweis", due,
                                        programme_period(plan)))
    return tuple(sorted(deadlines, key=lambda d: d.due))
