"""The plan as an iCalendar file (RFC 5545): milestones all day, meetings as recurring events."""

from __future__ import annotations

import calendar
import hashlib
import re
from collections.abc import Iterable, Mapping
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
    vDuration,
    vRecur,
)

from bot.render.format import short_day
from workflows.calendar_versions import EventVersion, next_versions
from workflows.plan import MEETING_KINDS, Meeting, Milestone, Plan
from workflows.progress import MilestoneMark, reached_milestones
from workflows.store import Store

UID_DOMAIN = "bildungskommunen"
PRODID = "-//apbot//Arbeits- und Zeitplan Bildungskommunen//DE"
ASSUMED = "Termin im Plan angenommen, vom Team noch nicht bestätigt."
DAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Fields that say which version an event is, not what it says (see calendar_versions).
VERSION_FIELDS = ("DTSTAMP", "SEQUENCE", "LAST-MODIFIED")
# How often a subscribed calendar should fetch the file again.
REFRESH = timedelta(hours=1)


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

# "BiKo hat stattgefunden" claims the past: an open milestone's title says what is
# planned. A perfect participle at the end is cut ("BiKo (geplant)"); some name the act
# ("Leitbild (Beschluss geplant)").
_DONE_CLAUSE = re.compile(r"\s+(?:hat|haben|ist|sind|wurde|wurden)\s+\w+$")
_ACTS = {
    "beschlossen": "Beschluss", "verabschiedet": "Verabschiedung", "abgeschlossen": "Abschluss",
    "veröffentlicht": "Veröffentlichung", "vorgelegt": "Vorlage", "erstellt": "Erstellung",
    "eingereicht": "Einreichung", "durchgeführt": "Durchführung", "gestartet": "Start",
    "fertiggestellt": "Fertigstellung", "freigeschaltet": "Freischaltung",
    "unterzeichnet": "Unterzeichnung", "gegründet": "Gründung", "erreicht": "Ziel",
}
_PARTICIPLE = re.compile(r"^(?:ge|be|er|ver|ent|zer|über|vor|ab|an|auf|aus|ein|fertigge)"
                         r"[a-zäöüß]+(?:t|en)$")


def planned_title(title: str, note: str = "geplant") -> str:
    """ "BiKo hat stattgefunden" → "BiKo (geplant)", "Leitbild beschlossen" → "Leitbild
    (Beschluss geplant)", "Bericht Fachkräfte" → "Bericht Fachkräfte (geplant)"."""
    if (cut := _DONE_CLAUSE.sub("", title)) != title and cut:
        return f"{cut} ({note})"
    head, _, last = title.rpartition(" ")
    if head and last in _ACTS:
        return f"{head} ({_ACTS[last]} {note})"
    if head and _PARTICIPLE.match(last):
        return f"{head} ({note})"
    return f"{title} ({note})"


def _due_text(m: Milestone) -> str:
    return short_day(m.due) + (f" (Ende {m.due_quarter})" if m.due_quarter else "")


def _milestone_event(plan: Plan, m: Milestone, reached_on: date | None, today: date) -> Event:
    """A reached milestone on the day it was reached; an open one on its due day."""
    wp = plan.work_package(m.ap)
    ap = wp.label if wp else m.ap
    lines = [f"Meilenstein von {ap}" + (f" „{wp.title}“" if wp else "") + "."]
    if reached_on is not None:
        summary = f"✓ {m.id} {m.title} – {ap}"
        day = reached_on
        lines += [f"Erreicht am {short_day(reached_on)}.",
                  f"Fällig laut Plan: {_due_text(m)}."]
    else:
        if today > plan.programme.last_day:
            note = "nicht erreicht"
        elif today > m.due:
            note = "überfällig"
        else:
            note = "geplant"
        summary = f"{m.id} {planned_title(m.title, note)} – {ap}"
        day = m.due
        lines += [f"Fällig am {_due_text(m)}.", "Noch nicht als erreicht gemeldet."]
    if m.assumed:
        lines.append(ASSUMED)
    event = Event.new(uid=milestone_uid(m), summary=summary, description="\n".join(lines),
                      start=day, end=day + timedelta(days=1), categories=["Meilenstein"])
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


