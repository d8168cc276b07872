"""Meetings as a workflow: agenda items before, minutes during, action items after.

Pure functions over the plan's meetings, the stored agenda items, minutes entries and
sessions, and a given `now`. Nothing here reads the clock or the store.

A *sitting* is a meeting as it is held: a plan occurrence from its start for its
duration, or what /sitzung_start and /sitzung_ende made of it. Its minutes are posted
when it ends; entries (decisions, action items, infos) belong to the sitting that ran
when they were written.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflows.ids import ChatId, MessageId, UserId
from workflows.meetings import occurrences
from workflows.plan import Meeting, Plan
from workflows.progress import Author, Update
from workflows.workdays import is_working_day

DECISION, TASK, INFO = "beschluss", "aufgabe", "info"
KIND_NAMES = {DECISION: "Beschluss", TASK: "Aufgabe", INFO: "Info"}
# A sitting started by /sitzung_start and never ended closes after this long.
MAX_SITTING = timedelta(hours=8)
# The minutes of a sitting missed while apbot was down are still posted this long after.
MINUTES_USEFUL = timedelta(days=7)
# A date without a year that lies at most this far back is a date in the past, not next year's.
PAST_WITHOUT_YEAR = timedelta(days=60)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


# ---------------------------------------------------------------- the records


@dataclass(frozen=True)
class AgendaItem:
    """A topic (TOP) someone put on a meeting's agenda."""

    meeting: str  # the plan meeting's id
    occurrence: datetime  # aware: the sitting it was put on
    text: str
    author: Author
    at: datetime
    ap: str | None = None
    chat_id: ChatId | None = None
    message_id: MessageId | None = None
    dealt_at: datetime | None = None  # the occurrence at which it was dealt with
    withdrawn: bool = False
    id: int | None = None


@dataclass(frozen=True)
class Entry:
    """A line of minutes: a decision, an action item or an info."""

    kind: str  # DECISION, TASK, INFO
    text: str
    author: Author
    at: datetime
    meeting: str | None = None  # the sitting it was taken in (None: outside any meeting)
    occurrence: datetime | None = None
    ap: str | None = None
    owner: str | None = None  # action items: "@anna", "Anna", or the author's name
    owner_id: UserId | None = None  # known when the author took it on ("ich")
    due: date | None = None
    chat_id: ChatId | None = None
    message_id: MessageId | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    withdrawn: bool = False
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.kind == TASK and self.done_at is None and not self.withdrawn


@dataclass(frozen=True)
class Session:
    """What /sitzung_start and /sitzung_ende said about one sitting."""

    meeting: str
    occurrence: datetime  # a plan occurrence, or the moment of an unplanned start
    started: datetime | None = None
    ended: datetime | None = None
    id: int | None = None


