"""Schedule commands: /quartal, /meilensteine, /naechste, /termine, /ueberfaellig."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from bot.messages import Command, Context, Incoming, local_today
from bot.render.format import day, esc, short_day, until
from bot.render.views import milestone_line, programme_ended_text
from workflows.agenda import (
    Event,
    MeetingTime,
    PeriodView,
    meetings_between,
    milestone_groups,
    next_events,
    period_view,
    quiet_work_packages,
)
from workflows.periods import Period, parse_quarter_arg, quarter_period, read_period
from workflows.plan import Meeting, WorkPackage
from workflows.quarters import YEARS, Quarter, YearOutOfRange
from workflows.queries import (
    MilestoneStatus,
    find_meetings,
    find_work_package,
    norm,
    programme_over,
)

MEETINGS_LISTED = 6  # more occurrences of one meeting are summed up in one line
TERMINE_WEEKS = 8


def meeting_time(m: MeetingTime) -> str:
    return f"{day(m.start.date())} {m.start:%H:%M}"


def meeting_lines(meetings: tuple[MeetingTime, ...] | list[MeetingTime]) -> list[str]:
    by_title: dict[str, list[MeetingTime]] = defaultdict(list)
    for m in meetings:
        by_title[m.title].append(m)
    lines = []
    for title, times in by_title.items():
        if len(times) > MEETINGS_LISTED:
            lines.append(f"• {esc(title)} – {len(times)} Termine, der erste "
                         f"{meeting_time(times[0])}, der letzte {meeting_time(times[-1])}")
        else:
            lines += [f"• {meeting_time(t)} {esc(title)}" for t in times]
    return lines


def ap_list(wps: Sequence[WorkPackage]) -> str:
    return ", ".join(wp.label for wp in wps)


def period_span(p: Period) -> str:
    """ "31.12.2026" for a day, "01.10.2026 – 31.12.2026" for longer periods."""
    return short_day(p.start) if p.start == p.end else f"{short_day(p.start)} – {short_day(p.end)}"


def ended(programme_end: date, today: date) -> str:
    """ "endete am Mi., 30.06.2027" or, before or on that day, "endet am …"."""
    return f"{'endete' if today > programme_end else 'endet'} am {day(programme_end)}"


def _after_programme(view: PeriodView, programme_end: date, today: date) -> str:
    """A period that begins after the programme's last day: nothing of the plan is in it."""
    p = view.period
    lines = [f"<b>{esc(p.label)}</b> ({period_span(p)})", "",
             f"Das Programm {ended(programme_end, today)} – danach steht nichts mehr im Plan. "
             "Keine Arbeitspakete laufen in dieser Zeit."]
    if view.carried:
        title = ("Bis zum Programmende nicht als erreicht vermerkt" if today > programme_end
                 else "Noch offen aus der Zeit davor")
        lines += ["", f"<b>{title}</b>", *(milestone_line(s) for s in view.carried)]
    last = Quarter.of(programme_end)
    lines += ["", f"Das letzte Quartal des Programms zeigt /quartal {last}, den Bericht über "
                  "die ganze Laufzeit /bericht Programm."]
    return "\n".join(lines)


def period_text(view: PeriodView, programme_end: date | None = None,
                today: date | None = None) -> str:
    """A period's milestones, APs and meetings; with `programme_end`, how it lies to the end."""
    p = view.period
    if programme_end is not None and today is not None and p.start > programme_end:
        return _after_programme(view, programme_end, today)
    lines = [f"<b>{esc(p.label)}</b> ({period_span(p)})"]
    if view.due:
        lines += ["", "<b>Meilensteine fällig</b>", *(milestone_line(s) for s in view.due)]
    else:
        lines += ["", "Keine Meilensteine fällig."]
    if view.carried:
        lines += ["", "<b>Noch offen aus der Zeit davor</b>",
                  *(milestone_line(s) for s in view.carried)]
    lines += ["", "<b>Arbeitspakete</b>"]
    if view.starting:
        lines.append("Beginnen: " + ap_list(view.starting))
    if view.ending:
        lines.append("Enden: " + ap_list(view.ending))
    lines.append(f"Laufen: {ap_list(view.running)}" if view.running
                 else "Keine Arbeitspakete laufen in dieser Zeit.")
    if view.meetings:
        lines += ["", "<b>Termine</b>", *meeting_lines(view.meetings)]
    if programme_end is not None and today is not None and p.contains(programme_end) \
            and p.end > programme_end:
        lines += ["", f"Das Programm {ended(programme_end, today)}; danach steht nichts "
                      "mehr im Plan."]
    return "\n".join(lines)


