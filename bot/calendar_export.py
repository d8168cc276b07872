"""The plan as an iCalendar file (RFC 5545): milestones all day, meetings as recurring events."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import YEARLY, rrule, rrulestr, weekday
from icalendar import (
    Calendar,
    Event,
    Timezone,
    TimezoneDaylight,
    TimezoneStandard,
    vDDDTypes,
    vRecur,
)

from bot.format import short_day
from workflows.plan import MEETING_KINDS, Meeting, Milestone, Plan
from workflows.progress import MilestoneMark, reached_milestones

UID_DOMAIN = "bildungskommunen"
PRODID = "-//apbot//Arbeits- und Zeitplan Bildungskommunen//DE"
ASSUMED = "Termin im Plan angenommen, vom Team noch nicht bestätigt."
DAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Exports get an ever higher SEQUENCE, so a calendar that imports the file again
# takes its events as a newer version of the same UIDs and updates them.
SEQUENCE_EPOCH = datetime(2025, 1, 1, tzinfo=UTC)


def milestone_uid(m: Milestone) -> str:
    return f"apbot-milestone-{m.id}@{UID_DOMAIN}"


def meeting_uid(m: Meeting) -> str:
    return f"apbot-meeting-{m.id}@{UID_DOMAIN}"


# -- VTIMEZONE -------------------------------------------------------------------

Transition = tuple[datetime, timedelta, timedelta, bool, str]  # onset, from, to, dst, name


def _transitions(tz: ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Offset changes of `tz`, each with its onset in local wall-clock time before it."""
    found = []
    day = datetime(first_year, 1, 1, 12, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, 12, tzinfo=UTC)
    while day < end:
        nxt = day + timedelta(days=1)
        before, after = day.astimezone(tz), nxt.astimezone(tz)
        if before.utcoffset() != after.utcoffset():
            lo, hi = day, nxt  # the offset changes in (lo, hi]: narrow it to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                if mid.astimezone(tz).utcoffset() == before.utcoffset():
                    lo = mid
                else:
                    hi = mid
            old, new = before.utcoffset(), hi.astimezone(tz)
            assert old is not None and new.utcoffset() is not None
            found.append(((hi + old).replace(tzinfo=None, second=0, microsecond=0), old,
                          new.utcoffset() or timedelta(), bool(new.dst()), new.tzname() or ""))
        day = nxt
    return found