def _iso(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _id(value: Any) -> Any:
    """An id as text; a record written before ids were text (schema 1) holds numbers."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _when(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def agenda_doc(item: AgendaItem) -> dict[str, Any]:
    return {"meeting": item.meeting, "occurrence": item.occurrence.isoformat(),
            "text": item.text, "author_id": item.author.id, "author_name": item.author.name,
            "at": item.at.isoformat(), "ap": item.ap, "chat_id": item.chat_id,
            "message_id": item.message_id, "dealt_at": _iso(item.dealt_at),
            "withdrawn": item.withdrawn}


def agenda_from(doc: Any, doc_id: int) -> AgendaItem:
    return AgendaItem(doc["meeting"], datetime.fromisoformat(doc["occurrence"]), doc["text"],
                      Author(_id(doc["author_id"]), doc["author_name"]),
                      datetime.fromisoformat(doc["at"]), doc.get("ap"), _id(doc.get("chat_id")),
                      _id(doc.get("message_id")), _when(doc.get("dealt_at")),
                      bool(doc.get("withdrawn")), doc_id)


def entry_doc(e: Entry) -> dict[str, Any]:
    return {"kind": e.kind, "text": e.text, "author_id": e.author.id,
            "author_name": e.author.name, "at": e.at.isoformat(), "meeting": e.meeting,
            "occurrence": _iso(e.occurrence), "ap": e.ap, "owner": e.owner,
            "owner_id": e.owner_id, "due": _iso(e.due), "chat_id": e.chat_id,
            "message_id": e.message_id, "done_at": _iso(e.done_at), "done_by": e.done_by,
            "withdrawn": e.withdrawn}


def entry_from(doc: Any, doc_id: int) -> Entry:
    due = doc.get("due")
    return Entry(doc["kind"], doc["text"], Author(_id(doc["author_id"]), doc["author_name"]),
                 datetime.fromisoformat(doc["at"]), doc.get("meeting"),
                 _when(doc.get("occurrence")), doc.get("ap"), doc.get("owner"),
                 _id(doc.get("owner_id")), date.fromisoformat(due) if due else None,
                 _id(doc.get("chat_id")), _id(doc.get("message_id")), _when(doc.get("done_at")),
                 doc.get("done_by"), bool(doc.get("withdrawn")), doc_id)


def session_doc(s: Session) -> dict[str, Any]:
    return {"meeting": s.meeting, "occurrence": s.occurrence.isoformat(),
            "started": _iso(s.started), "ended": _iso(s.ended)}


def session_from(doc: Any, doc_id: int) -> Session:
    return Session(doc["meeting"], datetime.fromisoformat(doc["occurrence"]),
                   _when(doc.get("started")), _when(doc.get("ended")), doc_id)


# ---------------------------------------------------------------- sittings


@dataclass(frozen=True)
class Sitting:
    meeting: Meeting
    occurrence: datetime
    start: datetime
    end: datetime
    session: Session | None = None

    @property
    def key(self) -> tuple[str, datetime]:
        return self.meeting.id, _utc(self.occurrence)


def _sitting(meeting: Meeting, occurrence: datetime, session: Session | None) -> Sitting | None:
    if session is None:
        if meeting.duration <= timedelta(0):
            return None  # no window of its own: only /sitzung_start opens it
        return Sitting(meeting, occurrence, occurrence, occurrence + meeting.duration)
    # Started early, it begins then; started late, it still covers the planned start.
    start = min(session.started, occurrence, key=_utc) if session.started else occurrence
    if session.ended is not None:
        end = session.ended
    elif session.started is not None:
        end = session.started + MAX_SITTING
    else:
        end = occurrence + meeting.duration
    return Sitting(meeting, occurrence, min(start, end, key=_utc), end, session)


def sittings_between(plan: Plan, sessions: Iterable[Session], tz: ZoneInfo, start: datetime,
                     end: datetime) -> list[Sitting]:
    """Every sitting that overlaps start..end, in order of their start."""
    by_key = {(s.meeting, _utc(s.occurrence)): s for s in sessions}
    found: dict[tuple[str, datetime], Sitting] = {}
    longest = max((m.duration for m in plan.meetings), default=timedelta(0))
    for m in plan.meetings:
        try:
            times = occurrences(m, tz, start - max(longest, MAX_SITTING), end,
                                plan.programme.last_day)
        except OverflowError:
            continue
        for t in times:
            s = _sitting(m, t, by_key.get((m.id, _utc(t))))
            if s is not None:
                found[s.key] = s
    meetings = {m.id: m for m in plan.meetings}
    for session in by_key.values():
        meeting = meetings.get(session.meeting)
        if meeting is None:
            continue
        s = _sitting(meeting, session.occurrence, session)
        if s is not None:
            found[s.key] = s
    return sorted((s for s in found.values()
                   if _utc(s.start) <= _utc(end) and _utc(s.end) >= _utc(start)),
                  key=lambda s: (_utc(s.start), s.meeting.id))


def running_sitting(plan: Plan, sessions: Iterable[Session], tz: ZoneInfo,
                    now: datetime) -> Sitting | None:
    """The sitting under way at `now`; a started one before one running by the clock."""
    running = [s for s in sittings_between(plan, list(sessions), tz, now, now)
               if _utc(s.start) <= _utc(now) < _utc(s.end)]
    if not running:
        return None
    return max(running, key=lambda s: (s.session is not None and s.session.started is not None,
                                       _utc(s.start)))


def next_occurrence(plan: Plan, tz: ZoneInfo, now: datetime,
                    meeting: Meeting | None = None) -> tuple[Meeting, datetime] | None:
    """The next meeting starting after `now`: of `meeting`, else the team's next one.

    "The team's next meeting" is the next occurrence of any meeting of kind "team" (the
    Jour fixe in the default plan), or of any meeting when the plan has no team meeting.
    """
    if meeting is not None:
        candidates: list[Meeting] = [meeting]
    else:
        candidates = [m for m in plan.meetings if m.kind == "team"] or list(plan.meetings)
    found = []
    for m in candidates:
        try:
            times = occurrences(m, tz, now + timedelta(seconds=1), now + timedelta(days=400),
                                plan.programme.last_day)
        except OverflowError:
            continue
        if times:
            found.append((times[0], m))
    if not found:
        return None
    t, m = min(found, key=lambda pair: _utc(pair[0]))
    return m, t


def following_occurrence(plan: Plan, tz: ZoneInfo, meeting: Meeting,
                         occurrence: datetime) -> datetime | None:
    """The next occurrence of `meeting` after `occurrence`."""
    found = next_occurrence(plan, tz, occurrence, meeting)
    return found[1] if found else None


def agenda_target(plan: Plan, sessions: Iterable[Session], tz: ZoneInfo, now: datetime,
                  meeting: Meeting | None = None) -> tuple[Meeting, datetime] | None:
    """Where a new agenda item goes: the sitting now running (of `meeting`, if named),
    else the next meeting."""
    running = running_sitting(plan, sessions, tz, now)
    if running is not None and (meeting is None or running.meeting.id == meeting.id):
        return running.meeting, running.occurrence
    return next_occurrence(plan, tz, now, meeting)


# ---------------------------------------------------------------- agenda and carry-over


@dataclass(frozen=True)
class AgendaLine:
    number: int  # TOP 1, 2, … in this meeting's agenda
    item: AgendaItem
    carried: bool  # put on an earlier meeting of the same series and not dealt with there
    dealt_here: bool


def agenda_of(items: Iterable[AgendaItem], meeting_id: str,
              occurrence: datetime) -> list[AgendaLine]:
    """The agenda of one sitting: its own items, and those carried over from earlier
    sittings of the same meeting that were not dealt with before it."""
    at = _utc(occurrence)
    mine = [i for i in items if i.meeting == meeting_id and not i.withdrawn
            and _utc(i.occurrence) <= at and (i.dealt_at is None or _utc(i.dealt_at) >= at)]
    mine.sort(key=lambda i: (_utc(i.occurrence), _utc(i.at), i.id or 0))
    return [AgendaLine(n, i, _utc(i.occurrence) < at,
                       i.dealt_at is not None and _utc(i.dealt_at) == at)
            for n, i in enumerate(mine, 1)]


# ---------------------------------------------------------------- action items


def owned_by(entry: Entry, user_id: UserId, name: str, handle: str | None) -> bool:
    """Whether the person (id, display name, @handle) is the action item's owner."""
    if entry.owner_id is not None and entry.owner_id == user_id:
        return True
    owner = (entry.owner or "").strip().lower()
    if not owner:
        return False
    if owner.startswith("@"):
        return handle is not None and owner[1:] == handle.lower()
    words = name.lower().split()
    return owner == name.lower() or (bool(words) and owner == words[0])


def open_tasks(entries: Iterable[Entry], by: date | None = None) -> list[Entry]:
    """Open action items (due on or before `by`, when given), by due date then age."""
    tasks = [e for e in entries if e.open and (by is None or (e.due is not None and e.due <= by))]
    return sorted(tasks, key=lambda e: (e.due or date.max, _utc(e.at)))


def entries_of(entries: Iterable[Entry], sitting: Sitting) -> list[Entry]:
    """The minutes entries taken in `sitting`, in the order they were written."""
    key = sitting.key
    return sorted((e for e in entries if not e.withdrawn and e.meeting is not None
                   and e.occurrence is not None and (e.meeting, _utc(e.occurrence)) == key),
                  key=lambda e: (_utc(e.at), e.id or 0))


# ---------------------------------------------------------------- the parser

_LEAD = r"^\s*(?:[-•*>]\s*)?(?:\*\*)?"
PREFIX = re.compile(
    _LEAD + r"(?P<kind>beschluss|entscheidung|aufgabe|to-?do|info|top)(?:\*\*)?"
    r"(?P<ap>\s*(?:\(\s*|zu\s+)?(?:ap|arbeitspaket)\s*0*\d{1,3}\s*\)?)?\s*[:：]\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL)
_KINDS = {"beschluss": DECISION, "entscheidung": DECISION, "aufgabe": TASK, "todo": TASK,
          "to-do": TASK, "info": INFO, "top": "top"}
AP_RE = re.compile(r"\(?\b(?:ap|arbeitspaket)\s*0*(\d{1,3})(?!\d)\)?", re.IGNORECASE)
DONE_REPLY = re.compile(r"^\s*(?:✅\s*)?erledigt\b\s*[:!.]?\s*(?P<rest>.*)$",
                        re.IGNORECASE | re.DOTALL)
TOP_DONE = re.compile(r"^\s*top\s*(?P<nums>\d{1,2}(?:\s*(?:,|und|\+)\s*\d{1,2})*)\s*[:]?\s*"
                      r"(?:ist\s+)?(?:erledigt|besprochen)\b", re.IGNORECASE)


def prefix_of(text: str) -> tuple[str, str] | None:
    """("aufgabe", rest) for "Aufgabe: …"; the kind is DECISION, TASK, INFO or "top"."""
    m = PREFIX.match(text)
    if m is None:
        return None
    rest = m.group("rest")
    if ap := m.group("ap"):  # "Beschluss (AP2):", "Beschluss zu AP 8:"
        rest = f"(AP{int(re.findall(r'[0-9]+', ap)[0])}) {rest}"
    return _KINDS[m.group("kind").lower()], rest.strip()


@dataclass(frozen=True)
class Parsed:
    kind: str
    text: str
    ap: str | None = None
    owner: str | None = None  # as written ("@anna", "Anna"); None for "ich" or nobody named
    owner_is_author: bool = False
    due: date | None = None


@dataclass(frozen=True)
class Problem:
    """Why a line cannot be taken into the minutes, in one German sentence."""

    text: str


WEEKDAYS = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonntag")
MONTHS = ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september",
          "oktober", "november", "dezember")
_MONTH_ALT = "|".join([*MONTHS, "maerz", "marz", "jan", "feb", "mär", "apr", "jun", "jul",
                       "aug", "sep", "sept", "okt", "nov", "dez"])
_DUE_HEAD = re.compile(r"(?:^|(?<=[\s(,;–-]))(?:bis|fällig(?:\s+am)?|frist:?)\s+"
                       r"(?:(?:zum|zur|spätestens|spaetestens|am|kommenden|nächsten|"
                       r"naechsten)\s+)*", re.IGNORECASE)
_NUM_DATE = re.compile(r"(\d{1,2})\.\s?(\d{1,2})\.(?:\s?(\d{4}|\d{2})(?!\d))?")
_WORD_DATE = re.compile(rf"(\d{{1,2}})\.?\s*({_MONTH_ALT})\.?(?:\s+(\d{{4}}))?(?![\w])",
                        re.IGNORECASE)


def _month(word: str) -> int:
    w = word.lower().rstrip(".").replace("ae", "ä")
    if w == "marz":
        w = "märz"
    for n, name in enumerate(MONTHS, 1):
        if name.startswith(w[:3]):
            return n
    raise ValueError(word)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _friday_of(day: date) -> date:
    return day + timedelta(days=4 - day.weekday())


def _read_due(phrase: str, head: str, today: date) -> tuple[date, int] | Problem | None:
    """The date at the start of `phrase` (after "bis …") and how many characters it used;
    None when nothing there looks like a date."""
    low = phrase.lower()
    year_given = True
    if m := _NUM_DATE.match(phrase):
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
    elif m := _WORD_DATE.match(phrase):
        try:
            d, mo, y = int(m.group(1)), _month(m.group(2)), m.group(3)
        except ValueError:
            return None
    else:
        return _read_word_due(low, head, today)
    year_given = y is not None
    year = (2000 + int(y) if len(y) == 2 else int(y)) if y else today.year
    try:
        due = date(year, mo, d)
    except ValueError:
        return Problem(f"„{head}{m.group(0)}“ ist kein gültiges Datum. Ich habe nichts "
                       "gespeichert.")
    if not year_given and due < today and today - due > PAST_WITHOUT_YEAR:
        try:
            due = date(year + 1, mo, d)
        except ValueError:
            return Problem(f"„{head}{m.group(0)}“ ist kein gültiges Datum. Ich habe nichts "
                           "gespeichert.")
    return due, m.end()


_WORD_DUES: tuple[tuple[str, Any], ...] = (
    (r"heute\b", lambda t: t),
    (r"übermorgen\b|uebermorgen\b", lambda t: t + timedelta(days=2)),
    (r"morgen\b", lambda t: t + timedelta(days=1)),
    (r"(?:ende\s+(?:der|dieser)\s+woche|wochenende|ende\s+woche)\b",
     lambda t: _friday_of(t) if t.weekday() < 5 else _friday_of(t + timedelta(days=7))),
    (r"(?:nächste|naechste|kommende)\s+woche\b", lambda t: _friday_of(t + timedelta(days=7))),
    (r"(?:monatsende|ende\s+(?:des|dieses)\s+monats)\b", lambda t: _month_end(t.year, t.month)),
    (r"(?:jahresende|ende\s+des\s+jahres)\b", lambda t: date(t.year, 12, 31)),
)
_MONTH_ONLY = re.compile(rf"(?:ende\s+)?({_MONTH_ALT})\.?(?:\s+(\d{{4}}))?(?![\w])",
                         re.IGNORECASE)
_KW = re.compile(r"kw\s*(\d{1,2})(?:\s*/?\s*(\d{4}))?\b")


def _read_word_due(low: str, head: str, today: date) -> tuple[date, int] | None:
    for pattern, pick in _WORD_DUES:
        if m := re.match(pattern, low):
            return pick(today), m.end()
    for n, name in enumerate(WEEKDAYS):
        if m := re.match(rf"{name}\b", low):
            ahead = (n - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead), m.end()
    if m := _KW.match(low):
        week, year = int(m.group(1)), int(m.group(2) or today.year)
        try:
            monday = date.fromisocalendar(year, week, 1)
        except ValueError:
            return None
        if not m.group(2) and monday + timedelta(days=4) < today:
            monday = date.fromisocalendar(year + 1, min(week, 52), 1)
        return monday + timedelta(days=4), m.end()
    if (m := _MONTH_ONLY.match(low)) and "ende" in head.lower() + low[:5]:
        month = _month(m.group(1))
        year = int(m.group(2)) if m.group(2) else today.year
        if not m.group(2) and _month_end(year, month) < today:
            year += 1
        return _month_end(year, month), m.end()
    return None


def _take_due(text: str, today: date, at_head: bool) -> tuple[str, date | None] | Problem:
    """The due date named in `text` ("bis Freitag", "bis 15.12.") and the text without it."""
    for m in _DUE_HEAD.finditer(text):
        phrase = text[m.end():]
        head = text[m.start():m.end()]
        read = _read_due(phrase, head, today)
        if isinstance(read, Problem):
            return read
        if read is None:
            # "bis" right after the owner, or ending the text: meant as a date, unreadable.
            tail = phrase.strip().rstrip(".!)")
            words = tail.split()
            at_start = at_head and m.start() == 0
            at_end = 0 < len(words) <= 3 and not any(ch.isdigit() for ch in tail)
            if at_start or at_end:
                what = " ".join(phrase.split()[:3]).rstrip(".,;)")
                return Problem(f"„{head.strip()} {what}“ verstehe ich nicht als Datum – "
                               "bitte z. B. „bis Freitag“ oder „bis 15.12.“. Ich habe nichts "
                               "gespeichert.")
            continue
        due, used = read
        if due < today:
            return Problem(f"Der {due:%d.%m.%Y} liegt in der Vergangenheit – bitte ein "
                           "Datum ab heute angeben. Ich habe nichts gespeichert.")
        rest = (text[:m.start()] + " " + phrase[used:]).strip()
        return rest, due
    return text, None


_OWNER_AT = re.compile(r"^@([\w.]{2,})[,:]?\s*")
_OWNER_ME = re.compile(r"^(?:ich|mache\s+ich|übernehme\s+ich)\b[,:]?\s*", re.IGNORECASE)
_NAME = r"[A-ZÄÖÜ][\wäöüß-]+(?:\s+[A-ZÄÖÜ][\wäöüß-]+)?"
_OWNER_COLON = re.compile(rf"^(?:für\s+)?({_NAME})\s*:\s*")
_OWNER_FOR = re.compile(rf"^für\s+({_NAME})\b[,:]?\s*")
_OWNER_VERB = re.compile(
    rf"^({_NAME})\s+(?=(?:soll|sollte|macht|übernimmt|kümmert|schickt|klärt|prüft|erstellt|"
    r"lädt|schreibt|bereitet|organisiert|fragt|ruft|meldet|bucht|versendet|verschickt)\b)")
_OWNER_ANYWHERE = re.compile(r"(?<![\w@])@([\w.]{2,})\b")


def _take_owner(text: str) -> tuple[str, str | None, bool]:
    """(text without the owner, owner as written, whether the author meant themselves)."""
    if m := _OWNER_AT.match(text):
        return text[m.end():], f"@{m.group(1)}", False
    if m := _OWNER_ME.match(text):
        return text[m.end():], None, True
    for pattern in (_OWNER_FOR, _OWNER_COLON):
        if m := pattern.match(text):
            return text[m.end():], m.group(1), False
    if m := _OWNER_VERB.match(text):
        return text, m.group(1), False  # "Anna kümmert sich um …" reads well as it is
    if m := _OWNER_ANYWHERE.search(text):
        return (text[:m.start()] + text[m.end():]), f"@{m.group(1)}", False
    return text, None, False


def _tidy(text: str) -> str:
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))
    return text.strip(" ,;:–-")


