"""The automatic posts in German: quarter overview, milestone reminders, meeting summaries."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import meetings
from bot.access import is_admin, team_chat
from bot.agenda import period_text
from bot.files import period_words
from bot.messages import Command, Context, Incoming, Reply, local_today
from bot.render.format import day, esc, short_day, trim, until
from bot.render.views import milestone_line, plan_line, programme_ended_text
from workflows.digests import (
    DeadlineNotice,
    MilestoneNotice,
    QuarterDigest,
    SteeringSummary,
    TeamSummary,
    digest_for,
)
from workflows.meetings import occurrences
from workflows.plan import Meeting
from workflows.posts import Post, planned_posts, utc

LATE_MARK = " <i>(nachgeholt)</i>"
PREVIEW_DAYS, PREVIEW_COUNT = 30, 15


def quarter_text(d: QuarterDigest) -> str:
    body = period_text(d.view)
    lines = [f"📅 <b>Neues Quartal: {esc(d.view.period.label)}</b>", "", body]
    if d.quiet:
        lines += ["", "<b>Ohne Meldung im letzten Quartal</b>"]
        lines += [f"• {esc(q.wp.label)} {esc(q.wp.title)}" for q in d.quiet]
    return "\n".join(lines)


def notice_text(d: MilestoneNotice) -> str:
    m = d.status.milestone
    name = f"<b>{esc(m.id)} {esc(m.title)}</b> (AP {m.ap[2:]})"
    if d.notice:
        return (f"⚠️ <b>Überfällig</b> ({d.notice}. Erinnerung von {d.of}): {name} war fällig "
                f"am {day(m.due)} – {until(d.status.days_left)}. Wenn er erreicht ist, "
                f"schreiben Sie z. B. „{esc(m.title)} am {short_day(m.due)}“.")
    return (f"⏳ <b>Erinnerung:</b> {name} ist fällig am {day(m.due)} – "
            f"{until(d.status.days_left)}.")


def deadline_text(d: DeadlineNotice) -> str:
    """The reminder of a reporting deadline, with the /bericht that drafts the report."""
    deadline = d.deadline
    words = esc(period_words(deadline.period))
    covers = ("die ganze Laufzeit" if deadline.period.kind == "programme"
              else f"das Jahr {deadline.period.start.year}")
    return (f"🗂 <b>Erinnerung: {esc(deadline.title)}</b> ist fällig am {day(deadline.due)} – "
            f"{until(d.days_left)}. Der Sachbericht dazu ({covers}) als Entwurf aus den "
            f"Meldungen: /bericht {words} (Word) oder /bericht {words} pdf.")


def team_text(d: TeamSummary) -> str:
    when = f"{day(d.occurrence.date())} {d.occurrence:%H:%M}"
    since = f"seit {day(d.since.date())}" if d.since else "der letzten Woche"
    lines = [f"📝 <b>{esc(d.meeting.title)}</b> – {when}", "",
             f"<b>Meldungen {since}</b>"]
    if not d.updates:
        lines.append("Keine neuen Meldungen.")
    for ap, updates in d.updates:
        lines.append(f"<b>AP {ap[2:]}</b>")
        lines += [f"• {esc(u.author.name)}: {esc(trim(' '.join(u.text.split()), 200))}"
                  for u in updates]
    if d.due_before_next:
        lines += ["", "<b>Fällig bis zum nächsten Termin</b>",
                  *(milestone_line(s) for s in d.due_before_next)]
    if d.quiet:
        lines += ["", "<b>Laufende Arbeitspakete ohne Meldung seit Wochen</b>",
                  ", ".join(q.wp.label for q in d.quiet)]
    return "\n".join(lines)


def steering_text(d: SteeringSummary) -> str:
    when = f"{day(d.occurrence.date())} {d.occurrence:%H:%M}"
    lines = [f"📊 <b>{esc(d.meeting.title)}</b> – {when}", "", "<b>Stand aller Arbeitspakete</b>"]
    lines += [plan_line(st) for st in d.statuses]
    return "\n".join(lines)


def compose(ctx: Context, post: Post, late: bool, now: datetime) -> str:
    """The message for `post` as of `now`."""
    tz = ctx.settings.timezone
    if post.kind == "minutes":
        text = meetings.minutes_post(ctx, post.subject, post.occurrence or post.at, now)
    elif post.kind == "task":
        text = meetings.reminder_post(ctx, post.subject, now)
    else:
        d = digest_for(ctx.plan, post, ctx.store.updates(), ctx.store.marks(), tz, now)
        if isinstance(d, QuarterDigest):
            text = quarter_text(d)
        elif isinstance(d, MilestoneNotice):
            text = notice_text(d)
        elif isinstance(d, DeadlineNotice):
            text = deadline_text(d)
        elif isinstance(d, TeamSummary | SteeringSummary):
            text = team_text(d) if isinstance(d, TeamSummary) else steering_text(d)
            # The briefing before a meeting: its agenda and the action items due on top.
            text = meetings.with_block(text, meetings.agenda_block(ctx, d.meeting, d.occurrence,
                                                                   now))
    if late:
        first, _, rest = text.partition("\n")
        text = first + LATE_MARK + ("\n" + rest if rest else "")
    return text


def schedule_listing(posts: list[Post]) -> str:
    if not posts:
        return "In diesem Zeitraum plane ich keine Beiträge."
    return "\n".join(f"• {day(p.at.date())} {p.at:%H:%M} – {esc(p.title)}" for p in posts)


def upcoming_posts(ctx: Context, start: datetime, end: datetime) -> list[Post]:
    return planned_posts(ctx.plan, ctx.store.marks(), ctx.settings.timezone, start, end,
                         ctx.store.meeting_work())


def preview_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    """/vorschau: the next automatic posts (admins only)."""
    if not is_admin(ctx, msg.user_id, msg.via_console):
        return "Die Vorschau der automatischen Beiträge ist nur für Admins."
    posts = upcoming_posts(ctx, now, now + timedelta(days=PREVIEW_DAYS))[:PREVIEW_COUNT]
    head = f"<b>Geplante Beiträge der nächsten {PREVIEW_DAYS} Tage</b>"
    if team_chat(ctx) is None and not msg.via_console:
        head += "\n⚠️ APBOT_TEAM_CHAT_ID ist nicht gesetzt – ohne Team-Chat poste ich nichts."
    last_day = ctx.plan.programme.last_day
    if local_today(ctx, now) > last_day:
        head += (f"\nDas Programm endete am {day(last_day)} – seitdem poste ich von selbst nur "
                 "noch die Erinnerungen an den Verwendungsnachweis, keine Quartalsüberblicke, "
                 "Meilenstein-Erinnerungen oder Zusammenfassungen.")
    return f"{head}\n{schedule_listing(posts)}"


def next_team_meeting(ctx: Context, now: datetime) -> tuple[Meeting, datetime] | None:
    """The next team meeting from now (or the one running right now), within the programme."""
    tz = ctx.settings.timezone
    last_day = ctx.plan.programme.last_day  # the meetings end with the programme
    found = [(t, m) for m in ctx.plan.meetings if m.kind == "team"
             for t in occurrences(m, tz, now - m.duration, now + timedelta(days=400),
                                  last_day)[:1]]
    if not found:
        return None
    t, m = min(found, key=lambda pair: utc(pair[0]))  # instants: the autumn hour repeats
    return m, t


def no_team_meeting_text(ctx: Context, now: datetime) -> str:
    """Why there is no summary: the programme is over, its meetings ended, or there is none."""
    if not any(m.kind == "team" for m in ctx.plan.meetings):
        return "Im Plan steht keine Teambesprechung (kind = \"team\"), die ich zusammenfassen kann."
    last_day = ctx.plan.programme.last_day
    if local_today(ctx, now) > last_day:
        return ("Es steht keine Teamsitzung mehr an. " + programme_ended_text(last_day)
                + " Die Meldungen je Arbeitspaket zeigt /verlauf AP3.")
    return (f"Bis zum Programmende am {day(last_day)} steht keine Teamsitzung mehr im Plan. "
            "Die Meldungen je Arbeitspaket zeigt /verlauf AP3.")


def summary_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    """/zusammenfassung: the team-meeting summary, now."""
    found = next_team_meeting(ctx, now)
    if found is None:
        return no_team_meeting_text(ctx, now)
    meeting, occurrence = found
    post = Post(f"manual:{meeting.id}", "meeting", meeting.id, now, occurrence,
                meeting.title, occurrence=occurrence)
    return compose(ctx, post, False, now)


def agenda_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> list[Reply] | str:
    """/tagesordnung [Sitzung]: the briefing of the next (or running) meeting, agenda on top."""
    target = meetings.agenda_sitting(ctx, args, now)
    if isinstance(target, str):
        return target
    meeting, occurrence = target
    post = Post(f"manual:{meeting.id}", "meeting", meeting.id, now, occurrence, meeting.title,
                occurrence=occurrence)
    buttons = () if msg.via_console else meetings.agenda_buttons(ctx, meeting, occurrence)
    return [Reply(compose(ctx, post, False, now), buttons)]


COMMANDS = (
    Command("tagesordnung", agenda_command, "Tagesordnung der nächsten Sitzung",
            usage="[Sitzung]"),
    Command("zusammenfassung", summary_command, "Zusammenfassung für die nächste Teamsitzung",
            aliases=("summary",)),
    Command("vorschau", preview_command, "Geplante automatische Beiträge (nur Admins)",
            aliases=("schedule",)),
)