def year_out_of_range(ctx: Context, year: int) -> str:
    """The answer to a question or command about a year apbot does not work with."""
    prog = ctx.plan.programme
    return (f"Das Jahr {year} liegt außerhalb des Programms ({prog.start} – {prog.end}). "
            f"Ich beantworte Fragen zu den Jahren {YEARS[0]} bis {YEARS[-1]}, zum Beispiel "
            f"/quartal {prog.end} oder „Was ist im {prog.end} fällig?“")


def quarter_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    today = local_today(ctx, now)
    try:
        q = parse_quarter_arg(args, today)
    except YearOutOfRange as err:
        return year_out_of_range(ctx, err.year)
    if q is None:
        return (f"„{esc(args)}“ verstehe ich nicht als Quartal. Beispiele: /quartal, "
                f"/quartal Q1 2027, /quartal 1/2027, /quartal nächstes, /quartal letztes")
    return answer_period(ctx, quarter_period(q), now)


def answer_period(ctx: Context, period: Period, now: datetime) -> str:
    today = local_today(ctx, now)
    view = period_view(ctx.plan, period, ctx.store.marks(), ctx.settings.timezone, today)
    return period_text(view, ctx.plan.programme.last_day, today)


def _group(title: str, items: tuple[MilestoneStatus, ...]) -> list[str]:
    return ["", f"<b>{title}</b>", *(milestone_line(s) for s in items)] if items else []


def ap_milestones_text(ctx: Context, wp: WorkPackage, today: date,
                       period: Period | None = None) -> str:
    """One AP's milestones (due in `period`, if given), by due date."""
    statuses = [s for s in milestone_groups(ctx.plan, ctx.store.marks(), today, wp.id).all
                if period is None or period.contains(s.milestone.due)]
    within = f" {esc(period.label)}" if period else ""
    if not statuses:
        if period is not None and ctx.plan.milestones_of(wp.id):
            return f"{esc(wp.label)} ({esc(wp.title)}) hat{within} keine Meilensteine fällig."
        return f"{esc(wp.label)} ({esc(wp.title)}) hat im Plan keine Meilensteine."
    done = sum(1 for s in statuses if s.reached_on is not None)
    return "\n".join([f"<b>Meilensteine von {esc(wp.label)} · {esc(wp.title)}{within}</b> "
                      f"({done} von {len(statuses)} erreicht)",
                      *(milestone_line(s) for s in statuses)])


def _period_milestones_text(ctx: Context, period: Period, today: date) -> str:
    statuses = [s for s in milestone_groups(ctx.plan, ctx.store.marks(), today).all
                if period.contains(s.milestone.due)]
    if not statuses:
        return f"{esc(period.label)} ist laut Plan kein Meilenstein fällig."
    return "\n".join([f"<b>Meilensteine, fällig {esc(period.label)}</b>",
                      *(milestone_line(s) for s in statuses)])


def _narrowing(ctx: Context, args: str, today: date) -> WorkPackage | Period | str | None:
    """What a command's argument narrows to: an AP, a period, or (str) why it cannot."""
    query = args.strip()
    if not query:
        return None
    lookup = find_work_package(ctx.plan, query)
    if lookup.found is not None:
        return lookup.found
    if lookup.unknown_number is not None:
        return f"AP {lookup.unknown_number} gibt es nicht – der Plan hat {ctx.plan.ap_range}."
    try:
        period = read_period(query, today, "ahead")
    except YearOutOfRange as err:
        return year_out_of_range(ctx, err.year)
    if period is not None:
        return period
    if lookup.candidates:
        example = lookup.candidates[0].number
        return (f"„{esc(query)}“ passt auf mehrere Arbeitspakete: "
                f"{ap_list(lookup.candidates)}. Bitte mit Nummer, z. B. AP{example}.")
    return f"„{esc(query)}“ verstehe ich nicht als Arbeitspaket oder Zeitraum."