def _meeting_event(m: Meeting, tz: ZoneInfo, last_day: date) -> Event:
    start = m.dtstart.replace(tzinfo=tz)
    lines = [f"{MEETING_KINDS.get(m.kind, m.kind)} laut Arbeits- und Zeitplan, "
             f"bis zum Programmende am {short_day(last_day)}."]
    if m.assumed:
        lines.append(ASSUMED)
    event = Event.new(uid=meeting_uid(m), summary=m.title, description="\n".join(lines),
                      start=start, categories=["Sitzung"])
    if m.duration:
        event.add("DTEND", start + m.duration)
    if m.place:
        event.add("LOCATION", m.place)
    _recurrence(event, m, tz, last_day)
    return event


def _digest(event: Event) -> str:
    """The event's content as a calendar program sees it, without the version fields."""
    content = event.copy()
    content.subcomponents = list(event.subcomponents)
    for name in VERSION_FIELDS:
        content.pop(name, None)
    return hashlib.sha256(content.to_ical()).hexdigest()


def plan_events(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo,
                today: date) -> list[Event]:
    """Every milestone and meeting of the plan as an event, without SEQUENCE or DTSTAMP."""
    reached = reached_milestones(marks)
    events = [_milestone_event(plan, ms, reached.get(ms.id), today)
              for ms in sorted(plan.milestones, key=lambda m: (m.due, m.id))]
    events += [_meeting_event(meeting, tz, plan.programme.last_day)
               for meeting in plan.meetings]
    for event in events:
        for name in VERSION_FIELDS:
            event.pop(name, None)
    return events


def event_digests(events: Iterable[Event]) -> dict[str, str]:
    """UID → digest of the event's content."""
    return {str(e["UID"]): _digest(e) for e in events}


def calendar_ics(plan: Plan, marks: Iterable[MilestoneMark], tz: ZoneInfo, now: datetime,
                 known: Mapping[str, EventVersion] | None = None,
                 ) -> tuple[bytes, list[EventVersion]]:
    """Every milestone and meeting of the plan as one .ics file, and the event versions
    in it that are new (to be kept, so that the next export counts on from them).

    `known` are the versions of the last export (`Store.event_versions`). The file has no
    METHOD: it is a published calendar, not an iTIP message (RFC 5546), and
    `METHOD:PUBLISH` would need an ORGANIZER, an address the team would then be shown
    as inviting from. Each event's DTSTAMP and LAST-MODIFIED are the time its content
    last changed, so the same plan gives the same bytes.
    """
    known = known or {}
    today = now.astimezone(tz).date()
    events = plan_events(plan, marks, tz, today)
    versions = next_versions(known, event_digests(events),
                             now.astimezone(UTC).replace(microsecond=0))
    cal = Calendar.new(prodid=PRODID, calscale="GREGORIAN", name=plan.programme.name,
                       uid=f"apbot-calendar@{UID_DOMAIN}", refresh_interval=REFRESH)
    cal.add("X-WR-TIMEZONE", tz.key)
    cal.add("X-PUBLISHED-TTL", vDuration(REFRESH))  # Outlook's word for REFRESH-INTERVAL
    years = [plan.programme.first_day.year, *(m.dtstart.year for m in plan.meetings)]
    # From the year before the first event, so every event has a rule in force.
    cal.add_component(vtimezone(tz, min(years) - 1, plan.programme.last_day.year + 1))
    for event in events:
        version = versions[str(event["UID"])]
        event.add("DTSTAMP", version.changed)
        event.add("LAST-MODIFIED", version.changed)
        event.add("SEQUENCE", version.sequence)
        cal.add_component(event)
    new = [v for uid, v in versions.items() if known.get(uid) != v]
    return bytes(cal.to_ical()), new


def calendar_file(plan: Plan, store: Store, tz: ZoneInfo, now: datetime) -> bytes:
    """The plan's current .ics, counting each event's SEQUENCE on from the store's.

    New versions are kept before the file is handed out: a calendar program that saw
    a SEQUENCE must never see the same number with other content. A store opened
    read-only (an export beside the running bot) counts on without keeping them.
    """
    data, new = calendar_ics(plan, store.marks(), tz, now, store.event_versions())
    if new and not store.read_only:
        store.save_event_versions(new, now)
    return data
