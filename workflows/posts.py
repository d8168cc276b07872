"""What apbot posts on its own, and when: pure rules over the plan, the progress log and time.

Every post has a key (kind, subject, occurrence). The scheduler only wakes
`due_posts`; the post log in the store decides that no key is ever sent twice,
and each post's `useful_until` decides whether a post missed while apbot was down is
still worth sending.

Times are compared as UTC instants, never as local wall-clock times: two aware
datetimes with the same `tzinfo` compare (and subtract) by wall time and ignore
`fold`, so 02:10 in the second pass of the autumn change's repeated hour would count
as before 02:30 in its first pass. Dates computed from the plan's numbers (reminder
days, overdue intervals, summary lead times) can leave the calendar for absurd values:
such a post is left out, never an OverflowError.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from workflows.meetings import occurrences
from workflows.minutes import (
    MINUTES_USEFUL,
    MeetingWork,
    end_of,
    entries_of,
    post_time_on,
    reminder_day,
    sittings_between,
)
from workflows.plan import Plan
from workflows.progress import MilestoneMark, reached_milestones
from workflows.quarters import quarters_between
from workflows.report import report_deadlines
from workflows.workdays import first_working_day_after, first_working_day_from

KINDS = ("quarterly", "milestone", "overdue", "meeting", "minutes", "task", "deadline")
# A post sent this long after its time is marked "(nachgeholt)".
LATE_AFTER = timedelta(minutes=5)
QUARTERLY_WINDOW = timedelta(days=14)
OVERDUE_WINDOW = timedelta(days=14)
# No overdue notice later than this after the due date, whatever the plan's numbers say.
OVERDUE_HORIZON = timedelta(days=3660)
# The longest look back for missed posts; more is never useful and can leave the calendar.
MAX_LOOK_BACK = timedelta(days=400)
# A day before the end of the calendar, so that it converts to any time zone.
END_OF_TIME = datetime(9999, 12, 30, tzinfo=UTC)


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


def utc(moment: datetime) -> datetime:
    """The same instant in UTC: what every comparison of post times uses."""
    return moment.astimezone(UTC)


def programme_closes(plan: Plan, tz: ZoneInfo) -> datetime:
    """The programme's last moment: no automatic post is due, or useful, after it."""
    return datetime.combine(plan.programme.last_day, time.max, tz)


def quarterly_posts(plan: Plan, tz: ZoneInfo) -> list[Post]:
    """08:00 on the first working day of each quarter of the programme."""
    prog = plan.programme
    posts = []
    for q in quarters_between(prog.start, prog.end):
        try:
            day = first_working_day_from(q.first_day, prog.bundesland)
            at = _at(day, prog.post_time, tz)
            useful_until = at + QUARTERLY_WINDOW
        except OverflowError:  # the last days of the year 9999
            continue
        posts.append(Post(f"quarterly:{q}", "quarterly", str(q), at, useful_until,
                          f"Quartalsüberblick {q}"))
    return posts


def milestone_posts(plan: Plan, tz: ZoneInfo, reached: Iterable[str],
                    until: date | None = None) -> list[Post]:
    """Reminders before each open milestone, then overdue notices after it.

    The overdue series ends after `overdue_max` notices, after `until` (when given: the
    caller needs nothing later), with the programme (nothing is overdue in a programme
    that is over: a milestone due on its last day gets no notice) and at the latest
    OVERDUE_HORIZON after the due date, so a huge `overdue_max` cannot keep this busy
    for ages.
    """
    prog = plan.programme
    done = set(reached)
    posts = []
    for m in plan.milestones:
        if m.id in done:
            continue
        due_start = _at(m.due, time.min, tz)
        for days in prog.reminder_days:
            try:
                at = _at(m.due - timedelta(days=days), prog.post_time, tz)
            except OverflowError:  # before the year 1: no such day
                continue
            posts.append(Post(f"milestone:{m.id}:{days}", "milestone", m.id, at, due_start,
                              f"Erinnerung {m.id} {m.title} (in {days} Tagen fällig)",
                              number=days))
        posts += _overdue_posts(plan, m.id, m.title, m.due, tz, until)
    return posts