def milestones_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    today = local_today(ctx, now)
    narrowed = _narrowing(ctx, args, today)
    if isinstance(narrowed, str):
        return (f"{narrowed} So geht es: /meilensteine (alle), /meilensteine AP3, "
                "/meilensteine 2027")
    if isinstance(narrowed, WorkPackage):
        return ap_milestones_text(ctx, narrowed, today)
    if isinstance(narrowed, Period):
        return _period_milestones_text(ctx, narrowed, today)
    groups = milestone_groups(ctx.plan, ctx.store.marks(), today)
    lines = ["<b>Meilensteine</b>"]
    if programme_over(ctx.plan, today):
        lines += [f"Das Programm endete am {day(ctx.plan.programme.last_day)}: "
                  f"{len(groups.reached)} von {len(ctx.plan.milestones)} Meilensteinen sind "
                  "als erreicht vermerkt."]
        lines += _group("Bis zum Programmende nicht als erreicht vermerkt", groups.overdue)
        lines += _group("Erreicht", groups.reached)
        if groups.overdue:
            m = groups.overdue[0].milestone
            lines += ["", f"Wurde einer doch erreicht, schreiben Sie z. B. „{esc(m.title)} am "
                          f"{short_day(m.due)}“ – dann steht er auch im Abschlussbericht."]
        return "\n".join(lines)
    lines += _group("Überfällig", groups.overdue)
    lines += _group("Fällig in den nächsten 90 Tagen", groups.soon)
    lines += _group("Später", groups.later)
    lines += _group("Erreicht", groups.reached)
    return "\n".join(lines)


def event_line(e: Event, today: date) -> str:
    when = f"{day(e.day)} {e.at:%H:%M}" if e.at else day(e.day)
    return f"• {when} · {esc(e.title)} · {until((e.day - today).days)}"


def next_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    count = 5
    if args.strip():
        if not args.strip().isdecimal():  # not isdigit: "²" is a digit int() cannot read
            return "Wie viele? Zum Beispiel: /naechste 10"
        count = max(1, min(30, int(args)))
    today = local_today(ctx, now)
    events = next_events(ctx.plan, ctx.store.marks(), ctx.settings.timezone, now, count)
    last_day = ctx.plan.programme.last_day
    if programme_over(ctx.plan, today):
        return f"Im Plan steht nichts mehr an. {programme_ended_text(last_day)}"
    if not events:
        return f"Im Plan steht nichts mehr an – das Programm {ended(last_day, today)}."
    lines = [f"<b>Die nächsten {len(events)} Termine</b>", *(event_line(e, today) for e in events)]
    if len(events) < count:  # the list ran out: the programme's end comes next
        lines += ["", f"Danach nichts mehr: Das Programm {ended(last_day, today)}."]
    return "\n".join(lines)


def meetings_in_text(ctx: Context, period: Period, now: datetime,
                     named: list[Meeting] | None = None) -> str:
    """The meetings of the plan (or only those `named`) in a period."""
    tz, today = ctx.settings.timezone, local_today(ctx, now)
    start = datetime.combine(period.start, time.min, tz)
    end = datetime.combine(period.end, time.max, tz)
    titles = {m.title for m in named} if named else None
    meetings = [m for m in meetings_between(ctx.plan, tz, start, end)
                if titles is None or m.title in titles]
    what = " / ".join(sorted(titles)) if titles else "Sitzungen"
    last_day = ctx.plan.programme.last_day
    if not meetings:
        text = f"{esc(period.label)} stehen laut Plan keine {esc(what)} an."
        if period.end > last_day:
            text += f" Das Programm {ended(last_day, today)}."
        return text
    lines = [f"<b>{esc(what)} {esc(period.label)}</b> ({period_span(period)})",
             *meeting_lines(meetings)]
    if period.contains(last_day) and period.end > last_day:
        lines += ["", f"Das Programm {ended(last_day, today)}; danach stehen keine Sitzungen "
                      "mehr im Plan."]
    return "\n".join(lines)


def meetings_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    if args.strip():
        return _meetings_narrowed(ctx, args, now)
    tz, today = ctx.settings.timezone, local_today(ctx, now)
    end = now + timedelta(weeks=TERMINE_WEEKS)
    meetings = meetings_between(ctx.plan, tz, now, end)
    last_day = ctx.plan.programme.last_day
    if programme_over(ctx.plan, today):
        return (f"Das Programm endete am {day(last_day)} – mit ihm enden die Sitzungen im "
                f"Plan.{_last_meetings(ctx, now)}")
    ends_within = end.astimezone(tz).date() > last_day
    if not meetings:
        text = f"In den nächsten {TERMINE_WEEKS} Wochen stehen keine Sitzungen im Plan."
        return text + (f" Das Programm {ended(last_day, today)}." if ends_within else "")
    lines = [f"<b>Sitzungen der nächsten {TERMINE_WEEKS} Wochen</b>",
             *(f"• {meeting_time(m)} {esc(m.title)}" for m in meetings)]
    if ends_within:
        lines += ["", f"Das Programm {ended(last_day, today)}; danach stehen keine Sitzungen "
                      "mehr im Plan."]
    return "\n".join(lines)


