"""Schedule views at fixed dates: the engine (workflows.agenda) and the five commands via Core."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.messages import Incoming, Reply
from bot.settings import Settings
from tests.conftest import TEST_PLAN
from workflows.agenda import (
    meetings_between,
    milestone_groups,
    next_events,
    period_view,
    quiet_work_packages,
)
from workflows.periods import Period, parse_period, quarter_period
from workflows.plan import Plan
from workflows.progress import Author, MilestoneMark, Update
from workflows.quarters import Quarter
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)  # a Thursday in Q4 2026
YEAR_END = datetime(2026, 12, 28, 9, 0, tzinfo=TZ)  # a Monday; the Jour fixe is tomorrow
QUARTER_END = datetime(2026, 3, 31, 12, 0, tzinfo=TZ)  # last day of Q1 2026, after the Jour fixe
PROGRAMME_END = datetime(2027, 6, 30, 12, 0, tzinfo=TZ)  # last day of the programme

TEAM = -100123
ADMIN, ANNA = 1, 2
CHEF = Author(ADMIN, "Chef")

_message_ids = itertools.count(5000)


# -- fixtures and helpers --------------------------------------------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        team_chat_id=TEAM,
        admin_ids=frozenset({ADMIN}),
        timezone=TZ,
        data_dir=tmp_path / "data",
        plan_path=PLAN_PATH,
    )


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = Store.open(settings.data_dir, NOW)
    yield s
    s.close()


def ask(core: Core, text: str, now: datetime = NOW, **fields: Any) -> list[Reply]:
    """A message in the team group from Anna."""
    fields.setdefault("chat_id", TEAM)
    fields.setdefault("chat_type", "supergroup")
    fields.setdefault("message_id", str(next(_message_ids)))
    return core.handle(Incoming(text=text, user_id=ANNA, user_name="Anna", **fields), now)


def answer(core: Core, text: str, now: datetime = NOW) -> str:
    replies = ask(core, text, now)
    assert len(replies) == 1, replies
    return replies[0].text


def line_with(text: str, needle: str) -> str:
    lines = [line for line in text.split("\n") if needle in line]
    assert len(lines) == 1, (needle, text)
    return lines[0]


def bullets(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("• ")]


def mark(store: Store, milestone: str, reached_on: date, withdrawn: bool = False) -> None:
    at = datetime.combine(reached_on, datetime.min.time(), TZ) + timedelta(hours=12)
    store.add_mark(MilestoneMark(milestone, reached_on, CHEF, TEAM, next(_message_ids), at,
                                 withdrawn=withdrawn), NOW)


def update(store: Store, ap: str, at: datetime, state: str | None = None,
           withdrawn: bool = False) -> None:
    store.add_update(Update(ap, f"{ap}: Stand", CHEF, TEAM, next(_message_ids), at, state=state,
                            withdrawn=withdrawn), NOW)


def ids(items: Any) -> list[str]:
    """Ids of work packages or milestone statuses, in order."""
    return [getattr(x, "id", None) or x.milestone.id for x in items]


def quarter(year: int, number: int) -> Period:
    return quarter_period(Quarter(year, number))


ALL_RUNNING = [f"AP{n}" for n in range(3, 14)]  # AP1 and AP2 ended before Q4 2026


# -- period_view -----------------------------------------------------------------------


def test_period_view_of_the_current_quarter(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2026, 4), store.marks(), TZ, NOW.date())
    assert ids(view.running) == ALL_RUNNING
    assert view.starting == ()
    assert view.ending == ()
    assert [(s.milestone.id, s.days_left) for s in view.due] == [("M3.3", 35)]
    assert [(s.milestone.id, s.days_left) for s in view.carried] == [
        ("M3.1", -330), ("M2.1", -240), ("M3.2", -149)]
    jour_fixe = [m for m in view.meetings if m.title == "Jour fixe Koordinierungsteam"]
    steering = [m for m in view.meetings if m.title == "Steuerungsgruppe Bildung"]
    assert len(jour_fixe) == 13
    assert jour_fixe[0].start == datetime(2026, 10, 6, 10, 0, tzinfo=TZ)
    assert jour_fixe[-1].start == datetime(2026, 12, 29, 10, 0, tzinfo=TZ)
    assert [m.start for m in steering] == [datetime(2026, 10, 14, 14, 0, tzinfo=TZ)]
    assert [m.start for m in view.meetings] == sorted(m.start for m in view.meetings)


def test_meetings_keep_their_local_time_across_the_dst_change(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2026, 4), store.marks(), TZ, NOW.date())
    jour_fixe = [m.start for m in view.meetings if m.kind == "team"]
    assert {(t.weekday(), t.hour, t.minute) for t in jour_fixe} == {(1, 10, 0)}
    # summer time before 25.10.2026, winter time after it
    assert {t.utcoffset() for t in jour_fixe} == {timedelta(hours=2), timedelta(hours=1)}


def test_period_view_on_a_quarters_last_day(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2026, 1), store.marks(), TZ, QUARTER_END.date())
    assert ids(view.running) == [f"AP{n}" for n in range(2, 14)]
    assert ids(view.starting) == ["AP13"]
    assert ids(view.ending) == ["AP2"]
    assert [(s.milestone.id, s.days_left, s.kind) for s in view.due] == [("M2.1", 0, "bald")]
    assert [(s.milestone.id, s.days_left) for s in view.carried] == [("M3.1", -90)]
    assert len(view.meetings) == 14
    assert datetime(2026, 1, 14, 14, 0, tzinfo=TZ) in [m.start for m in view.meetings]
    assert view.meetings[-1].start == datetime(2026, 3, 31, 10, 0, tzinfo=TZ)


def test_period_view_of_the_programmes_first_quarter(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2025, 1), store.marks(), TZ, date(2025, 2, 1))
    assert ids(view.starting) == ["AP1", "AP2", "AP3", *[f"AP{n}" for n in range(5, 13)]]
    assert "AP4" not in ids(view.running)
    assert "AP13" not in ids(view.running)
    assert view.due == ()
    assert view.carried == ()


def test_period_view_of_the_last_quarter(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2027, 2), store.marks(), TZ, PROGRAMME_END.date())
    assert ids(view.ending) == ALL_RUNNING
    assert ids(view.running) == ALL_RUNNING
    assert [(s.milestone.id, s.days_left) for s in view.due] == [("M13.1", 0), ("M3.4", 0)]
    assert ids(view.carried) == ["M3.1", "M2.1", "M3.2", "M3.3"]


def test_period_view_after_the_programme(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2027, 3), store.marks(), TZ, PROGRAMME_END.date())
    assert view.running == view.starting == view.ending == view.due == ()


def test_a_past_period_carries_nothing(plan: Plan, store: Store) -> None:
    view = period_view(plan, quarter(2026, 3), store.marks(), TZ, NOW.date())
    assert view.due == ()
    assert view.carried == ()


def test_reached_milestones_are_not_carried(plan: Plan, store: Store) -> None:
    mark(store, "M3.1", date(2026, 1, 20))
    mark(store, "M3.2", date(2026, 6, 20), withdrawn=True)  # withdrawn: still open
    view = period_view(plan, quarter(2026, 4), store.marks(), TZ, NOW.date())
    assert ids(view.carried) == ["M2.1", "M3.2"]
    past = period_view(plan, quarter(2025, 4), store.marks(), TZ, NOW.date())
    assert [(s.milestone.id, s.reached_on) for s in past.due] == [("M3.1", date(2026, 1, 20))]


def test_a_week_across_the_year_boundary(plan: Plan, store: Store) -> None:
    week = parse_period("diese Woche", YEAR_END.date())
    assert week is not None
    view = period_view(plan, week, store.marks(), TZ, YEAR_END.date())
    assert [(s.milestone.id, s.days_left) for s in view.due] == [("M3.3", 3)]
    assert [m.start for m in view.meetings] == [datetime(2026, 12, 29, 10, 0, tzinfo=TZ)]
    assert ids(view.running) == ALL_RUNNING


def test_a_future_quarter_carries_what_will_be_overdue_by_its_start(plan: Plan,
                                                                    store: Store) -> None:
    # Q1 2027 seen on 26.11.2026: M3.3 (due 31.12.2026) is still open and due before the
    # quarter, so unless it is reached it comes into Q1 2027 overdue – it is listed, with
    # its own "in 35 Tagen".
    view = period_view(plan, quarter(2027, 1), store.marks(), TZ, NOW.date())
    assert ids(view.carried) == ["M3.1", "M2.1", "M3.2", "M3.3"]


def test_meetings_between_in_local_time(plan: Plan) -> None:
    start = datetime(2027, 1, 1, 0, 0, tzinfo=TZ)
    meetings = meetings_between(plan, TZ, start, datetime(2027, 12, 31, 23, 59, tzinfo=TZ))
    steering = [m.start for m in meetings if m.kind == "steering"]
    # the plan's meetings end with the programme (30.06.2027)
    assert steering == [datetime(2027, 1, 13, 14, 0, tzinfo=TZ),
                        datetime(2027, 4, 14, 14, 0, tzinfo=TZ)]
    assert len([m for m in meetings if m.kind == "team"]) == 26  # Tuesdays 5.1.–29.6.2027
    # a UTC window selects the same meetings
    utc = meetings_between(plan, TZ, start.astimezone(UTC), datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    assert [m.start for m in utc] == [datetime(2027, 1, 5, 10, 0, tzinfo=TZ)]


# -- milestone_groups --------------------------------------------------------------------


def test_milestone_groups_at_a_fixed_date(plan: Plan, store: Store) -> None:
    groups = milestone_groups(plan, store.marks(), NOW.date())
    assert ids(groups.overdue) == ["M3.1", "M2.1", "M3.2"]
    assert ids(groups.soon) == ["M3.3"]
    assert ids(groups.later) == ["M13.1", "M3.4"]
    assert groups.reached == ()


def test_milestone_groups_at_the_90_day_boundary(plan: Plan, store: Store) -> None:
    on_last_day = milestone_groups(plan, store.marks(), QUARTER_END.date())
    assert ids(on_last_day.overdue) == ["M3.1"]
    assert ids(on_last_day.soon) == ["M2.1"]  # due today
    assert ids(on_last_day.later)[0] == "M3.2"  # 91 days ahead
    next_day = milestone_groups(plan, store.marks(), date(2026, 4, 1))
    assert ids(next_day.overdue) == ["M3.1", "M2.1"]
    assert ids(next_day.soon) == ["M3.2"]  # exactly 90 days ahead


def test_milestone_groups_with_reached_milestones(plan: Plan, store: Store) -> None:
    mark(store, "M3.1", date(2026, 1, 20))
    mark(store, "M2.1", date(2026, 4, 10))  # late, but reached
    mark(store, "M3.2", date(2026, 6, 20), withdrawn=True)
    groups = milestone_groups(plan, store.marks(), NOW.date())
    assert ids(groups.overdue) == ["M3.2"]
    assert [(s.milestone.id, s.reached_on) for s in groups.reached] == [
        ("M3.1", date(2026, 1, 20)), ("M2.1", date(2026, 4, 10))]


def test_milestone_groups_at_the_programmes_end(plan: Plan, store: Store) -> None:
    groups = milestone_groups(plan, store.marks(), PROGRAMME_END.date())
    assert ids(groups.overdue) == ["M3.1", "M2.1", "M3.2", "M3.3"]
    assert ids(groups.soon) == ["M13.1", "M3.4"]
    assert groups.later == ()
    after = milestone_groups(plan, store.marks(), date(2027, 7, 1))
    assert len(after.overdue) == 6
    assert after.soon == after.later == ()


# -- next_events --------------------------------------------------------------------------


def test_next_events_at_a_fixed_date(plan: Plan, store: Store) -> None:
    events = next_events(plan, store.marks(), TZ, NOW, 10)
    assert [(e.day, e.kind) for e in events] == [
        (date(2026, 12, 1), "meeting"), (date(2026, 12, 8), "meeting"),
        (date(2026, 12, 15), "meeting"), (date(2026, 12, 22), "meeting"),
        (date(2026, 12, 29), "meeting"), (date(2026, 12, 31), "milestone"),
        (date(2027, 1, 1), "quarter"), (date(2027, 1, 5), "meeting"),
        (date(2027, 1, 12), "meeting"), (date(2027, 1, 13), "meeting"),
    ]
    assert events[5].title == "M3.3 BiKo hat stattgefunden"
    assert events[5].at is None
    assert events[6].title == "Beginn von Q1 2027"
    assert events[9].title == "Steuerungsgruppe Bildung"
    assert events[9].at == datetime(2027, 1, 13, 14, 0, tzinfo=TZ)


def test_next_events_across_the_year_boundary(plan: Plan, store: Store) -> None:
    events = next_events(plan, store.marks(), TZ, YEAR_END, 3)
    assert [(e.day, e.title) for e in events] == [
        (date(2026, 12, 29), "Jour fixe Koordinierungsteam"),
        (date(2026, 12, 31), "M3.3 BiKo hat stattgefunden"),
        (date(2027, 1, 1), "Beginn von Q1 2027"),
    ]


def test_next_events_on_a_due_day_put_the_milestone_before_the_meeting(
        plan: Plan, store: Store) -> None:
    morning = datetime(2026, 3, 31, 9, 0, tzinfo=TZ)
    events = next_events(plan, store.marks(), TZ, morning, 3)
    assert [(e.day, e.kind) for e in events] == [
        (date(2026, 3, 31), "milestone"), (date(2026, 3, 31), "meeting"),
        (date(2026, 4, 1), "quarter")]
    # at noon the 10:00 Jour fixe is over
    noon = next_events(plan, store.marks(), TZ, QUARTER_END, 3)
    assert [(e.day, e.kind) for e in noon] == [
        (date(2026, 3, 31), "milestone"), (date(2026, 4, 1), "quarter"),
        (date(2026, 4, 7), "meeting")]


def test_next_events_skip_reached_and_overdue_milestones(plan: Plan, store: Store) -> None:
    mark(store, "M3.3", date(2026, 12, 1))
    events = next_events(plan, store.marks(), TZ, YEAR_END, 3)
    assert "M3.3 BiKo hat stattgefunden" not in [e.title for e in events]
    mark(store, "M3.4", date(2027, 5, 3))
    may = next_events(plan, store.marks(), TZ, datetime(2027, 5, 15, 9, 0, tzinfo=TZ), 10)
    assert [e.title for e in may if e.kind == "milestone"] == ["M13.1 Bericht Fachkräfte"]


def test_next_events_count_days_in_the_configured_time_zone(plan: Plan, store: Store) -> None:
    # 23:30 UTC on 30.12. is already New Year's Eve in Berlin: M3.3 is due today.
    late = datetime(2026, 12, 30, 23, 30, tzinfo=UTC)
    events = next_events(plan, store.marks(), TZ, late, 1)
    assert [(e.day, e.kind) for e in events] == [(date(2026, 12, 31), "milestone")]


def test_next_events_at_the_programmes_end(plan: Plan, store: Store) -> None:
    events = next_events(plan, store.marks(), TZ, PROGRAMME_END, 5)
    # nothing after the programme: no meetings, no "Beginn von Q3 2027"
    assert [(e.day, e.kind) for e in events] == [
        (date(2027, 6, 30), "milestone"), (date(2027, 6, 30), "milestone")]


@pytest.mark.parametrize("count", [1, 5, 30])
def test_next_events_give_exactly_count_events_sorted(plan: Plan, store: Store,
                                                      count: int) -> None:
    events = next_events(plan, store.marks(), TZ, NOW, count)
    assert len(events) == count
    assert [e.day for e in events] == sorted(e.day for e in events)
    assert all(e.day >= NOW.date() for e in events)


# -- quiet_work_packages ------------------------------------------------------------------


def test_quiet_work_packages_without_any_update(plan: Plan, store: Store) -> None:
    quiet = quiet_work_packages(plan, store.updates(), NOW.date())
    assert [q.wp.id for q in quiet] == ALL_RUNNING
    assert all(q.last_update is None and q.days_quiet is None for q in quiet)


def test_quiet_means_longer_than_six_weeks(plan: Plan, store: Store) -> None:
    update(store, "AP3", datetime(2026, 10, 14, 18, 0, tzinfo=TZ))  # 43 days before NOW
    update(store, "AP4", datetime(2026, 10, 15, 9, 0, tzinfo=TZ))  # exactly 42 days
    update(store, "AP5", datetime(2026, 11, 25, 9, 0, tzinfo=TZ))
    quiet = {q.wp.id: q for q in quiet_work_packages(plan, store.updates(), NOW.date())}
    assert quiet["AP3"].days_quiet == 43
    assert quiet["AP3"].last_update == datetime(2026, 10, 14, 18, 0, tzinfo=TZ)
    assert "AP4" not in quiet
    assert "AP5" not in quiet
    assert quiet["AP6"].last_update is None


def test_quiet_skips_finished_and_not_running_aps(plan: Plan, store: Store) -> None:
    update(store, "AP6", datetime(2026, 1, 5, 9, 0, tzinfo=TZ), state="abgeschlossen")
    update(store, "AP7", datetime(2026, 11, 20, 9, 0, tzinfo=TZ), withdrawn=True)
    update(store, "AP1", datetime(2025, 3, 1, 9, 0, tzinfo=TZ))
    quiet = [q.wp.id for q in quiet_work_packages(plan, store.updates(), NOW.date())]
    assert "AP6" not in quiet  # reported finished
    assert "AP7" in quiet  # its only update was withdrawn
    assert "AP1" not in quiet and "AP2" not in quiet  # ended by plan
    early = [q.wp.id for q in quiet_work_packages(plan, store.updates(), date(2025, 2, 1))]
    assert "AP4" not in early and "AP13" not in early  # not begun yet


def test_quiet_threshold_can_be_given(plan: Plan, store: Store) -> None:
    update(store, "AP3", datetime(2026, 11, 10, 9, 0, tzinfo=TZ))
    assert "AP3" not in [q.wp.id for q in quiet_work_packages(plan, store.updates(), NOW.date())]
    two_weeks = quiet_work_packages(plan, store.updates(), NOW.date(), weeks=2)
    assert {q.wp.id: q.days_quiet for q in two_weeks}["AP3"] == 16


# -- /quartal ---------------------------------------------------------------------------


def test_quartal_without_argument_is_the_current_quarter(core: Core) -> None:
    text = answer(core, "/quartal")
    assert text.split("\n")[0] == "<b>Q4 2026</b> (01.10.2026 – 31.12.2026)"
    assert line_with(text, "M3.3").endswith("fällig Do., 31.12.2026 – in 35 Tagen")
    assert "<b>Noch offen aus der Zeit davor</b>" in text
    assert line_with(text, "M3.1").endswith("seit 330 Tagen überfällig")
    assert "Laufen: AP 3, AP 4, AP 5, AP 6, AP 7, AP 8, AP 9, AP 10, AP 11, AP 12, AP 13" in text
    assert "Beginnen:" not in text and "Enden:" not in text
    assert ("• Jour fixe Koordinierungsteam – 13 Termine, der erste Di., 06.10.2026 10:00, "
            "der letzte Di., 29.12.2026 10:00") in text
    assert "• Mi., 14.10.2026 14:00 Steuerungsgruppe Bildung" in text
    for same in ("/quarter", "/quartal Q4 2026", "/quartal dieses", "/QUARTAL"):
        assert answer(core, same) == text, same


@pytest.mark.parametrize("args", ["Q1 2027", "1/2027", "2027-Q1", "q1/2027", "nächstes",
                                  "naechstes", "1. Quartal 2027"])
def test_quartal_q1_2027_however_it_is_written(core: Core, args: str) -> None:
    text = answer(core, f"/quartal {args}")
    assert text == answer(core, f"/quarter {args}")
    assert text.split("\n")[0] == "<b>Q1 2027</b> (01.01.2027 – 31.03.2027)"
    assert "Keine Meilensteine fällig." in text
    assert ("• Jour fixe Koordinierungsteam – 13 Termine, der erste Di., 05.01.2027 10:00, "
            "der letzte Di., 30.03.2027 10:00") in text
    assert "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung" in text


def test_quartal_next_across_the_year_boundary(core: Core) -> None:
    text = answer(core, "/quartal nächstes", YEAR_END)
    assert text.startswith("<b>Q1 2027</b>")
    assert line_with(text, "M3.1").endswith("seit 362 Tagen überfällig")
    assert answer(core, "/quartal", YEAR_END).startswith("<b>Q4 2026</b>")
    assert answer(core, "/quartal letztes", YEAR_END).startswith("<b>Q3 2026</b>")


def test_quartal_on_a_quarters_last_day(core: Core) -> None:
    text = answer(core, "/quartal", QUARTER_END)
    assert text.startswith("<b>Q1 2026</b> (01.01.2026 – 31.03.2026)")
    assert line_with(text, "M2.1").endswith("fällig Di., 31.03.2026 – heute")
    assert line_with(text, "M3.1").endswith("seit 90 Tagen überfällig")
    assert "Beginnen: AP 13" in text
    assert "Enden: AP 2" in text
    assert answer(core, "/quartal nächstes", QUARTER_END).startswith("<b>Q2 2026</b>")
    assert answer(core, "/quartal letztes", QUARTER_END).startswith("<b>Q4 2025</b>")


def test_quartal_of_a_past_quarter(core: Core) -> None:
    text = answer(core, "/quartal letztes")
    assert text.startswith("<b>Q3 2026</b> (01.07.2026 – 30.09.2026)")
    assert "Keine Meilensteine fällig." in text
    assert "Noch offen" not in text
    assert "• Mi., 08.07.2026 14:00 Steuerungsgruppe Bildung" in text


def test_quartal_at_the_programmes_end(core: Core) -> None:
    text = answer(core, "/quartal", PROGRAMME_END)
    assert text.startswith("<b>Q2 2027</b>")
    assert "Enden: AP 3, AP 4, AP 5, AP 6, AP 7, AP 8, AP 9, AP 10, AP 11, AP 12, AP 13" in text
    assert line_with(text, "M13.1").endswith("fällig Mi., 30.06.2027 – heute")
    assert line_with(text, "M3.4").endswith("fällig Mi., 30.06.2027 – heute")
    assert line_with(text, "M3.3").endswith("seit 181 Tagen überfällig")
    after = answer(core, "/quartal nächstes", PROGRAMME_END)
    assert after.startswith("<b>Q3 2027</b>")
    assert "Keine Arbeitspakete laufen in dieser Zeit." in after


@pytest.mark.parametrize("args", ["quatsch", "Q5 2027", "Juni 2026", "2027"])
def test_quartal_with_a_bad_argument_explains_itself(core: Core, args: str) -> None:
    text = answer(core, f"/quartal {args}")
    assert f"„{args}“ verstehe ich nicht als Quartal" in text
    assert "/quartal Q1 2027" in text
    assert "/quartal nächstes" in text


def test_quartal_escapes_the_argument(core: Core) -> None:
    text = answer(core, "/quartal <b>x</b>")
    assert "&lt;b&gt;x&lt;/b&gt;" in text


# -- /meilensteine -----------------------------------------------------------------------


def test_meilensteine_grouped_by_urgency(core: Core) -> None:
    text = answer(core, "/meilensteine")
    assert text == answer(core, "/milestones")
    lines = text.split("\n")
    assert lines[0] == "<b>Meilensteine</b>"
    headings = [line for line in lines if line.startswith("<b>")][1:]
    assert headings == ["<b>Überfällig</b>", "<b>Fällig in den nächsten 90 Tagen</b>",
                        "<b>Später</b>"]
    assert line_with(text, "M3.1").endswith("fällig Mi., 31.12.2025 – seit 330 Tagen überfällig")
    assert line_with(text, "M2.1").endswith("seit 240 Tagen überfällig")
    assert line_with(text, "M3.2").endswith("seit 149 Tagen überfällig")
    assert line_with(text, "M3.3").endswith("fällig Do., 31.12.2026 – in 35 Tagen")
    assert line_with(text, "M13.1").endswith("fällig Mi., 30.06.2027 – offen")
    soon_at = lines.index("<b>Fällig in den nächsten 90 Tagen</b>")
    assert "M3.3" in lines[soon_at + 1]
    assert lines.index("<b>Überfällig</b>") < lines.index(line_with(text, "M3.2")) < soon_at


def test_meilensteine_shows_reached_ones_with_the_day(core: Core) -> None:
    confirmation = answer(core, "BiKo hat stattgefunden am 20.01.2026")
    assert "M3.1" in confirmation
    text = answer(core, "/meilensteine")
    assert "<b>Erreicht</b>" in text
    assert line_with(text, "M3.1").endswith("BiKo hat stattgefunden – erreicht am 20.01.2026")
    assert text.split("\n").index("<b>Erreicht</b>") == len(text.split("\n")) - 2


def test_meilensteine_on_a_quarters_last_day(core: Core) -> None:
    text = answer(core, "/meilensteine", QUARTER_END)
    lines = text.split("\n")
    soon_at = lines.index("<b>Fällig in den nächsten 90 Tagen</b>")
    assert lines[soon_at + 1].endswith("M2.1 Leitbild beschlossen – fällig Di., 31.03.2026 – heute")
    assert line_with(text, "M3.2").endswith("– offen")  # 91 days: later


# -- /naechste --------------------------------------------------------------------------


def test_naechste_lists_five_events_with_days_left(core: Core) -> None:
    text = answer(core, "/naechste")
    assert text == answer(core, "/next")
    lines = text.split("\n")
    assert lines[0] == "<b>Die nächsten 5 Termine</b>"
    assert lines[1:] == [
        "• Di., 01.12.2026 10:00 · Jour fixe Koordinierungsteam · in 5 Tagen",
        "• Di., 08.12.2026 10:00 · Jour fixe Koordinierungsteam · in 12 Tagen",
        "• Di., 15.12.2026 10:00 · Jour fixe Koordinierungsteam · in 19 Tagen",
        "• Di., 22.12.2026 10:00 · Jour fixe Koordinierungsteam · in 26 Tagen",
        "• Di., 29.12.2026 10:00 · Jour fixe Koordinierungsteam · in 33 Tagen",
    ]


def test_naechste_ten(core: Core) -> None:
    text = answer(core, "/naechste 10")
    assert text == answer(core, "/next 10")
    assert text.startswith("<b>Die nächsten 10 Termine</b>")
    assert len(bullets(text)) == 10
    assert "• Do., 31.12.2026 · M3.3 BiKo hat stattgefunden · in 35 Tagen" in text
    assert "• Fr., 01.01.2027 · Beginn von Q1 2027 · in 36 Tagen" in text
    assert "• Mi., 13.01.2027 14:00 · Steuerungsgruppe Bildung · in 48 Tagen" in text


def test_naechste_across_the_year_boundary(core: Core) -> None:
    assert bullets(answer(core, "/naechste 3", YEAR_END)) == [
        "• Di., 29.12.2026 10:00 · Jour fixe Koordinierungsteam · morgen",
        "• Do., 31.12.2026 · M3.3 BiKo hat stattgefunden · in 3 Tagen",
        "• Fr., 01.01.2027 · Beginn von Q1 2027 · in 4 Tagen",
    ]


def test_naechste_on_a_due_day(core: Core) -> None:
    assert bullets(answer(core, "/naechste 2", PROGRAMME_END)) == [
        "• Mi., 30.06.2027 · M13.1 Bericht Fachkräfte · heute",
        "• Mi., 30.06.2027 · M3.4 BiKo hat stattgefunden · heute",
    ]


@pytest.mark.parametrize(("args", "count"), [("0", 1), ("1", 1), ("30", 30), ("100", 30)])
def test_naechste_count_is_clamped(core: Core, args: str, count: int) -> None:
    text = answer(core, f"/naechste {args}")
    assert len(bullets(text)) == count
    assert text.startswith(f"<b>Die nächsten {count} Termine</b>")


@pytest.mark.parametrize("args", ["zehn", "-3", "2.5"])
def test_naechste_with_a_bad_count_explains_itself(core: Core, args: str) -> None:
    assert answer(core, f"/naechste {args}") == "Wie viele? Zum Beispiel: /naechste 10"


# -- /termine --------------------------------------------------------------------------


def test_termine_lists_the_meetings_of_the_next_eight_weeks(core: Core) -> None:
    text = answer(core, "/termine")
    assert text == answer(core, "/meetings")
    lines = text.split("\n")
    assert lines[0] == "<b>Sitzungen der nächsten 8 Wochen</b>"
    assert lines[1:] == [
        "• Di., 01.12.2026 10:00 Jour fixe Koordinierungsteam",
        "• Di., 08.12.2026 10:00 Jour fixe Koordinierungsteam",
        "• Di., 15.12.2026 10:00 Jour fixe Koordinierungsteam",
        "• Di., 22.12.2026 10:00 Jour fixe Koordinierungsteam",
        "• Di., 29.12.2026 10:00 Jour fixe Koordinierungsteam",
        "• Di., 05.01.2027 10:00 Jour fixe Koordinierungsteam",
        "• Di., 12.01.2027 10:00 Jour fixe Koordinierungsteam",
        "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung",
        "• Di., 19.01.2027 10:00 Jour fixe Koordinierungsteam",
    ]


def test_termine_across_the_year_boundary(core: Core) -> None:
    lines = bullets(answer(core, "/termine", YEAR_END))
    assert lines[0] == "• Di., 29.12.2026 10:00 Jour fixe Koordinierungsteam"
    assert lines[-1] == "• Di., 16.02.2027 10:00 Jour fixe Koordinierungsteam"
    assert "• Mi., 13.01.2027 14:00 Steuerungsgruppe Bildung" in lines
    # an hour after today's Jour fixe began, it is no longer listed
    later = bullets(answer(core, "/termine", datetime(2026, 12, 29, 11, 0, tzinfo=TZ)))
    assert later[0] == "• Di., 05.01.2027 10:00 Jour fixe Koordinierungsteam"


# -- /ueberfaellig ------------------------------------------------------------------------


def test_ueberfaellig_lists_overdue_milestones_and_quiet_aps(core: Core) -> None:
    text = answer(core, "/ueberfaellig")
    assert text == answer(core, "/overdue")
    assert text.startswith("<b>Überfällig</b>")
    assert line_with(text, "M3.1").endswith("seit 330 Tagen überfällig")
    assert line_with(text, "M2.1").endswith("seit 240 Tagen überfällig")
    assert line_with(text, "M3.2").endswith("seit 149 Tagen überfällig")
    assert "M3.3" not in text and "M3.4" not in text
    assert "<b>Laufende Arbeitspakete ohne Meldung seit über 6 Wochen</b>" in text
    assert "• AP 3 Bildungskonferenzen – noch nie gemeldet" in text
    assert "• AP 13 spezialisierte Bildungsberichterstattung Modul 3 – noch nie gemeldet" in text
    assert "AP 1 " not in text and "AP 2 " not in text


def test_ueberfaellig_after_progress_reports(core: Core) -> None:
    assert "gespeichert" in answer(core, "AP3: Einladungen verschickt",
                                   datetime(2026, 10, 14, 10, 0, tzinfo=TZ))
    assert "gespeichert" in answer(core, "AP4: Konzept abgestimmt",
                                   datetime(2026, 11, 20, 10, 0, tzinfo=TZ))
    text = answer(core, "/ueberfaellig")
    assert "• AP 3 Bildungskonferenzen – letzte Meldung 14.10.2026" in text
    assert "AP 4 Bildungsportal" not in text
    assert "• AP 5 Koordinierung und Steuerung – noch nie gemeldet" in text


def test_ueberfaellig_on_a_quarters_last_day(core: Core) -> None:
    text = answer(core, "/ueberfaellig", QUARTER_END)
    assert line_with(text, "M3.1").endswith("seit 90 Tagen überfällig")
    assert "M2.1" not in text  # due today, not overdue yet
    assert "• AP 2 Leitbildentwicklung – noch nie gemeldet" in text


def test_ueberfaellig_counts_days_in_the_configured_time_zone(core: Core) -> None:
    # 23:30 UTC on 31.12.2025 is already 1 January in Berlin
    text = answer(core, "/ueberfaellig", datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    assert line_with(text, "M3.1").endswith("seit 1 Tag überfällig")


def test_ueberfaellig_when_nothing_is_overdue(core: Core) -> None:
    text = answer(core, "/ueberfaellig", datetime(2025, 3, 1, 9, 0, tzinfo=TZ))
    assert "Keine Meilensteine überfällig." in text
    assert not re.search(r"seit \d+ Tag", text)