def _byday(onsets: list[datetime]) -> str | None:
    """ "-1SU" or "2SU" when every onset is that weekday of its month, else None."""
    first = onsets[0]
    if any(o.weekday() != first.weekday() or o.month != first.month or o.time() != first.time()
           for o in onsets):
        return None
    weeks: set[int] | None = None
    for o in onsets:
        last = o.day + 7 > calendar.monthrange(o.year, o.month)[1]
        options = {(o.day - 1) // 7 + 1} | ({-1} if last else set())
        weeks = options if weeks is None else weeks & options
    if not weeks:
        return None
    week = -1 if -1 in weeks else weeks.pop()
    return f"{week}{DAY_NAMES[first.weekday()]}"


def _yearly_timezone(tz: ZoneInfo, first_year: int, last_year: int) -> Timezone | None:
    """A VTIMEZONE with one STANDARD and one DAYLIGHT yearly rule, or None if `tz` has none."""
    found = _transitions(tz, first_year, last_year)
    vtz = Timezone()
    vtz.add("TZID", tz.key)
    if not found:  # no daylight saving time: one fixed offset
        probe = datetime(first_year, 1, 1, tzinfo=tz)
        standard = TimezoneStandard()
        standard.add("DTSTART", datetime.combine(date(first_year, 1, 1), time.min))
        standard.add("TZOFFSETFROM", probe.utcoffset())
        standard.add("TZOFFSETTO", probe.utcoffset())
        standard.add("TZNAME", probe.tzname())
        vtz.add_component(standard)
        return vtz
    groups: dict[tuple[timedelta, timedelta, bool, str], list[datetime]] = {}
    for onset, old, new, dst, name in found:
        groups.setdefault((old, new, dst, name), []).append(onset)
    if sorted(dst for _, _, dst, _ in groups) != [False, True]:
        return None
    for (old, new, dst, name), onsets in groups.items():
        byday = _byday(onsets)
        if byday is None:
            return None
        rule = vRecur({"FREQ": "YEARLY", "BYMONTH": onsets[0].month, "BYDAY": byday})
        expected = rrule(YEARLY, dtstart=onsets[0], count=last_year - first_year + 1,
                         bymonth=onsets[0].month,
                         byweekday=weekday(onsets[0].weekday(), int(byday[:-2])))
        if list(expected) != onsets:
            return None  # not every year, or the rule changed within the years
        part = TimezoneDaylight() if dst else TimezoneStandard()
        part.add("DTSTART", onsets[0])
        part.add("TZOFFSETFROM", old)
        part.add("TZOFFSETTO", new)
        part.add("TZNAME", name)
        part.add("RRULE", rule)
        vtz.add_component(part)
    return vtz


def vtimezone(tz: ZoneInfo, first_year: int, last_year: int) -> Timezone:
    """The VTIMEZONE for `tz`, as yearly rules where possible.

    Outlook ignores the RDATE lists that icalendar's `Timezone.from_tzinfo` writes
    and then shifts summer events by an hour; yearly RRULEs (as Outlook, Google and
    Thunderbird write them) import everywhere. Zones without one steady rule over
    the years fall back to icalendar's RDATE form.
    """
    return (_yearly_timezone(tz, first_year, last_year) or
            Timezone.from_tzinfo(tz, tz.key, date(first_year, 1, 1), date(last_year + 1, 1, 1)))


# -- events ----------------------------------------------------------------------


def _milestone_event(plan: Plan, m: Milestone, reached_on: date | None,
                     stamp: datetime, sequence: int) -> Event:
    wp = plan.work_package(m.ap)
    ap = wp.label if wp else m.ap
    summary = f"{m.id} {m.title} ({ap})"
    if reached_on is not None:
        summary = f"✓ {summary} – erreicht am {short_day(reached_on)}"
    due = f"Fällig am {short_day(m.due)}" + (f" (Ende {m.due_quarter})" if m.due_quarter else "")
    lines = [f"Meilenstein von {ap}" + (f" „{wp.title}“" if wp else "") + ".", due + "."]
    lines.append(f"Erreicht am {short_day(reached_on)}." if reached_on else "Noch nicht erreicht.")
    if m.assumed:
        lines.append(ASSUMED)
    event = Event.new(uid=milestone_uid(m), stamp=stamp, summary=summary,
                      description="\n".join(lines), start=m.due, end=m.due + timedelta(days=1),
                      categories=["Meilenstein"], sequence=sequence)
    event.add("TRANSP", "TRANSPARENT")  # an all-day reminder, not a busy day
    return event


def _wall(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A plan's date or time as the naive local wall-clock time dateutil reads it as."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.min)
    return value if value.tzinfo is None else value.astimezone(tz).replace(tzinfo=None)


def _recurrence(event: Event, m: Meeting, tz: ZoneInfo, last_day: date) -> None:
    """Add the meeting's RRULE (and any EXDATE/RDATE lines) as RFC 5545 wants them.

    Like the bot itself, a meeting ends with the programme (`last_day`).
    """
    end = datetime.combine(last_day, time(23, 59, 59))
    for line in m.rrule.strip().splitlines():
        name, sep, value = line.strip().partition(":")
        if not sep:
            name, value = "RRULE", line.strip()
        name, value = name.strip().upper(), value.strip()
        if name == "RRULE":
            rule = vRecur.from_ical(value)
            if "COUNT" in rule:  # COUNT and UNTIL exclude each other
                if list(rrulestr(value, dtstart=m.dtstart))[-1] > end:
                    del rule["COUNT"]
                    rule["UNTIL"] = [end]
            else:
                rule["UNTIL"] = [min([*(_wall(u, tz) for u in rule.get("UNTIL", [])), end])]
            if "UNTIL" in rule:
                # With a TZID on DTSTART, UNTIL must be in UTC (RFC 5545 3.3.10).
                rule["UNTIL"] = [_wall(u, tz).replace(tzinfo=tz).astimezone(UTC)
                                 for u in rule["UNTIL"]]
            event.add("RRULE", rule)
        elif name in ("EXDATE", "RDATE"):
            moments = [_wall(vDDDTypes.from_ical(v.strip()), tz)  # type: ignore[no-untyped-call]
                       for v in value.split(",")]
            if name == "RDATE":
                moments = [t for t in moments if t <= end]
            if moments:
                event.add(name, [t.replace(tzinfo=tz) for t in moments])


def _meeting_event(m: Meeting, tz: ZoneInfo, last_day: date, stamp: datetime,
                   sequence: int) -> Event:
    start = m.dtstart.replace(tzinfo=tz)
    lines = [f"{MEETING_KINDS.get(m.kind, m.kind)} laut Arbeits- und Zeitplan, "
             f"bis zum Programmende am {short_day(last_day)}."]
    if m.assumed:
        lines.append(ASSUMED)
    event = Event.new(uid=meeting_uid(m), stamp=stamp, summary=m.title,
                      description="\n".join(lines), start=start, categories=["Sitzung"],
                      sequence=sequence)
    if m.duration:
        event.add("DTEND", start + m.duration)
    _recurrence(event, m, tz, last_day)
    return event


def calendar_ics(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo,
                 now: datetime) -> bytes:
    """Every milestone and meeting of the plan as one .ics file."""
    stamp = now.astimezone(UTC).replace(microsecond=0)
    sequence = max(0, int((stamp - SEQUENCE_EPOCH).total_seconds()) // 60)
    reached = reached_milestones(marks)
    cal = Calendar.new(prodid=PRODID, calscale="GREGORIAN", method="PUBLISH",
                       name=plan.programme.name, uid=f"apbot-calendar@{UID_DOMAIN}")
    cal.add("X-WR-TIMEZONE", tz.key)
    years = [plan.programme.first_day.year, *(m.dtstart.year for m in plan.meetings)]
    # From the year before the first event, so every event has a rule in force.
    cal.add_component(vtimezone(tz, min(years) - 1, plan.programme.last_day.year + 1))
    for ms in sorted(plan.milestones, key=lambda m: (m.due, m.id)):
        cal.add_component(_milestone_event(plan, ms, reached.get(ms.id), stamp, sequence))
    for meeting in plan.meetings:
        cal.add_component(_meeting_event(meeting, tz, plan.programme.last_day, stamp,
                                         sequence))
    return bytes(cal.to_ical())