_EMPTY = {DECISION: "Was wurde beschlossen?", TASK: "Was ist zu tun?", INFO: "Was ist die Info?",
          "top": "Was soll auf die Tagesordnung?"}


def parse_entry(kind: str, rest: str, today: date,
                ap_ids: Collection[str]) -> Parsed | Problem:
    """One line of minutes (after its "Beschluss:" or the like) read as data.

    "@anna bis 15.12. Einladung BiKo versenden (AP3)" → owner @anna, due 15.12., AP3.
    """
    name = KIND_NAMES.get(kind, "TOP")
    text = rest.strip()
    if not text:
        return Problem(f"„{name}:“ ohne Text – {_EMPTY[kind]} Ich habe nichts gespeichert.")
    ap = None
    if m := AP_RE.search(text):
        ap = f"AP{int(m.group(1))}"
        if ap not in ap_ids:
            numbers = sorted(int(a[2:]) for a in ap_ids)
            return Problem(f"AP {int(m.group(1))} gibt es nicht – der Plan hat AP {numbers[0]} "
                           f"bis AP {numbers[-1]}. Ich habe nichts gespeichert.")
        whole = m.group(0)
        # "(AP3)" and a trailing "AP3" are labels; "AP3 bekommt …" says something about it,
        # except on the agenda: "/top AP4 Portal-Relaunch".
        if whole.startswith("(") or m.end() == len(text.rstrip(" .")) or (
                m.start() == 0 and kind == "top"):
            text = text[:m.start()] + text[m.end():]
    owner, me, due = None, False, None
    if kind == TASK:
        text, owner, me = _take_owner(text.strip())
        taken = _take_due(text.strip(), today, at_head=True)
        if isinstance(taken, Problem):
            return taken
        text, due = taken
        if owner is None and not me:  # "bis Freitag @anna …": the owner after the date
            text, owner, me = _take_owner(text.strip())
    text = _tidy(text)
    if not text:
        return Problem(f"„{name}:“ ohne Text – {_EMPTY[kind]} Ich habe nichts gespeichert.")
    return Parsed(kind, text, ap, owner, me, due)


