"""`python -m bot schedule` and `python -m bot preview`: automatic posts, shown not sent."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.messages import Context
from bot.posts import compose, schedule_listing, upcoming_posts
from bot.render.format import to_plain
from workflows.meetings import occurrences
from workflows.posts import Post, deadline_posts, meeting_posts, milestone_posts, quarterly_posts
from workflows.progress import reached_milestones
from workflows.quarters import Quarter


class UsageError(Exception):
    """A command-line argument apbot cannot use; the message says why."""


def parse_moment(text: str, tz: ZoneInfo, default_time: time = time(0)) -> datetime:
    """ "2026-12-01", "2026-12-01T09:00" or "01.12.2026" in local time."""
    cleaned = text.strip()
    if m := re.fullmatch(r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T](\d{1,2}):(\d{2}))?", cleaned):
        d, mo, y, hh, mm = m.groups()
        cleaned = f"{int(y):04d}-{int(mo):02d}-{int(d):02d}" + (
            f"T{int(hh):02d}:{mm}" if hh else "")
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise UsageError(f"„{text}“ ist kein Datum (z. B. 2026-12-01 oder 01.12.2026).") from None
    if len(cleaned) <= 10:
        moment = datetime.combine(moment.date(), default_time)
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def schedule_text(ctx: Context, start: datetime, days: int) -> str:
    try:
        end = start + timedelta(days=days)
    except OverflowError:
        raise UsageError(f"{days} Tage ab {start:%d.%m.%Y} reichen über das Jahr 9999 hinaus; "
                         "bitte weniger Tage angeben.") from None
    head = f"Geplante Beiträge vom {start:%d.%m.%Y %H:%M} bis {end:%d.%m.%Y %H:%M}:"
    return to_plain(f"{head}\n{schedule_listing(upcoming_posts(ctx, start, end))}")


def _pick(posts: list[Post], kind: str, subject: str | None, moment: datetime) -> Post:
    candidates = [p for p in posts if subject is None or p.subject.lower() == subject.lower()]
    if not candidates:
        raise UsageError(f"Dazu plane ich keinen Beitrag der Art „{kind}“ ({subject}).")
    after = [p for p in candidates if p.at >= moment]
    return after[0] if after else candidates[-1]


def preview_text(ctx: Context, kind: str, subject: str | None, moment: datetime) -> str:
    """The post of `kind` due at or after `moment`, exactly as it would be sent then."""
    plan, tz = ctx.plan, ctx.settings.timezone
    if kind == "quarterly":
        quarter = Quarter.parse(subject) if subject else Quarter.of(moment.date())
        post = _pick(quarterly_posts(plan, tz), kind, str(quarter), moment)
    elif kind == "milestone":
        if subject is None:
            raise UsageError("Welcher Meilenstein? Zum Beispiel: preview milestone M3.3")
        reached = reached_milestones(ctx.store.marks())
        if subject.upper() in reached:
            raise UsageError(f"{subject.upper()} ist schon erreicht – dazu kommt keine Erinnerung.")
        posts = sorted((p for p in milestone_posts(plan, tz, reached)
                        if p.subject == subject.upper()), key=lambda p: p.at)
        post = _pick(posts, kind, subject.upper(), moment)
    elif kind == "meeting":
        meetings = [m for m in plan.meetings if subject is None or m.id == subject]
        if not meetings:
            ids = ", ".join(m.id for m in plan.meetings)
            raise UsageError(f"Eine Sitzung „{subject}“ gibt es im Plan nicht (da sind: {ids}).")
        meeting = meetings[0]
        try:
            upcoming = occurrences(meeting, tz, moment, moment + timedelta(days=400))
            start = upcoming[0] - meeting.summary_before if upcoming else None
        except OverflowError:  # the end of the calendar, or an absurd lead time
            start = None
        if start is None:
            raise UsageError(f"Nach {moment:%d.%m.%Y} hat „{meeting.title}“ keinen Termin mehr.")
        post = _pick(meeting_posts(plan, tz, start - timedelta(minutes=1), start),
                     kind, meeting.id, start - timedelta(minutes=1))
    elif kind == "deadline":
        posts = [p for p in deadline_posts(plan, tz) if subject is None
                 or p.subject.lower() == subject.lower()]
        post = _pick(posts, kind, subject, moment)
    else:
        raise UsageError("Art des Beitrags: quarterly, milestone, meeting oder deadline.")
    at = max(post.at, moment)
    return to_plain(f"[{post.title} – {at:%d.%m.%Y %H:%M}]\n{compose(ctx, post, False, at)}")
