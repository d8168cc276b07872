"""When the plan's meetings take place: RFC 5545 recurrences in local time."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from workflows.plan import Meeting


def occurrences(meeting: Meeting, tz: ZoneInfo, start: datetime, end: datetime,
                until: date | None = None) -> list[datetime]:
    """Aware start times of `meeting` with start <= t <= end (and on or before `until`).

    The rule runs on naive local wall-clock times, so a 10:00 meeting stays at
    10:00 across daylight-saving changes; the zone is attached afterwards.
    """
    rule = rrulestr(meeting.rrule, dtstart=meeting.dtstart)
    local_start = start.astimezone(tz).replace(tzinfo=None)
    local_end = end.astimezone(tz).replace(tzinfo=None)
    if until is not None:  # the programme's end: its meetings end with it
        local_end = min(local_end, datetime.combine(until, time.max))
    return [t.replace(tzinfo=tz) for t in rule.between(local_start, local_end, inc=True)]