# ---------------------------------------------------------------- posts


@dataclass(frozen=True)
class MeetingWork:
    """What the posts about meetings are planned from: sessions, entries, agenda items."""

    sessions: tuple[Session, ...] = ()
    entries: tuple[Entry, ...] = ()
    agenda: tuple[AgendaItem, ...] = ()


def reminder_day(due: date, bundesland: str) -> date:
    """The working day an item due on `due` is reminded on: that day, or the last working
    day before it when it falls on a weekend or holiday."""
    day = due
    for _ in range(14):
        if is_working_day(day, bundesland):
            return day
        day -= timedelta(days=1)
    return due


def post_time_on(day: date, plan: Plan, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, plan.programme.post_time, tz)


def end_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tz)


def with_done(entry: Entry, now: datetime, by: str) -> Entry:
    return replace(entry, done_at=now, done_by=by)


# ---------------------------------------------------------------- the minutes


@dataclass(frozen=True)
class Minutes:
    """The minutes of one sitting, as data: what the chat post, /protokoll and the Word
    file are rendered from."""

    sitting: Sitting
    agenda: tuple[AgendaLine, ...]
    decisions: tuple[Entry, ...]
    tasks: tuple[Entry, ...]
    infos: tuple[Entry, ...]
    updates: tuple[Update, ...]  # progress reports recorded while it ran

    @property
    def empty(self) -> bool:
        return not (self.agenda or self.decisions or self.tasks or self.infos or self.updates)