def deadline_posts(plan: Plan, tz: ZoneInfo) -> list[Post]:
    """Reminders before each reporting deadline (Zwischennachweis, Verwendungsnachweis), on
    the milestones' reminder days. The Verwendungsnachweis is due after the programme:
    its reminders are the only posts then. No overdue notices: apbot cannot know whether
    the report went out."""
    posts = []
    for deadline in report_deadlines(plan):
        due_start = _at(deadline.due, time.min, tz)
        for days in plan.programme.reminder_days:
            try:
                at = _at(deadline.due - timedelta(days=days), plan.programme.post_time, tz)
            except OverflowError:
                continue
            posts.append(Post(f"deadline:{deadline.id}:{days}", "deadline", deadline.id, at,
                              due_start, f"Erinnerung {deadline.title} (in {days} Tagen fällig)",
                              number=days))
    return posts


def _overdue_posts(plan: Plan, milestone_id: str, title: str, due: date, tz: ZoneInfo,
                   until: date | None) -> list[Post]:
    prog = plan.programme
    posts: list[Post] = []
    try:
        last = due + OVERDUE_HORIZON
    except OverflowError:
        last = date.max
    if until is not None:
        last = min(last, until)
    last = min(last, prog.last_day)
    closes = programme_closes(plan, tz)
    try:
        day = first_working_day_after(due, prog.bundesland)
        for n in range(1, prog.overdue_max + 1):
            if day > last:
                break
            at = _at(day, prog.post_time, tz)
            # A notice missed while apbot was down is not caught up after the programme.
            posts.append(Post(f"overdue:{milestone_id}:{n}", "overdue", milestone_id, at,
                              min(at + OVERDUE_WINDOW, closes, key=utc),
                              f"Überfällig {n}/{prog.overdue_max}: {milestone_id} {title}",
                              number=n))
            day = first_working_day_from(day + timedelta(days=prog.overdue_every_days),
                                         prog.bundesland)
    except OverflowError:  # the series runs past the year 9999: it ends there
        pass
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
    first, last = utc(start), utc(end)
    for meeting in plan.meetings:
        try:
            found = occurrences(meeting, tz, start + meeting.summary_before - slack,
                                end + meeting.summary_before + slack, plan.programme.last_day)
        except OverflowError:  # a lead time that leaves the calendar: no summaries
            continue
        for t in found:
            try:
                # Wall-clock arithmetic on purpose: a summary a day before a 14:00
                # meeting comes at 14:00, also across a change of the clocks.
                at = _avoid_dst_hour((t - meeting.summary_before).astimezone(tz))
            except OverflowError:
                continue
            if not first <= utc(at) <= last:
                continue
            posts.append(Post(f"meeting:{meeting.id}:{t.replace(tzinfo=None).isoformat()}",
                              "meeting", meeting.id, at, t,
                              f"Zusammenfassung {meeting.title} ({t:%d.%m.%Y %H:%M})",
                              occurrence=t))
    return posts


def minutes_posts(plan: Plan, work: MeetingWork, tz: ZoneInfo, start: datetime,
                  end: datetime) -> list[Post]:
    """The minutes of each sitting that ends in start..end: of one started or ended by
    command, or of one in which minutes were taken."""
    first, last = utc(start), utc(end)
    posts = []
    for s in sittings_between(plan, work.sessions, tz, start, end):
        if not first <= utc(s.end) <= last:
            continue
        if s.session is None and not entries_of(work.entries, s):
            continue  # nothing was taken: the meeting was not held in the chat
        local = s.occurrence.astimezone(tz)
        posts.append(Post(f"minutes:{s.meeting.id}:{local.replace(tzinfo=None).isoformat()}",
                          "minutes", s.meeting.id, s.end, s.end + MINUTES_USEFUL,
                          f"Protokoll {s.meeting.title} ({local:%d.%m.%Y %H:%M})",
                          occurrence=s.occurrence))
    return posts


def task_posts(plan: Plan, work: MeetingWork, tz: ZoneInfo, start: datetime,
               end: datetime) -> list[Post]:
    """A reminder on the working day each open action item is due (not before it was
    agreed on), useful until that day's end."""
    first, last = utc(start), utc(end)
    posts = []
    for e in work.entries:
        if not e.open or e.due is None or e.id is None:
            continue
        try:
            at = post_time_on(reminder_day(e.due, plan.programme.bundesland), plan, tz)
            useful_until = end_of(e.due, tz)
        except (OverflowError, ValueError):
            continue
        if utc(at) <= utc(e.at) or not first <= utc(at) <= last:
            continue
        posts.append(Post(f"task:{e.id}:{e.due.isoformat()}", "task", str(e.id), at,
                          useful_until, f"Erinnerung Aufgabe {e.id} ({e.owner or '–'})"))
    return posts