def _meetings_narrowed(ctx: Context, args: str, now: datetime) -> str:
    """/termine 2027, /termine Januar, /termine Steuerungsgruppe [2027]."""
    today = local_today(ctx, now)
    named = find_meetings(ctx.plan, norm(args))
    try:
        period = read_period(args, today, "ahead")
    except YearOutOfRange as err:
        return year_out_of_range(ctx, err.year)
    if period is None and named:
        period = Period(today, today + timedelta(weeks=TERMINE_WEEKS),
                        f"in den nächsten {TERMINE_WEEKS} Wochen", "weeks")
    if period is None:
        return (f"„{esc(args.strip())}“ verstehe ich nicht als Zeitraum oder Sitzung. "
                "So geht es: /termine (nächste 8 Wochen), /termine 2027, /termine Januar, "
                "/termine Steuerungsgruppe")
    return meetings_in_text(ctx, period, now, named or None)


def _last_meetings(ctx: Context, now: datetime) -> str:
    """ " Die letzten: …" – each meeting's last occurrence within the programme."""
    tz = ctx.settings.timezone
    end = datetime.combine(ctx.plan.programme.last_day, time.max, tz)
    last: dict[str, MeetingTime] = {}
    for m in meetings_between(ctx.plan, tz, min(now, end) - timedelta(days=400), end):
        last[m.title] = m
    if not last:
        return ""
    return " Die letzten: " + ", ".join(f"{esc(m.title)} am {meeting_time(m)}"
                                        for m in last.values()) + "."


def overdue_text(ctx: Context, now: datetime, wp: WorkPackage | None = None) -> str:
    """Overdue milestones and quiet APs; with `wp`, only that AP's."""
    today = local_today(ctx, now)
    groups = milestone_groups(ctx.plan, ctx.store.marks(), today, wp.id if wp else None)
    quiet = [q for q in quiet_work_packages(ctx.plan, ctx.store.updates(), today)
             if wp is None or q.wp.id == wp.id]
    weeks = ctx.plan.programme.stale_after_weeks
    if programme_over(ctx.plan, today):  # nothing can be late any more; say what was missed
        lines = [f"Das Programm endete am {day(ctx.plan.programme.last_day)} – seitdem wird "
                 "nichts mehr fällig."]
        lines += (["", "<b>Bis zum Programmende nicht als erreicht vermerkt</b>",
                   *(milestone_line(s) for s in groups.overdue)] if groups.overdue
                  else ["Alle Meilensteine sind als erreicht vermerkt. 👍"])
        return "\n".join(lines)
    lines = [f"<b>Überfällig{f' · {esc(wp.label)} {esc(wp.title)}' if wp else ''}</b>"]
    lines += ([milestone_line(s) for s in groups.overdue] if groups.overdue
              else ["Keine Meilensteine überfällig. 👍"])
    if quiet:
        lines += ["", f"<b>Laufende Arbeitspakete ohne Meldung seit über {weeks} Wochen</b>"]
        for q in quiet:
            since = (f"letzte Meldung {short_day(q.last_update.date())}" if q.last_update
                     else "noch nie gemeldet")
            lines.append(f"• {esc(q.wp.label)} {esc(q.wp.title)} – {since}")
    return "\n".join(lines)


def overdue_command(ctx: Context, msg: Incoming, args: str, now: datetime) -> str:
    if not args.strip():
        return overdue_text(ctx, now)
    lookup = find_work_package(ctx.plan, args)
    if lookup.found is not None:
        return overdue_text(ctx, now, lookup.found)
    if lookup.unknown_number is not None:
        return f"AP {lookup.unknown_number} gibt es nicht – der Plan hat {ctx.plan.ap_range}."
    return (f"„{esc(args.strip())}“ verstehe ich nicht als Arbeitspaket. So geht es: "
            "/ueberfaellig (alles) oder /ueberfaellig AP3")


COMMANDS = (
    Command("quartal", quarter_command, "Was im Quartal läuft und fällig ist",
            aliases=("quarter",), usage="[Q1 2027 | nächstes | letztes]"),
    Command("meilensteine", milestones_command, "Alle Meilensteine nach Dringlichkeit",
            aliases=("milestones",), usage="[AP3 | 2027]"),
    Command("naechste", next_command, "Die nächsten Termine und Fristen", aliases=("next",),
            usage="[Anzahl]"),
    Command("termine", meetings_command, "Sitzungen der nächsten 8 Wochen", aliases=("meetings",),
            usage="[2027 | Januar | Steuerungsgruppe]"),
    Command("ueberfaellig", overdue_command, "Überfälliges und stille Arbeitspakete",
            aliases=("overdue",), usage="[AP3]"),
)
