"""/kalender: milestones and meetings as an RFC 5545 file that parses back and re-imports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event

from bot.commands import COMMANDS
from bot.core import Core
from bot.messages import Context, Incoming, Reply
from bot.render.calendar_export import calendar_file, planned_title, vtimezone
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from tests.run_cli import run_cli
from workflows.meetings import occurrences
from workflows.plan import Meeting, Plan, parse_plan
from workflows.progress import Author, MilestoneMark
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
TEAM = -100123
ANNA = Author(2, "Anna")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(team_chat_id=TEAM, admin_ids=frozenset({1}), timezone=TZ,
                    data_dir=tmp_path / "data", plan_path=PLAN_PATH)


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


def mark(milestone: str, reached_on: date) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=reached_on, author=ANNA, chat_id=TEAM,
                         message_id=None, at=NOW)


def wall(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A naive local wall-clock time, as a VTIMEZONE has to interpret it."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC).replace(tzinfo=None)


def parse(data: bytes) -> Calendar:
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    return Calendar.from_ical(data)


def events(cal: Calendar) -> dict[str, Event]:
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


def export(plan: Plan, store: Store, now: datetime = NOW, tz: ZoneInfo = TZ) -> Calendar:
    """The calendar as the bot hands it out: versions counted on in the store."""
    return parse(calendar_file(plan, store, tz, now))


def sequences(cal: Calendar) -> dict[str, int]:
    return {uid: int(e["SEQUENCE"]) for uid, e in events(cal).items()}


# -- the file -----------------------------------------------------------------------


def test_one_event_per_milestone_and_meeting_with_stable_uids(plan: Plan, store: Store) -> None:
    first = events(export(plan, store))
    assert len(first) == len(plan.milestones) + len(plan.meetings) == 8
    assert set(first) == {f"apbot-milestone-{m.id}@bildungskommunen" for m in plan.milestones} | {
        f"apbot-meeting-{m.id}@bildungskommunen" for m in plan.meetings}

    store.add_mark(mark("M3.3", date(2026, 11, 20)), NOW)
    second = events(export(plan, store, NOW + timedelta(days=3)))
    assert set(second) == set(first)  # an import updates, it does not duplicate
    changed = "apbot-milestone-M3.3@bildungskommunen"
    for uid, event in second.items():
        if uid == changed:  # … and the changed event is the newer version
            assert event["SEQUENCE"] > first[uid]["SEQUENCE"]
            assert event["DTSTAMP"].dt > first[uid]["DTSTAMP"].dt
        else:  # the others are the same version as before
            assert event["SEQUENCE"] == first[uid]["SEQUENCE"]
            assert event.to_ical() == first[uid].to_ical()


M31 = "apbot-milestone-M3.1@bildungskommunen"
M21 = "apbot-milestone-M2.1@bildungskommunen"


def test_sequence_grows_with_every_change_also_within_a_minute(plan: Plan, store: Store) -> None:
    assert sequences(export(plan, store))[M31] == 0
    # Three changes of M3.1 within the same second: each export is a newer version.
    first = store.add_mark(mark("M3.1", date(2026, 6, 12)), NOW)
    assert sequences(export(plan, store))[M31] == 1
    store.save_mark(replace(first, withdrawn=True), NOW)
    assert sequences(export(plan, store))[M31] == 2
    store.add_mark(mark("M3.1", date(2026, 6, 13)), NOW)
    after = export(plan, store)
    assert sequences(after)[M31] == 3
    assert events(after)[M31].start == date(2026, 6, 13)
    # Nothing changed: the same number, the same bytes, however often and late it is asked.
    again = calendar_file(plan, store, TZ, NOW + timedelta(hours=5))
    assert again == calendar_file(plan, store, TZ, NOW + timedelta(hours=6))
    assert sequences(parse(again)) == sequences(after)
    assert sequences(after)[M21] == 0


def test_sequence_is_kept_in_the_store_across_restarts(plan: Plan, settings: Settings) -> None:
    store = Store.open(settings.data_dir, NOW)
    export(plan, store)
    store.add_mark(mark("M3.1", date(2026, 6, 12)), NOW)
    assert sequences(export(plan, store))[M31] == 1
    store.close()
    store = Store.open(settings.data_dir, NOW)
    try:
        assert sequences(export(plan, store))[M31] == 1  # not 0 again after a restart
        store.add_mark(mark("M2.1", date(2026, 3, 20)), NOW)
        assert sequences(export(plan, store))[M21] == 1
    finally:
        store.close()
    # Beside the running bot (read-only) the file counts on, without writing anything.
    reader = Store.open(settings.data_dir, NOW, read_only=True)
    try:
        assert sequences(export(plan, reader)) == sequences(export(plan, reader))
    finally:
        reader.close()


def test_a_change_of_the_plan_is_a_new_version(plan: Plan, store: Store) -> None:
    before = sequences(export(plan, store))
    [m21] = [m for m in plan.milestones if m.id == "M2.1"]
    moved = replace(plan, milestones=tuple(replace(m, due=date(2026, 5, 15)) if m is m21 else m
                                           for m in plan.milestones))
    after = export(moved, store)
    assert sequences(after)[M21] == before[M21] + 1
    assert events(after)[M21].start == date(2026, 5, 15)
    assert {u: n for u, n in sequences(after).items() if u != M21} == {
        u: n for u, n in before.items() if u != M21}
    back = export(plan, store)  # changed back: still newer than what clients have seen
    assert sequences(back)[M21] == before[M21] + 2


def test_the_file_passes_libicals_itip_rules(plan: Plan, store: Store) -> None:
    # METHOD:PUBLISH requires an ORGANIZER in every event (RFC 5546 3.2.1), which libical
    # checks; the file is a published calendar, not a scheduling message: no METHOD.
    store.add_mark(mark("M3.1", date(2026, 6, 12)), NOW)
    data = calendar_file(plan, store, TZ, NOW)
    cal = parse(data)
    assert "METHOD" not in cal
    assert b"METHOD" not in data and b"ORGANIZER" not in data
    for event in cal.walk("VEVENT"):  # what RFC 5545 requires of every VEVENT
        assert {"UID", "DTSTAMP", "DTSTART"} <= set(event)
        assert event["DTSTAMP"].dt.tzinfo is not None  # DTSTAMP in UTC
        assert event["LAST-MODIFIED"].dt == event["DTSTAMP"].dt
    assert cal["REFRESH-INTERVAL"].dt == timedelta(hours=1)
    assert cal["X-PUBLISHED-TTL"].to_ical() == b"PT1H"


def test_calendar_header_for_outlook_and_thunderbird(plan: Plan, store: Store) -> None:
    cal = export(plan, store)
    assert cal["VERSION"] == "2.0"
    assert str(cal["PRODID"]).startswith("-//apbot//")
    assert cal["X-WR-CALNAME"] == "Bildungskommunen – Arbeits- und Zeitplan"
    assert cal["X-WR-TIMEZONE"] == "Europe/Berlin"
    assert [tz.tz_name for tz in cal.timezones] == ["Europe/Berlin"]
    assert cal.get_missing_tzids() == set()
    # The VTIMEZONE comes before the events that name it.
    names = [c.name for c in cal.subcomponents]
    assert names.index("VTIMEZONE") < names.index("VEVENT")


def test_a_reached_milestone_is_shown_on_the_day_it_was_reached(plan: Plan, store: Store) -> None:
    store.add_mark(mark("M3.1", date(2026, 6, 12)), NOW)
    by_uid = events(export(plan, store))
    reached = by_uid[M31]
    assert reached.start == date(2026, 6, 12) and reached.end == date(2026, 6, 13)
    assert reached["SUMMARY"] == "✓ M3.1 BiKo hat stattgefunden – AP 3"
    assert reached["TRANSP"] == "TRANSPARENT"
    description = reached["DESCRIPTION"]
    assert "Erreicht am 12.06.2026." in description
    assert "Fällig laut Plan: 31.12.2025 (Ende Q4 2025)." in description  # the due date kept
    assert reached.categories == ["Meilenstein"]


def test_an_open_milestone_does_not_claim_the_past(plan: Plan, store: Store) -> None:
    by_uid = events(export(plan, store))
    ahead = by_uid["apbot-milestone-M3.3@bildungskommunen"]
    assert ahead["SUMMARY"] == "M3.3 BiKo (geplant) – AP 3"
    assert ahead.start == date(2026, 12, 31) and ahead.end == date(2027, 1, 1)
    assert "Fällig am 31.12.2026 (Ende Q4 2026)." in ahead["DESCRIPTION"]
    assert "Noch nicht als erreicht gemeldet." in ahead["DESCRIPTION"]
    assert "angenommen" in ahead["DESCRIPTION"]  # the shipped dates are assumptions
    assert by_uid["apbot-milestone-M13.1@bildungskommunen"]["SUMMARY"] == (
        "M13.1 Bericht Fachkräfte (geplant) – AP 13")
    # Past its due day and open: overdue, still not "hat stattgefunden".
    overdue = by_uid[M31]
    assert overdue["SUMMARY"] == "M3.1 BiKo (überfällig) – AP 3"
    assert overdue.start == date(2025, 12, 31)
    assert by_uid[M21]["SUMMARY"] == "M2.1 Leitbild (Beschluss überfällig) – AP 2"
    after = events(export(plan, store, datetime(2027, 8, 1, 9, tzinfo=TZ)))
    assert after[M31]["SUMMARY"] == "M3.1 BiKo (nicht erreicht) – AP 3"


@pytest.mark.parametrize(("title", "planned"), [
    ("BiKo hat stattgefunden", "BiKo (geplant)"),
    ("Fachtage haben stattgefunden", "Fachtage (geplant)"),
    ("Leitbild beschlossen", "Leitbild (Beschluss geplant)"),
    ("Bildungsportal freigeschaltet", "Bildungsportal (Freischaltung geplant)"),
    ("Konzept entwickelt", "Konzept (geplant)"),
    ("Bericht Fachkräfte", "Bericht Fachkräfte (geplant)"),
    ("Abschlussbericht", "Abschlussbericht (geplant)"),
])
def test_planned_titles(title: str, planned: str) -> None:
    assert planned_title(title) == planned


def _expanded(event: Event) -> list[datetime]:
    """The event's occurrences as a calendar program computes them from the file."""
    rule = event["RRULE"].to_ical().decode()
    start = event.start
    assert isinstance(start, datetime) and start.tzinfo is not None
    recurrence = rrulestr(rule, dtstart=start, forceset=True)
    for exdate in event.exdates:
        recurrence.exdate(exdate)
    for rdate in event.rdates:
        recurrence.rdate(rdate if isinstance(rdate, datetime) else rdate[0])
    return list(recurrence)  # finite: every meeting ends with the programme