def minutes_of(sitting: Sitting, items: Iterable[AgendaItem], entries: Iterable[Entry],
               updates: Iterable[Update]) -> Minutes:
    taken = entries_of(entries, sitting)
    start, end = _utc(sitting.start), _utc(sitting.end)
    during = tuple(sorted((u for u in updates if not u.withdrawn and start <= _utc(u.at) < end),
                          key=lambda u: _utc(u.at)))
    return Minutes(sitting, tuple(agenda_of(items, sitting.meeting.id, sitting.occurrence)),
                   tuple(e for e in taken if e.kind == DECISION),
                   tuple(e for e in taken if e.kind == TASK),
                   tuple(e for e in taken if e.kind == INFO), during)


def find_sitting(plan: Plan, sessions: Iterable[Session], tz: ZoneInfo, meeting_id: str,
                 occurrence: datetime) -> Sitting | None:
    """The sitting of `meeting_id` at `occurrence` (as a post or an entry names it)."""
    key = (meeting_id, _utc(occurrence))
    # Wide: a sitting started early by command may also have ended before `occurrence`.
    found = sittings_between(plan, list(sessions), tz, occurrence - MAX_SITTING - timedelta(days=1),
                             occurrence + MAX_SITTING + timedelta(days=1))
    return next((s for s in found if s.key == key), None)


def held_sittings(plan: Plan, work: MeetingWork, tz: ZoneInfo, now: datetime,
                  back: timedelta = timedelta(days=400)) -> list[Sitting]:
    """Sittings that have begun by `now` and were held in the chat (started or ended by
    command, or minutes taken in them), oldest first."""
    return [s for s in sittings_between(plan, work.sessions, tz, now - back, now)
            if _utc(s.start) <= _utc(now)
            and (s.session is not None or entries_of(work.entries, s))]
