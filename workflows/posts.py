"""What apbot posts on its own, and when: pure rules over the plan, the progress log and time.

Every post has a key (kind, subject, occurrence). The scheduler only wakes
`due_posts`; the post log in the store decides that no key is ever sent twice,
and `CATCH_UP` decides whether a post missed while apbot was down is still worth sending.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.meetings import occurrences
from workflows.plan import Plan
from workflows.progress import MilestoneMark, reached_milestones
from workflows.quarters import quarters_between
from workflows.workdays import first_working_day_after, first_working_day_from

KINDS = ("quarterly", "milestone", "overdue", "meeting")
# A post sent this long after its time is marked "(nachgeholt)".
LATE_AFTER = timedelta(minutes=5)
QUARTERLY_WINDOW = timedelta(days=14)
OVERDUE_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class Post:
    """One automatic post: what, about what, when, and until when it is still useful."""

    key: str
    kind: str
    subject: str  # quarter ("Q1 2027"), milestone id, or meeting id
    at: datetime  # aware
    useful_until: datetime  # a post missed past this moment is skipped, not sent late
    title: str  # German, for listings
    occurrence: datetime | None = None  # the meeting's start, for summaries
    number: int = 0  # days before (milestone) or notice number (overdue)


def _at(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tz)


def quarterly_posts(plan: Plan, tz: ZoneInfo) -> list[Post]:
    """08:00 on the first working day of each quarter of the programme."""
    prog = plan.programme
    posts = []
    for q in quarters_between(prog.start, prog.end):
        day = first_working_day_from(q.first_day, prog.bundesland)
        at = _at(day, prog.post_time, tz)
        posts.append(Post(f"quarterly:{q}", "quarterly", str(q), at, at + QUARTERLY_WINDOW,
                          f"Quartalsüberblick {q}"))
    return posts


def milestone_posts(plan: Plan, tz: ZoneInfo, reached: Iterable[str]) -> list[Post]:
    """Reminders before each open milestone, then overdue notices after it."""
    prog = plan.programme
    done = set(reached)
    posts = []
    for m in plan.milestones:
        if m.id in done:
            continue
        due_start = _at(m.due, time.min, tz)
        for days in prog.reminder_days:
            at = _at(m.due - timedelta(days=days), prog.post_time, tz)
            posts.append(Post(f"milestone:{m.id}:{days}", "milestone", m.id, at, due_start,
                              f"Erinnerung {m.id} {m.title} (in {days} Tagen fällig)",
                              number=days))
        day = first_working_day_after(m.due, prog.bundesland)
        for n in range(1, prog.overdue_max + 1):
            at = _at(day, prog.post_time, tz)
            posts.append(Post(f"overdue:{m.id}:{n}", "overdue", m.id, at, at + OVERDUE_WINDOW,
                              f"Überfällig {n}/{prog.overdue_max}: {m.id} {m.title}",
                              number=n))
            day = first_working_day_from(day + timedelta(days=prog.overdue_every_days),
                                         prog.bundesland)
    return posts


def _avoid_dst_hour(at: datetime) -> datetime:
    """Move a post out of 02:00–03:00 local time, which happens twice in autumn: to 01:55,
    so it still comes before the meeting it summarises."""
    if time(2) <= at.time() < time(3):
        return at.replace(hour=1, minute=55, second=0, microsecond=0, fold=0)
    return at


def meeting_posts(plan: Plan, tz: ZoneInfo, start: datetime, end: datetime) -> list[Post]:
    """A summary before each meeting whose summary time (after any move) lies in start..end."""
    posts = []
    slack = timedelta(hours=2)  # a moved post may leave the window its meeting gives
    for meeting in plan.meetings:
        for t in occurrences(meeting, tz, start + meeting.summary_before - slack,
                             end + meeting.summary_before + slack, plan.programme.last_day):
            at = _avoid_dst_hour((t - meeting.summary_before).astimezone(tz))
            if not start <= at <= end:
                continue
            posts.append(Post(f"meeting:{meeting.id}:{t.replace(tzinfo=None).isoformat()}",
                              "meeting", meeting.id, at, t,
                              f"Zusammenfassung {meeting.title} ({t:%d.%m.%Y %H:%M})",
                              occurrence=t))
    return posts


def planned_posts(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, start: datetime,
                  end: datetime) -> list[Post]:
    """Every post due in start..end (inclusive), in time order."""
    reached = reached_milestones(marks)
    posts = [*quarterly_posts(plan, tz), *milestone_posts(plan, tz, reached)]
    posts = [p for p in posts if start <= p.at <= end]
    posts += meeting_posts(plan, tz, start, end)
    return sorted(posts, key=lambda p: (p.at, p.key))


@dataclass(frozen=True)
class Decision:
    post: Post
    action: str  # "send" or "skip"
    late: bool  # sent after LATE_AFTER: marked "(nachgeholt)"


def due_posts(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, now: datetime,
              logged: set[str], since: datetime, up_since: datetime) -> list[Decision]:
    """What to do now about every post due between `since` and `now` not yet in the log.

    A post is sent while it is still useful (see Post.useful_until); it is marked
    late when its time passed while apbot was down (before `up_since`) or lies more
    than a few minutes back. Older ones are skipped, so a long outage never ends in
    a burst of stale reminders.
    """
    decisions = []
    for post in planned_posts(plan, marks, tz, since, now):
        if post.key in logged:
            continue
        if now <= post.useful_until:
            late = post.at < up_since or now - post.at > LATE_AFTER
            decisions.append(Decision(post, "send", late))
        else:
            decisions.append(Decision(post, "skip", True))
    return decisions


def first_look_back(plan: Plan) -> timedelta:
    """On the very first start, how far back missed posts may still be useful."""
    return max(QUARTERLY_WINDOW, OVERDUE_WINDOW,
               timedelta(days=max(plan.programme.reminder_days, default=0)),
               max((m.summary_before for m in plan.meetings), default=timedelta(0)))


def next_post_time(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo,
                   now: datetime) -> datetime | None:
    """When the next post after `now` is due (to wake the scheduler then)."""
    for horizon in (timedelta(days=8), timedelta(days=400)):
        upcoming = [p for p in planned_posts(plan, marks, tz, now, now + horizon) if p.at > now]
        if upcoming:
            return upcoming[0].at
    return None


def previous_occurrence(plan: Plan, meeting_id: str, tz: ZoneInfo,
                        before: datetime) -> datetime | None:
    meeting = next((m for m in plan.meetings if m.id == meeting_id), None)
    if meeting is None:
        return None
    past = occurrences(meeting, tz, before - timedelta(days=400), before - timedelta(seconds=1))
    return past[-1] if past else None