def _engine(plan: Plan, meeting: Meeting) -> list[datetime]:
    """The meeting's times as the bot itself counts them."""
    start = meeting.dtstart.replace(tzinfo=TZ)
    return occurrences(meeting, TZ, start, start + timedelta(days=10 * 366),
                       plan.programme.last_day)


def test_meetings_recur_as_the_bot_counts_them_across_dst(plan: Plan, store: Store) -> None:
    by_uid = events(export(plan, store))
    for meeting in plan.meetings:
        event = by_uid[f"apbot-meeting-{meeting.id}@bildungskommunen"]
        assert event["SUMMARY"] == meeting.title
        assert event.start == datetime(*meeting.dtstart.timetuple()[:5], tzinfo=TZ)
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert event.end - event.start == meeting.duration
        # the plan's rule, ending with the programme (30.06.2027, 23:59:59 in Berlin)
        freq, _, rest = meeting.rrule.partition(";")
        rule = f"{freq};UNTIL=20270630T215959Z;{rest}"
        assert event["RRULE"].to_ical().decode() == rule
        assert "bis zum Programmende am 30.06.2027" in event["DESCRIPTION"]
        in_file = _expanded(event)
        assert in_file == _engine(plan, meeting)
        assert in_file[-1].date() <= date(2027, 6, 30)
        # 10:00 stays 10:00 in summer and winter
        assert {t.astimezone(TZ).hour for t in in_file} == {meeting.dtstart.hour}
    jour_fixe = _expanded(by_uid["apbot-meeting-jour-fixe@bildungskommunen"])
    assert (len(jour_fixe), jour_fixe[-1].date()) == (130, date(2027, 6, 29))


