"""Schedule questions: a quarter's view, milestones by urgency, what comes next, what is late."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.meetings import occurrences
from workflows.periods import Period
from workflows.plan import Plan, WorkPackage
from workflows.progress import MilestoneMark, Update, ap_progress, reached_milestones
from workflows.quarters import Quarter
from workflows.queries import DUE_SOON_DAYS, MilestoneStatus, milestone_status


@dataclass(frozen=True)
class MeetingTime:
    title: str
    kind: str
    start: datetime


def all_milestones(plan: Plan, marks: Iterable[MilestoneMark],
                   today: date) -> list[MilestoneStatus]:
    reached = reached_milestones(marks)
    last_day = plan.programme.last_day
    return sorted((milestone_status(m, reached, today, last_day) for m in plan.milestones),
                  key=lambda s: (s.milestone.due, s.milestone.id))


def meetings_between(plan: Plan, tz: ZoneInfo, start: datetime,
                     end: datetime) -> list[MeetingTime]:
    times = [MeetingTime(m.title, m.kind, t) for m in plan.meetings
             for t in occurrences(m, tz, start, end, plan.programme.last_day)]
    return sorted(times, key=lambda t: t.start)


def _day_bounds(period: Period, tz: ZoneInfo) -> tuple[datetime, datetime]:
    return (datetime.combine(period.start, time.min, tz),
            datetime.combine(period.end, time.max, tz))


def running_in(plan: Plan, start: date, end: date) -> list[WorkPackage]:
    """APs whose span overlaps the days start..end."""
    return [wp for wp in plan.work_packages
            if wp.start.first_day <= end and wp.end.last_day >= start]


@dataclass(frozen=True)
class PeriodView:
    """What a period holds: APs, milestones due, overdue ones carried in, meetings."""

    period: Period
    running: tuple[WorkPackage, ...]
    starting: tuple[WorkPackage, ...]
    ending: tuple[WorkPackage, ...]
    due: tuple[MilestoneStatus, ...]
    carried: tuple[MilestoneStatus, ...]  # due before the period, still open today
    meetings: tuple[MeetingTime, ...]


def period_view(plan: Plan, period: Period, marks: Iterable[MilestoneMark], tz: ZoneInfo,
                today: date) -> PeriodView:
    statuses = all_milestones(plan, marks, today)
    running = running_in(plan, period.start, period.end)
    carried = () if period.end < today else tuple(
        s for s in statuses if s.milestone.due < period.start and s.reached_on is None)
    return PeriodView(
        period,
        tuple(running),
        tuple(wp for wp in running if period.contains(wp.start.first_day)),
        tuple(wp for wp in running if period.contains(wp.end.last_day)),
        tuple(s for s in statuses if period.contains(s.milestone.due)),
        carried,
        tuple(meetings_between(plan, tz, *_day_bounds(period, tz))),
    )


@dataclass(frozen=True)
class MilestoneGroups:
    overdue: tuple[MilestoneStatus, ...]
    soon: tuple[MilestoneStatus, ...]  # due within DUE_SOON_DAYS
    later: tuple[MilestoneStatus, ...]
    reached: tuple[MilestoneStatus, ...]
    all: tuple[MilestoneStatus, ...] = ()  # every one, by due date


def milestone_groups(plan: Plan, marks: Iterable[MilestoneMark], today: date,
                     ap: str | None = None) -> MilestoneGroups:
    """The milestones (of one AP, if `ap` is given) by urgency on `today`."""
    statuses = [s for s in all_milestones(plan, marks, today) if ap is None or s.milestone.ap == ap]
    return MilestoneGroups(
        tuple(s for s in statuses if s.kind == "überfällig"),
        tuple(s for s in statuses if s.reached_on is None and 0 <= s.days_left <= DUE_SOON_DAYS),
        tuple(s for s in statuses if s.reached_on is None and s.days_left > DUE_SOON_DAYS),
        tuple(s for s in statuses if s.reached_on is not None),
        tuple(statuses),
    )


@dataclass(frozen=True)
class Event:
    """A dated thing ahead: an open milestone, a meeting, or a quarter's start."""

    day: date
    at: datetime | None  # meetings have a time
    kind: str  # "milestone", "meeting", "quarter"
    title: str


def next_events(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, now: datetime,
                count: int) -> list[Event]:
    """The next `count` events from `now` on, soonest first."""
    today = now.astimezone(tz).date()
    events = [Event(s.milestone.due, None, "milestone", f"{s.milestone.id} {s.milestone.title}")
              for s in all_milestones(plan, marks, today)
              if s.reached_on is None and s.days_left >= 0]
    q = Quarter.of(today) + 1
    while q <= plan.programme.end and len([e for e in events if e.kind == "quarter"]) < count:
        events.append(Event(q.first_day, None, "quarter", f"Beginn von {q}"))
        q += 1
    # Meetings recur forever; looking far enough ahead for `count` of them is plenty.
    horizon = now + timedelta(days=7 * max(count, 1) + 92)
    events += [Event(m.start.date(), m.start, "meeting", m.title)
               for m in meetings_between(plan, tz, now, horizon)]
    events.sort(key=lambda e: (e.day, e.at.time() if e.at else time.min, e.kind))
    return events[:count]


@dataclass(frozen=True)
class Quiet:
    """A running AP without a report for too long (or ever)."""

    wp: WorkPackage
    last_update: datetime | None
    days_quiet: int | None


def quiet_work_packages(plan: Plan, updates: Iterable[Update], today: date,
                        weeks: int | None = None) -> list[Quiet]:
    """Running APs with no update for longer than the plan's threshold."""
    limit = timedelta(weeks=plan.programme.stale_after_weeks if weeks is None else weeks)
    by_ap: dict[str, list[Update]] = {}
    for u in updates:
        by_ap.setdefault(u.ap, []).append(u)
    quiet = []
    for wp in running_in(plan, today, today):
        progress = ap_progress(by_ap.get(wp.id, []))
        if progress.state == "abgeschlossen":
            continue
        last = progress.last_update
        if last is None:
            quiet.append(Quiet(wp, None, None))
        elif today - last.date() > limit:
            quiet.append(Quiet(wp, last, (today - last.date()).days))
    return quiet
