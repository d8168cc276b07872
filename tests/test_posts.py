"""When apbot posts on its own (issue 5): the pure rules in workflows.posts.

Quarterly overviews on the first working day of each quarter, milestone reminders and
overdue notices, meeting summaries, and the catch-up decisions of `due_posts`, all with
the shipped plan (or a variant of its text) and an injected `now`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import TEST_PLAN
from workflows.plan import Plan, PlanError, load_plan, parse_plan
from workflows.posts import (
    LATE_AFTER,
    MAX_LOOK_BACK,
    Post,
    due_posts,
    first_look_back,
    meeting_posts,
    milestone_posts,
    next_post_time,
    planned_posts,
    quarterly_posts,
)
from workflows.progress import Author, MilestoneMark
from workflows.workdays import is_working_day

ROOT = Path(__file__).resolve().parents[1]
PLAN_PATH = TEST_PLAN
PLAN_TEXT = PLAN_PATH.read_text(encoding="utf-8-sig")
TZ = ZoneInfo("Europe/Berlin")
UTC = ZoneInfo("UTC")
PLAN = load_plan(PLAN_PATH)
ALICE = Author(42, "Frau Müller")
TEAM_CHAT = "-100123"

JOUR_FIXE = 'rrule = "FREQ=WEEKLY;BYDAY=TU"\ndtstart = "2025-01-07T10:00"'
PROGRAMME_END = 'end = "Q2 2027"              # chart header'
M33_DUE = 'id = "M3.3"\nap = "AP3"\ntitle = "BiKo hat stattgefunden"\ndue = "Q4 2026"'


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=TZ)


def variant(*replacements: tuple[str, str]) -> Plan:
    """The shipped plan with parts of its text replaced (each part must occur)."""
    text = PLAN_TEXT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return parse_plan(text, Path("variant.toml"))


def without_meetings() -> Plan:
    return parse_plan(PLAN_TEXT[:PLAN_TEXT.index("[[meeting]]")], Path("variant.toml"))


def reached(milestone: str, on: date, *, withdrawn: bool = False) -> MilestoneMark:
    return MilestoneMark(milestone=milestone, reached_on=on, author=ALICE, chat_id=TEAM_CHAT,
                         message_id="1", at=datetime.combine(on, time(12), TZ),
                         withdrawn=withdrawn)


def by_key(posts: list[Post]) -> dict[str, Post]:
    return {p.key: p for p in posts}


def in_dst_hour(at: datetime) -> bool:
    return at.astimezone(TZ).hour == 2


# -- quarterly overviews -----------------------------------------------------------

# first working day of each quarter in Saxony, Q1 2025 … Q2 2027
QUARTER_DAYS = {
    "Q1 2025": date(2025, 1, 2),   # 1 January: Neujahr
    "Q2 2025": date(2025, 4, 1),
    "Q3 2025": date(2025, 7, 1),
    "Q4 2025": date(2025, 10, 1),
    "Q1 2026": date(2026, 1, 2),   # Neujahr on a Thursday
    "Q2 2026": date(2026, 4, 1),   # Wednesday
    "Q3 2026": date(2026, 7, 1),   # Wednesday
    "Q4 2026": date(2026, 10, 1),  # Thursday
    "Q1 2027": date(2027, 1, 4),   # Neujahr on a Friday, then the weekend
    "Q2 2027": date(2027, 4, 1),
}


def test_quarterly_posts_cover_every_quarter_of_the_programme() -> None:
    posts = quarterly_posts(PLAN, TZ)
    assert [p.key for p in posts] == [f"quarterly:{q}" for q in QUARTER_DAYS]
    for p, (quarter, day) in zip(posts, QUARTER_DAYS.items(), strict=True):
        assert (p.kind, p.subject) == ("quarterly", quarter)
        assert p.at == local(day.year, day.month, day.day, 8)
        assert p.at.tzinfo == TZ
        assert is_working_day(p.at.date(), "SN")
        assert p.useful_until == p.at + timedelta(days=14)
        assert quarter in p.title


def test_quarterly_posts_are_at_eight_local_in_winter_and_summer_time() -> None:
    posts = by_key(quarterly_posts(PLAN, TZ))
    winter, summer = posts["quarterly:Q1 2027"].at, posts["quarterly:Q3 2026"].at
    assert winter.astimezone(UTC) == datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
    assert summer.astimezone(UTC) == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def test_a_full_year_of_planned_quarterly_posts() -> None:
    posts = planned_posts(PLAN, [], TZ, local(2026, 1, 1), local(2026, 12, 31, 23, 59, 59))
    quarterly = [p for p in posts if p.kind == "quarterly"]
    assert [(p.key, p.at) for p in quarterly] == [
        ("quarterly:Q1 2026", local(2026, 1, 2, 8)),
        ("quarterly:Q2 2026", local(2026, 4, 1, 8)),
        ("quarterly:Q3 2026", local(2026, 7, 1, 8)),
        ("quarterly:Q4 2026", local(2026, 10, 1, 8)),
    ]


def test_new_year_holiday_moves_q1_2027_to_monday_4_january() -> None:
    post = by_key(quarterly_posts(PLAN, TZ))["quarterly:Q1 2027"]
    assert post.at == local(2027, 1, 4, 8)
    assert post.at.strftime("%A") == "Monday"


def test_quarter_start_on_a_weekend_moves_to_monday() -> None:
    plan = variant((PROGRAMME_END, 'end = "Q4 2028"              # chart header'))
    posts = by_key(quarterly_posts(plan, TZ))
    assert len(posts) == 16
    assert posts["quarterly:Q2 2028"].at == local(2028, 4, 3, 8)   # 1 April: Saturday
    assert posts["quarterly:Q3 2028"].at == local(2028, 7, 3, 8)   # 1 July: Saturday
    assert posts["quarterly:Q4 2028"].at == local(2028, 10, 2, 8)  # 1 October: Sunday


def test_planned_posts_include_both_ends_and_come_in_time_order() -> None:
    at = local(2026, 10, 1, 8)
    assert "quarterly:Q4 2026" in by_key(planned_posts(PLAN, [], TZ, at, at))
    assert "quarterly:Q4 2026" not in by_key(
        planned_posts(PLAN, [], TZ, at - timedelta(hours=1), at - timedelta(seconds=1)))
    year = planned_posts(PLAN, [], TZ, local(2026, 1, 1), local(2027, 1, 1))
    assert [p.at for p in year] == sorted(p.at for p in year)
    assert len({p.key for p in year}) == len(year)


# -- milestone reminders and overdue notices --------------------------------------


def test_reminders_28_and_7_days_before_each_open_milestone() -> None:
    posts = by_key(milestone_posts(PLAN, TZ, []))
    for m in PLAN.milestones:
        due_start = datetime.combine(m.due, time(0), TZ)
        for days in (28, 7):
            post = posts[f"milestone:{m.id}:{days}"]
            expected = m.due - timedelta(days=days)
            assert post.at == local(expected.year, expected.month, expected.day, 8)
            assert (post.kind, post.subject, post.number) == ("milestone", m.id, days)
            assert post.useful_until == due_start


def test_reminders_of_leitbild_beschlossen() -> None:
    posts = by_key(milestone_posts(PLAN, TZ, []))
    assert posts["milestone:M2.1:28"].at == local(2026, 3, 3, 8)
    assert posts["milestone:M2.1:7"].at == local(2026, 3, 24, 8)
    assert posts["milestone:M2.1:7"].useful_until == local(2026, 3, 31)


def test_milestone_reached_the_day_before_its_reminder_gets_no_posts() -> None:
    marks = [reached("M3.3", date(2026, 12, 2))]  # first reminder: 3 December 2026
    posts = planned_posts(PLAN, marks, TZ, local(2026, 11, 1), local(2027, 12, 31))
    assert [p.key for p in posts if p.subject == "M3.3"] == []
    others = {p.subject for p in posts if p.kind in ("milestone", "overdue")}
    assert others == {"M3.4", "M13.1"}
    assert [p for p in milestone_posts(PLAN, TZ, ["M3.3"]) if p.subject == "M3.3"] == []


def test_withdrawn_mark_brings_the_reminders_back() -> None:
    marks = [reached("M3.3", date(2026, 12, 2), withdrawn=True)]
    posts = by_key(planned_posts(PLAN, marks, TZ, local(2026, 11, 1), local(2027, 3, 31)))
    assert {"milestone:M3.3:28", "milestone:M3.3:7", "overdue:M3.3:1"} <= set(posts)


def test_overdue_series_four_notices_every_14_days() -> None:
    # M3.3 is due 31.12.2026; 1 January is a holiday, 2/3 January a weekend.
    posts = planned_posts(PLAN, [], TZ, local(2026, 12, 31), local(2027, 12, 31))
    overdue = [p for p in posts if p.kind == "overdue" and p.subject == "M3.3"]
    assert [(p.key, p.at) for p in overdue] == [
        ("overdue:M3.3:1", local(2027, 1, 4, 8)),
        ("overdue:M3.3:2", local(2027, 1, 18, 8)),
        ("overdue:M3.3:3", local(2027, 2, 1, 8)),
        ("overdue:M3.3:4", local(2027, 2, 15, 8)),
    ]
    assert [p.number for p in overdue] == [1, 2, 3, 4]
    assert all(p.useful_until == p.at + timedelta(days=14) for p in overdue)


def test_no_overdue_notice_after_the_fourth() -> None:
    posts = planned_posts(PLAN, [], TZ, local(2027, 2, 15, 8, 0, 1), local(2027, 6, 1))
    assert [p.key for p in posts if p.subject == "M3.3"] == []


def test_first_overdue_notice_skips_new_year() -> None:
    posts = by_key(milestone_posts(PLAN, TZ, []))  # M3.1 due 31.12.2025 (Wednesday)
    assert posts["overdue:M3.1:1"].at == local(2026, 1, 2, 8)
    assert posts["overdue:M3.1:4"].at == local(2026, 2, 13, 8)


def test_overdue_notice_on_a_holiday_moves_to_the_next_working_day() -> None:
    # due Thu 10.12.2026 → Fri 11.12.; +14 days = Fri 25.12. (Christmas, then 26.12. and a
    # Sunday) → Mon 28.12.; the series goes on 14 days from each notice.
    plan = variant((M33_DUE, M33_DUE.replace('"Q4 2026"', '"2026-12-10"')))
    overdue = [p for p in milestone_posts(plan, TZ, [])
               if p.kind == "overdue" and p.subject == "M3.3"]
    assert [p.at for p in overdue] == [local(2026, 12, 11, 8), local(2026, 12, 28, 8),
                                       local(2027, 1, 11, 8), local(2027, 1, 25, 8)]
    assert all(is_working_day(p.at.date(), "SN") for p in overdue)


def test_overdue_max_from_the_plan() -> None:
    plan = variant(("overdue_max = 4 ", "overdue_max = 2 "))
    keys = [p.key for p in milestone_posts(plan, TZ, []) if p.subject == "M2.1"]
    assert keys == ["milestone:M2.1:28", "milestone:M2.1:7", "overdue:M2.1:1", "overdue:M2.1:2"]


# -- meeting summaries -------------------------------------------------------------


def test_team_meeting_summaries_an_hour_before_each_occurrence() -> None:
    posts = meeting_posts(PLAN, TZ, local(2026, 10, 1), local(2026, 10, 31, 23, 59))
    jour_fixe = [p for p in posts if p.subject == "jour-fixe"]
    assert [p.occurrence for p in jour_fixe] == [local(2026, 10, d, 10) for d in (6, 13, 20, 27)]
    for p in jour_fixe:
        assert p.kind == "meeting"
        assert p.occurrence is not None
        assert p.at == p.occurrence - timedelta(hours=1)
        assert p.useful_until == p.occurrence
        assert p.key == f"meeting:jour-fixe:{p.occurrence:%Y-%m-%dT%H:%M:%S}"


def test_steering_summary_a_day_before() -> None:
    posts = meeting_posts(PLAN, TZ, local(2026, 10, 1), local(2026, 10, 31))
    [steering] = [p for p in posts if p.subject == "steuerungsgruppe"]
    assert steering.occurrence == local(2026, 10, 14, 14)  # second Wednesday
    assert steering.at == local(2026, 10, 13, 14)
    assert steering.key == "meeting:steuerungsgruppe:2026-10-14T14:00:00"


def test_meeting_keys_are_unique_per_occurrence() -> None:
    posts = meeting_posts(PLAN, TZ, local(2025, 1, 1), local(2027, 6, 30))
    keys = [p.key for p in posts]
    assert len(keys) == len(set(keys))
    assert len([p for p in posts if p.subject == "steuerungsgruppe"]) == 10


def test_weekly_meeting_stays_at_ten_across_the_autumn_change() -> None:
    posts = meeting_posts(PLAN, TZ, local(2026, 10, 19), local(2026, 10, 28))
    before, after = (p for p in posts if p.subject == "jour-fixe")
    assert before.occurrence is not None and after.occurrence is not None
    for p in (before, after):
        assert p.occurrence is not None
        assert p.occurrence.astimezone(TZ).time() == time(10)
        assert p.at.astimezone(TZ).time() == time(9)
    assert before.occurrence.utcoffset() == timedelta(hours=2)
    assert after.occurrence.utcoffset() == timedelta(hours=1)
    assert after.at.astimezone(UTC) - before.at.astimezone(UTC) == timedelta(days=7, hours=1)


def test_no_post_of_the_shipped_plan_between_two_and_three() -> None:
    posts = planned_posts(PLAN, [], TZ, local(2025, 1, 1), local(2027, 12, 31))
    assert posts
    assert [p.key for p in posts if in_dst_hour(p.at)] == []


EARLY_MEETING = variant((JOUR_FIXE, 'rrule = "FREQ=DAILY"\ndtstart = "2025-01-07T03:30"'))


def test_summary_that_would_fall_between_two_and_three_moves_to_five_to_two() -> None:
    posts = [p for p in meeting_posts(EARLY_MEETING, TZ, local(2026, 10, 20), local(2026, 10, 31))
             if p.subject == "jour-fixe"]
    assert len(posts) == 11
    assert [p.key for p in posts if in_dst_hour(p.at)] == []
    by_day = {p.at.date(): p for p in posts}
    change = by_day[date(2026, 10, 25)]  # 03:30 CET, 02:30 happens twice that night
    assert change.at == local(2026, 10, 25, 1, 55)
    assert change.at.utcoffset() == timedelta(hours=2)  # still summer time at 01:55
    assert change.occurrence == local(2026, 10, 25, 3, 30)
    assert all(p.at.astimezone(TZ).time() == time(1, 55) for p in posts)
    assert all(p.at < p.useful_until for p in posts)  # still before its meeting


def test_summary_moved_out_of_the_spring_gap_too() -> None:
    posts = [p for p in meeting_posts(EARLY_MEETING, TZ, local(2026, 3, 28), local(2026, 3, 30, 12))
             if p.subject == "jour-fixe"]
    assert [p.at for p in posts] == [local(2026, 3, 28, 1, 55), local(2026, 3, 29, 1, 55),
                                     local(2026, 3, 30, 1, 55)]


@pytest.mark.parametrize("clock", ["02:30", "02:00", "02:59"])
def test_daily_post_time_between_two_and_three_is_rejected(clock: str) -> None:
    with pytest.raises(PlanError) as err:
        variant(('post_time = "08:00"', f'post_time = "{clock}"'))
    assert err.value.field == "post_time"
    assert "Zeitumstellung" in str(err.value)


def test_post_time_at_three_is_accepted() -> None:
    plan = variant(('post_time = "08:00"', 'post_time = "03:00"'))
    assert by_key(quarterly_posts(plan, TZ))["quarterly:Q4 2026"].at == local(2026, 10, 1, 3)


def test_moved_summary_is_not_sent_before_three() -> None:
    # the scheduler's safety tick runs every 5 minutes, so a check at 02:35 happens
    decisions = due_posts(EARLY_MEETING, [], TZ, local(2026, 10, 24, 2, 35), set(),
                          since=local(2026, 10, 24, 2, 0), up_since=local(2026, 10, 20))
    assert [d.post.key for d in decisions] == []


# -- due_posts: what to send now, late, or skip ------------------------------------

Q4 = local(2026, 10, 1, 8)  # quarterly:Q4 2026


def decide(now: datetime, since: datetime, up_since: datetime,
           logged: set[str] | None = None, plan: Plan = PLAN,
           marks: list[MilestoneMark] | None = None) -> dict[str, tuple[str, bool]]:
    decisions = due_posts(plan, marks or [], TZ, now, logged or set(), since, up_since)
    return {d.post.key: (d.action, d.late) for d in decisions}


def test_post_missed_while_down_is_sent_late() -> None:
    got = decide(now=Q4 + timedelta(hours=1), since=Q4 - timedelta(hours=1),
                 up_since=Q4 + timedelta(minutes=30))
    assert got == {"quarterly:Q4 2026": ("send", True)}


def test_post_sent_by_the_timer_on_time_is_not_late() -> None:
    got = decide(now=Q4 + timedelta(seconds=10), since=Q4 - timedelta(hours=1),
                 up_since=Q4 - timedelta(days=1))
    assert got == {"quarterly:Q4 2026": ("send", False)}


def test_post_sent_more_than_five_minutes_after_its_time_is_late_even_when_up() -> None:
    up = Q4 - timedelta(days=1)
    assert decide(Q4 + LATE_AFTER, Q4 - timedelta(hours=1), up) == {
        "quarterly:Q4 2026": ("send", False)}
    assert decide(Q4 + LATE_AFTER + timedelta(seconds=1), Q4 - timedelta(hours=1), up) == {
        "quarterly:Q4 2026": ("send", True)}


def test_quarterly_post_within_14_days_is_still_sent() -> None:
    now = Q4 + timedelta(days=14)
    got = decide(now, since=Q4 - timedelta(hours=1), up_since=now)
    assert got["quarterly:Q4 2026"] == ("send", True)


def test_quarterly_post_20_days_ago_is_skipped() -> None:
    now = Q4 + timedelta(days=20)
    got = decide(now, since=Q4 - timedelta(hours=1), up_since=now)
    assert got["quarterly:Q4 2026"] == ("skip", True)
    # the meetings of those 20 days are over: skipped as well, never sent
    assert all(action == "skip" for key, (action, _) in got.items() if key.startswith("meeting:"))


def test_milestone_reminder_is_sent_late_only_before_the_due_date() -> None:
    reminder = local(2026, 3, 24, 8)  # milestone:M2.1:7, due 31.03.2026
    since = reminder - timedelta(hours=1)
    before_due = local(2026, 3, 30, 23, 59)
    assert decide(before_due, since, before_due)["milestone:M2.1:7"] == ("send", True)
    after_due = local(2026, 3, 31, 0, 0, 1)
    assert decide(after_due, since, after_due)["milestone:M2.1:7"] == ("skip", True)
    later = local(2026, 4, 1, 9)
    got = decide(later, since, later)
    assert got["milestone:M2.1:7"] == ("skip", True)
    assert got["overdue:M2.1:1"] == ("send", True)


def test_overdue_notice_within_14_days() -> None:
    notice = local(2026, 4, 1, 8)  # overdue:M2.1:1
    since = notice - timedelta(hours=1)
    assert decide(notice + timedelta(days=14), since, notice)["overdue:M2.1:1"] == ("send", True)
    now = notice + timedelta(days=14, seconds=1)
    got = decide(now, since, now)
    assert got["overdue:M2.1:1"] == ("skip", True)
    assert got["overdue:M2.1:2"] == ("send", True)


def test_meeting_summary_is_sent_late_only_before_the_meeting() -> None:
    summary, meeting = local(2026, 10, 6, 9), local(2026, 10, 6, 10)
    key = "meeting:jour-fixe:2026-10-06T10:00:00"
    since = summary - timedelta(hours=1)
    almost = meeting - timedelta(minutes=1)
    assert decide(almost, since, almost)[key] == ("send", True)
    assert decide(meeting, since, meeting)[key] == ("send", True)
    started = meeting + timedelta(minutes=1)
    assert decide(started, since, started)[key] == ("skip", True)


def test_logged_keys_are_not_returned() -> None:
    now = Q4 + timedelta(days=20)
    since = Q4 - timedelta(hours=1)
    everything = decide(now, since, now)
    assert len(everything) > 1
    assert decide(now, since, now, logged=set(everything)) == {}
    some = {"quarterly:Q4 2026"}
    assert set(decide(now, since, now, logged=some)) == set(everything) - some


def test_nothing_due_outside_since_now() -> None:
    assert decide(Q4 - timedelta(minutes=1), Q4 - timedelta(hours=1), Q4 - timedelta(days=1)) == {}
    assert decide(Q4 + timedelta(hours=2), Q4 + timedelta(minutes=1), Q4 - timedelta(days=1)) == {}


def test_reached_milestone_is_not_due() -> None:
    reminder = local(2026, 12, 3, 8)
    marks = [reached("M3.3", date(2026, 12, 2))]
    got = decide(reminder + timedelta(seconds=5), reminder - timedelta(hours=1),
                 reminder - timedelta(days=1), marks=marks)
    assert got == {}
    got = decide(reminder + timedelta(seconds=5), reminder - timedelta(hours=1),
                 reminder - timedelta(days=1))
    assert got == {"milestone:M3.3:28": ("send", False)}


# -- next_post_time and first_look_back --------------------------------------------


def test_next_post_time_is_the_next_post_strictly_after_now() -> None:
    assert next_post_time(PLAN, [], TZ, local(2026, 6, 30, 8, 59)) == local(2026, 6, 30, 9)
    # 09:00 is the jour fixe summary itself; next: Q3 overview and first overdue notice of M3.2
    assert next_post_time(PLAN, [], TZ, local(2026, 6, 30, 9)) == local(2026, 7, 1, 8)


def test_next_post_time_looks_beyond_a_week() -> None:
    plan = without_meetings()
    # after the Q2 2027 overview: the Zwischennachweis 2026 (due 30 April) 28 days before
    assert next_post_time(plan, [], TZ, local(2027, 4, 1, 8)) == local(2027, 4, 2, 8)
    # after its 7-day reminder the next post is the reminder for M3.4/M13.1 on 2 June
    assert next_post_time(plan, [], TZ, local(2027, 4, 23, 8)) == local(2027, 6, 2, 8)


def test_next_post_time_skips_reached_milestones() -> None:
    plan = without_meetings()
    marks = [reached("M3.3", date(2026, 11, 20))]
    # open: reminder for M3.3 on 3 December; reached: the next post is Q1 2027's overview
    assert next_post_time(plan, [], TZ, local(2026, 11, 26, 12)) == local(2026, 12, 3, 8)
    assert next_post_time(plan, marks, TZ, local(2026, 11, 26, 12)) == local(2027, 1, 4, 8)


def test_next_post_time_none_when_nothing_is_left() -> None:
    plan = without_meetings()
    # after the programme only the Verwendungsnachweis (due 31.12.2027) is recalled
    assert next_post_time(plan, [], TZ, local(2027, 8, 12, 8)) == local(2027, 12, 3, 8)
    assert next_post_time(plan, [], TZ, local(2027, 12, 24, 8)) is None


def test_first_look_back_covers_the_longest_window() -> None:
    assert first_look_back(PLAN) == timedelta(days=28)  # reminder 28 days before due
    short = variant(("reminder_days = [28, 7]", "reminder_days = [7]"))
    assert first_look_back(short) == timedelta(days=14)  # quarterly and overdue windows
    steering = replace(PLAN.meetings[1], summary_before=timedelta(days=30))
    long_summary = replace(PLAN, meetings=(PLAN.meetings[0], steering))
    assert first_look_back(long_summary) == timedelta(days=30)
    huge = replace(PLAN, programme=replace(PLAN.programme, reminder_days=(999_999_999,)))
    assert first_look_back(huge) == MAX_LOOK_BACK


def test_summary_at_the_meeting_start_is_refused_by_the_plan() -> None:
    # A summary due when the meeting starts would be too late by the time it is read.
    with pytest.raises(PlanError) as err:
        variant(("summary_before_minutes = 60", "summary_before_minutes = 0"))
    assert err.value.field == "summary_before_minutes"


def test_a_reminder_already_sent_comes_again_when_its_milestone_moves() -> None:
    """Issue 13: the team moves M2.1; its 7-day reminder is planned for the new date."""
    sent_for_old = {"milestone:M2.1:7": local(2026, 3, 24, 8)}  # sent for 31.03.2026
    moved = replace(PLAN, milestones=tuple(
        replace(m, due=date(2026, 4, 30)) if m.id == "M2.1" else m for m in PLAN.milestones))
    at_new = local(2026, 4, 23, 8)
    decisions = due_posts(moved, [], TZ, at_new + timedelta(minutes=1), sent_for_old,
                          at_new - timedelta(minutes=5), at_new - timedelta(days=1))
    assert [(d.post.key, d.action) for d in decisions] == [
        ("deadline:ZN2025:7", "send"),  # the Zwischennachweis 2025 is due on 30 April, too
        ("milestone:M2.1:7", "send")]
    # Logged for the time it has now: done.
    again = due_posts(moved, [], TZ, at_new + timedelta(minutes=1),
                      {"milestone:M2.1:7": at_new, "deadline:ZN2025:7": at_new},
                      at_new - timedelta(minutes=5), at_new - timedelta(days=1))
    assert again == []