def test_vtimezone_uses_yearly_rules_outlook_understands(plan: Plan, store: Store) -> None:
    [vtz] = export(plan, store).timezones
    assert [str(s["RRULE"].to_ical().decode()) for s in vtz.daylight] == [
        "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"]
    assert [str(s["RRULE"].to_ical().decode()) for s in vtz.standard] == [
        "FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"]
    assert "RDATE" not in vtz.to_ical().decode()
    as_tz = vtz.to_tz()
    for moment in (wall(2025, 1, 7, 10), wall(2026, 3, 29, 1, 59), wall(2026, 3, 29, 3, 0),
                   wall(2026, 7, 1, 12), wall(2026, 10, 25, 4, 0), wall(2027, 6, 30, 10)):
        assert moment.replace(tzinfo=as_tz).utcoffset() == moment.replace(tzinfo=TZ).utcoffset()


@pytest.mark.parametrize(("zone", "rules"), [
    ("America/New_York", {"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3", "FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"}),
    ("Asia/Kolkata", set()),  # no daylight saving time
    ("Africa/Casablanca", None),  # Ramadan changes: no yearly rule, icalendar's RDATE form
])
def test_vtimezone_of_other_zones_keeps_the_offsets(zone: str, rules: set[str] | None) -> None:
    tz = ZoneInfo(zone)
    vtz = vtimezone(tz, 2024, 2028)
    text = vtz.to_ical().decode()
    found = {s["RRULE"].to_ical().decode() for s in (*vtz.daylight, *vtz.standard)
             if "RRULE" in s}
    if rules is None:
        assert "RDATE" in text
    else:
        assert found == rules and "RDATE" not in text
    as_tz = vtz.to_tz()
    moment = wall(2025, 1, 1, 12)
    while moment < wall(2028, 12, 31):
        assert moment.replace(tzinfo=as_tz).utcoffset() == moment.replace(tzinfo=tz).utcoffset()
        moment += timedelta(days=5, hours=7)