def planned_posts(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, start: datetime,
                  end: datetime, work: MeetingWork | None = None) -> list[Post]:
    """Every post due in start..end (inclusive), in time order; with `work`, also the
    minutes of meetings and the reminders of action items."""
    reached = reached_milestones(marks)
    first, last = utc(start), utc(end)
    try:
        until = end.astimezone(tz).date()
    except OverflowError:
        until = date.max
    posts = [*quarterly_posts(plan, tz), *milestone_posts(plan, tz, reached, until=until),
             *deadline_posts(plan, tz)]
    posts = [p for p in posts if first <= utc(p.at) <= last]
    posts += meeting_posts(plan, tz, start, end)
    if work is not None:
        posts += minutes_posts(plan, work, tz, start, end) + task_posts(plan, work, tz, start, end)
    return sorted(posts, key=lambda p: (utc(p.at), p.key))


@dataclass(frozen=True)
class Decision:
    post: Post
    action: str  # "send" or "skip"
    late: bool  # sent after LATE_AFTER: marked "(nachgeholt)"


def due_posts(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, now: datetime,
              logged: Collection[str] | Mapping[str, datetime], since: datetime,
              up_since: datetime, work: MeetingWork | None = None) -> list[Decision]:
    """What to do now about every post due between `since` and `now` not yet in the log.

    `logged` maps each logged key to the time its post was planned for: a post whose time
    has moved since (the team moved its milestone) is due again at its new time. A plain
    set of keys counts every logged key as done.

    A post is sent while it is still useful (see Post.useful_until); it is marked
    late when its time passed while apbot was down (before `up_since`) or lies more
    than a few minutes back. Older ones are skipped, so a long outage never ends in
    a burst of stale reminders.
    """
    decisions = []
    now_utc = utc(now)
    for post in planned_posts(plan, marks, tz, since, now, work):
        if post.key in logged and (not isinstance(logged, Mapping)
                                   or utc(logged[post.key]) == utc(post.at)):
            continue
        if now_utc <= utc(post.useful_until):
            at = utc(post.at)
            late = at < utc(up_since) or now_utc - at > LATE_AFTER
            decisions.append(Decision(post, "send", late))
        else:
            decisions.append(Decision(post, "skip", True))
    return decisions


def first_look_back(plan: Plan) -> timedelta:
    """How far back a missed post may still be useful: the longest catch-up window.

    The first start looks back this far; a longer gap since the last check is a jump
    of the clock or a long outage (see `PostRunner`). At most MAX_LOOK_BACK.
    """
    days = min(max(plan.programme.reminder_days, default=0), MAX_LOOK_BACK.days)
    return min(MAX_LOOK_BACK,
               max(QUARTERLY_WINDOW, OVERDUE_WINDOW, timedelta(days=days),
                   max((m.summary_before for m in plan.meetings), default=timedelta(0))))


def next_post_time(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo,
                   now: datetime, work: MeetingWork | None = None) -> datetime | None:
    """When the next post after `now` is due (to wake the scheduler then)."""
    for horizon in (timedelta(days=8), timedelta(days=400)):
        try:
            end = now + horizon
        except OverflowError:
            end = END_OF_TIME
        upcoming = [p for p in planned_posts(plan, marks, tz, now, end, work)
                    if utc(p.at) > utc(now)]
        if upcoming:
            return upcoming[0].at
    return None


def previous_occurrence(plan: Plan, meeting_id: str, tz: ZoneInfo,
                        before: datetime) -> datetime | None:
    meeting = next((m for m in plan.meetings if m.id == meeting_id), None)
    if meeting is None:
        return None
    try:
        start = before - timedelta(days=400)
    except OverflowError:
        start = datetime.min.replace(tzinfo=UTC)
    past = occurrences(meeting, tz, start, before - timedelta(seconds=1))
    return past[-1] if past else None
