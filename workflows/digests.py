"""The content of automatic posts, as data: quarter overviews, reminders, meeting summaries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from workflows.agenda import PeriodView, Quiet, period_view, quiet_work_packages
from workflows.meetings import occurrences
from workflows.periods import quarter_period
from workflows.plan import Meeting, Plan
from workflows.posts import Post, previous_occurrence
from workflows.progress import MilestoneMark, Update, reached_milestones
from workflows.quarters import Quarter
from workflows.queries import APStatus, MilestoneStatus, milestone_status, plan_overview
from workflows.report import ReportDeadline, report_deadlines


@dataclass(frozen=True)
class QuarterDigest:
    view: PeriodView
    quiet: tuple[Quiet, ...]  # running APs with no update during the last quarter


@dataclass(frozen=True)
class MilestoneNotice:
    status: MilestoneStatus
    days_before: int  # 0 for overdue notices
    notice: int  # overdue notice n of …
    of: int


@dataclass(frozen=True)
class TeamSummary:
    meeting: Meeting
    occurrence: datetime
    since: datetime | None  # the previous occurrence
    updates: tuple[tuple[str, tuple[Update, ...]], ...]  # (AP id, its updates), plan order
    due_before_next: tuple[MilestoneStatus, ...]
    quiet: tuple[Quiet, ...]


@dataclass(frozen=True)
class SteeringSummary:
    meeting: Meeting
    occurrence: datetime
    statuses: tuple[APStatus, ...]


@dataclass(frozen=True)
class DeadlineNotice:
    deadline: ReportDeadline
    days_left: int


Digest = QuarterDigest | MilestoneNotice | TeamSummary | SteeringSummary | DeadlineNotice


def quarter_digest(plan: Plan, quarter: Quarter, updates: list[Update],
                   marks: list[MilestoneMark], tz: ZoneInfo, today: date) -> QuarterDigest:
    view = period_view(plan, quarter_period(quarter), marks, tz, today)
    quarter_days = (today - (quarter - 1).first_day).days
    quiet = quiet_work_packages(plan, updates, today, weeks=None)
    quiet = [q for q in quiet if q.days_quiet is None or q.days_quiet >= quarter_days
             or q.days_quiet >= 91]
    return QuarterDigest(view, tuple(q for q in quiet if q.wp in view.running))


def team_summary(plan: Plan, meeting: Meeting, occurrence: datetime, updates: list[Update],
                 marks: list[MilestoneMark], tz: ZoneInfo) -> TeamSummary:
    since = previous_occurrence(plan, meeting.id, tz, occurrence)
    start = since or occurrence - timedelta(days=7)
    recent = [u for u in updates if not u.withdrawn and start <= u.at < occurrence]
    grouped = tuple((wp.id, tuple(sorted((u for u in recent if u.ap == wp.id),
                                         key=lambda u: u.at)))
                    for wp in plan.work_packages if any(u.ap == wp.id for u in recent))
    try:
        after = occurrences(meeting, tz, occurrence + timedelta(seconds=1),
                            occurrence + timedelta(days=400))
        horizon = after[0].date() if after else occurrence.date() + timedelta(days=7)
    except OverflowError:  # a meeting at the end of the year 9999
        horizon = date.max
    today = occurrence.astimezone(tz).date()
    reached = reached_milestones(marks)
    due = tuple(milestone_status(m, reached, today)
                for m in sorted(plan.milestones, key=lambda m: m.due)
                if m.id not in reached and m.due <= horizon)
    quiet = tuple(quiet_work_packages(plan, updates, today))
    return TeamSummary(meeting, occurrence, since, grouped, due, quiet)


def digest_for(plan: Plan, post: Post, updates: list[Update], marks: list[MilestoneMark],
               tz: ZoneInfo, now: datetime) -> Digest:
    """The content of `post` as of `now`."""
    today = now.astimezone(tz).date()
    if post.kind == "quarterly":
        return quarter_digest(plan, Quarter.parse(post.subject), updates, marks, tz, today)
    if post.kind in ("milestone", "overdue"):
        milestone = plan.milestone(post.subject)
        if milestone is None:
            raise ValueError(f"unknown milestone {post.subject}")
        status = milestone_status(milestone, reached_milestones(marks), today)
        if post.kind == "milestone":
            return MilestoneNotice(status, post.number, 0, 0)
        return MilestoneNotice(status, 0, post.number, plan.programme.overdue_max)
    if post.kind == "deadline":
        deadline = next((d for d in report_deadlines(plan) if d.id == post.subject), None)
        if deadline is None:
            raise ValueError(f"unknown reporting deadline {post.subject}")
        return DeadlineNotice(deadline, (deadline.due - today).days)
    meeting = next(m for m in plan.meetings if m.id == post.subject)
    occurrence = post.occurrence or post.useful_until
    if meeting.kind == "team":
        return team_summary(plan, meeting, occurrence, updates, marks, tz)
    return SteeringSummary(meeting, occurrence,
                           tuple(plan_overview(plan, updates, marks, today)))