PLAN_WITH_ODD_RULES = """
[programme]
name = "Testprogramm"
start = "Q1 2025"
end = "Q2 2027"

[[work_package]]
id = "AP1"
title = "Einziges"
start = "Q1 2025"
end = "Q2 2027"

[[meeting]]
id = "until"
title = "Endet früher, ohne einen Termin"
kind = "team"
rrule = "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20250401\\nEXDATE:20250114T100000"
dtstart = "2025-01-07T10:00"
duration_minutes = 0

[[meeting]]
id = "count-long"
title = "50 Termine, aber das Programm endet vorher"
kind = "team"
rrule = "FREQ=MONTHLY;COUNT=50"
dtstart = "2027-01-05T09:00"

[[meeting]]
id = "count-short"
title = "3 Termine"
kind = "steering"
rrule = "FREQ=MONTHLY;COUNT=3"
dtstart = "2026-01-05T09:00"

[[meeting]]
id = "rdate"
title = "Einmal und zwei Extratermine"
kind = "steering"
rrule = "RRULE:FREQ=YEARLY;COUNT=1\\nRDATE:20260505T100000,20280505T100000"
dtstart = "2025-05-05T10:00"
"""


def test_until_count_exdate_rdate_mean_in_the_file_what_they_mean_to_the_bot(
        store: Store) -> None:
    small = parse_plan(PLAN_WITH_ODD_RULES, Path("t.toml"))
    by_uid = events(export(small, store))
    rules = {uid.split("-", 2)[2].split("@")[0]: e["RRULE"].to_ical().decode()
             for uid, e in by_uid.items()}
    assert rules == {
        "until": "FREQ=WEEKLY;UNTIL=20250331T220000Z;BYDAY=TU",  # UTC beside a TZID
        "count-long": "FREQ=MONTHLY;UNTIL=20270630T215959Z",  # COUNT gives way to the end
        "count-short": "FREQ=MONTHLY;COUNT=3",
        "rdate": "FREQ=YEARLY;COUNT=1",
    }
    for meeting in small.meetings:
        event = by_uid[f"apbot-meeting-{meeting.id}@bildungskommunen"]
        assert _expanded(event) == _engine(small, meeting), meeting.id
    assert "DTEND" not in by_uid["apbot-meeting-until@bildungskommunen"]  # no duration
    assert len(_engine(small, small.meetings[0])) == 11  # 12 Tuesdays, one left out
    assert len(_engine(small, small.meetings[1])) == 6  # January to June 2027
    assert len(_engine(small, small.meetings[3])) == 2  # 2028 is after the programme


# -- the command and the CLI --------------------------------------------------------


def ask(core: Core, text: str, chat_id: str = TEAM) -> list[Reply]:
    return core.handle(Incoming(text=text, chat_id=chat_id, user_id="2", user_name="Anna",
                                chat_type="supergroup", message_id="1"), NOW)


@pytest.mark.parametrize("command", ["/kalender", "/ical"])
def test_kalender_sends_the_ics_as_a_document(settings: Settings, plan: Plan, store: Store,
                                              command: str) -> None:
    core = Core(Context(settings, plan, store), COMMANDS)
    [reply] = ask(core, command)
    file = reply.attachment
    assert file is not None
    assert file.kind == "document" and file.filename == "arbeits-und-zeitplan.ics"
    assert file.caption.startswith("📅 <b>Kalender</b>: 6 Meilensteine (ganztägig) und "
                                   "2 Sitzungsreihen")
    assert "Outlook oder Thunderbird" in file.caption
    assert len(events(parse(file.data))) == 8
    assert "/meilensteine" in file.fallback_text
    [refused] = ask(core, "/kalender", chat_id="-100999")
    assert refused.attachment is None


def test_cli_export_ical(settings: Settings, store: Store, tmp_path: Path) -> None:
    out = tmp_path / "plan.ics"
    done = run_cli(settings.data_dir, "export", "ical", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{out} geschrieben")
    assert len(events(parse(out.read_bytes()))) == 8
    to_stdout = run_cli(settings.data_dir, "export", "ical", "-")
    assert to_stdout.returncode == 0
    assert len(events(parse(to_stdout.raw))) == 8
