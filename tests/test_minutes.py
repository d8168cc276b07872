"""The minutes parser, sittings, carry-over of agenda items and the posts about meetings."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from workflows.minutes import (
    DECISION,
    INFO,
    TASK,
    AgendaItem,
    Entry,
    MeetingWork,
    Parsed,
    Problem,
    Session,
    agenda_of,
    find_sitting,
    next_occurrence,
    owned_by,
    parse_entry,
    prefix_of,
    running_sitting,
)
from workflows.plan import Plan
from workflows.posts import due_posts, minutes_posts, planned_posts, task_posts
from workflows.progress import Author

TZ = ZoneInfo("Europe/Berlin")
TODAY = date(2026, 12, 1)  # a Tuesday: the Jour fixe of the test plan meets at 10:00
APS = {f"AP{n}" for n in range(1, 14)}
ANNA = Author("2", "Anna Schmidt")
JF = datetime(2026, 12, 1, 10, 0, tzinfo=TZ)


def read(text: str) -> Parsed | Problem | None:
    found = prefix_of(text)
    if found is None:
        return None
    return parse_entry(found[0], found[1], TODAY, APS)


# (message, expected: kind, text, AP, owner, "ich", due) – or None (not minutes), or a
# Problem's words.
CASES: list[tuple[str, Any]] = [
    ("Beschluss: Der Haushalt wird im Januar vorgelegt",
     (DECISION, "Der Haushalt wird im Januar vorgelegt", None, None, False, None)),
    ("Entscheidung: Wir nehmen den großen Saal",
     (DECISION, "Wir nehmen den großen Saal", None, None, False, None)),
    ("beschluss: kleinschreibung geht auch",
     (DECISION, "kleinschreibung geht auch", None, None, False, None)),
    ("Beschluss (AP2): Leitbild geht in den Stadtrat",
     (DECISION, "Leitbild geht in den Stadtrat", "AP2", None, False, None)),
    ("Beschluss zu AP 8: Pressemitteilung erst nach der BiKo",
     (DECISION, "Pressemitteilung erst nach der BiKo", "AP8", None, False, None)),
    ("Beschluss: AP3 bekommt zwei Termine", (DECISION, "AP3 bekommt zwei Termine", "AP3",
                                             None, False, None)),
    ("• Beschluss: Aufzählungszeichen stören nicht",
     (DECISION, "Aufzählungszeichen stören nicht", None, None, False, None)),
    ("Info: Das Portal geht im März live (AP4)",
     (INFO, "Das Portal geht im März live", "AP4", None, False, None)),
    ("INFO: Frau Weber ist ab Januar in Elternzeit",
     (INFO, "Frau Weber ist ab Januar in Elternzeit", None, None, False, None)),
    ("Aufgabe: @anna bis 15.12. Einladung BiKo versenden (AP3)",
     (TASK, "Einladung BiKo versenden", "AP3", "@anna", False, date(2026, 12, 15))),
    ("Aufgabe: ich bis Freitag Raum buchen",
     (TASK, "Raum buchen", None, None, True, date(2026, 12, 4))),
    ("ToDo: @bert Protokoll der Steuerungsgruppe rumschicken",
     (TASK, "Protokoll der Steuerungsgruppe rumschicken", None, "@bert", False, None)),
    ("To-do: Anna: Flyer drucken bis morgen",
     (TASK, "Flyer drucken", None, "Anna", False, date(2026, 12, 2))),
    ("Todo: für Bert: Catering anfragen",
     (TASK, "Catering anfragen", None, "Bert", False, None)),
    ("Aufgabe: Anna kümmert sich um den Beamer",
     (TASK, "Anna kümmert sich um den Beamer", None, "Anna", False, None)),
    ("Aufgabe: Einladungen verschicken @carla bis 20.12.2026",
     (TASK, "Einladungen verschicken", None, "@carla", False, date(2026, 12, 20))),
    ("Aufgabe: @anna bis zum 15. Januar Bericht Fachkräfte gliedern (AP13)",
     (TASK, "Bericht Fachkräfte gliedern", "AP13", "@anna", False, date(2027, 1, 15))),
    ("Aufgabe: @anna bis Ende der Woche Raumplan",
     (TASK, "Raumplan", None, "@anna", False, date(2026, 12, 4))),
    ("Aufgabe: @anna bis nächste Woche Entwurf schicken",
     (TASK, "Entwurf schicken", None, "@anna", False, date(2026, 12, 11))),
    ("Aufgabe: @anna bis Monatsende Zahlen liefern",
     (TASK, "Zahlen liefern", None, "@anna", False, date(2026, 12, 31))),
    ("Aufgabe: @anna bis heute Abstimmung mit Kita-Träger",
     (TASK, "Abstimmung mit Kita-Träger", None, "@anna", False, TODAY)),
    ("Aufgabe: @anna bis 10.1. Antrag prüfen",  # no year, the date passed: next January
     (TASK, "Antrag prüfen", None, "@anna", False, date(2027, 1, 10))),
    ("Aufgabe: @anna bis KW 51 Umfrage auswerten",
     (TASK, "Umfrage auswerten", None, "@anna", False, date(2026, 12, 18))),
    ("Aufgabe: @anna bis Dienstag Rückmeldung",  # said on a Tuesday: next week's
     (TASK, "Rückmeldung", None, "@anna", False, date(2026, 12, 8))),
    ("Aufgabe: @anna Raum von 10 bis 12 Uhr buchen",  # "bis 12 Uhr" is no due date
     (TASK, "Raum von 10 bis 12 Uhr buchen", None, "@anna", False, None)),
    ("Aufgabe: Programm entwerfen (AP 10)",  # nobody named: the author, said in the reply
     (TASK, "Programm entwerfen", "AP10", None, False, None)),
    # not minutes at all
    ("AP3: Einladungen verschickt", None),
    ("Beschlussvorlage kommt nächste Woche", None),
    ("Info zu AP3 folgt", None),
    ("Die Aufgabe: war schwer", None),
    # bad input: one sentence, nothing taken
    ("Beschluss:", "ohne Text"),
    ("Beschluss:   ", "ohne Text"),
    ("Info: (AP3)", "ohne Text"),
    ("Aufgabe: @anna bis Freitag", "ohne Text"),
    ("Aufgabe: @anna bis 15.12. Einladung versenden (AP17)", "AP 17 gibt es nicht"),
    ("Beschluss (AP 99): Quatsch", "AP 99 gibt es nicht"),
    ("Aufgabe: @anna bis 01.12.2025 Flyer", "liegt in der Vergangenheit"),
    ("Aufgabe: @anna bis 20.11. Flyer", "liegt in der Vergangenheit"),
    ("Aufgabe: @anna bis Sankt Nimmerlein Flyer drucken", "verstehe ich nicht als Datum"),
    ("Aufgabe: Flyer drucken bis Sankt Nimmerlein", "verstehe ich nicht als Datum"),
    ("Aufgabe: @anna bis 31.02. Flyer", "kein gültiges Datum"),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_minutes_parser(text: str, expected: Any) -> None:
    got = read(text)
    if expected is None:
        assert got is None
    elif isinstance(expected, str):
        assert isinstance(got, Problem), got
        assert expected in got.text and "nichts gespeichert" in got.text
    else:
        assert isinstance(got, Parsed), got
        kind, body, ap, owner, me, due = expected
        assert (got.kind, got.text, got.ap, got.owner, got.owner_is_author, got.due) == (
            kind, body, ap, owner, me, due)


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 30


def test_agenda_prefix_is_told_apart() -> None:
    assert prefix_of("TOP: Haushalt 2027") == ("top", "Haushalt 2027")
    assert prefix_of("top:AP4 Portal") == ("top", "AP4 Portal")
    assert prefix_of("Topthema heute") is None


def test_owner_is_matched_by_id_handle_or_first_name() -> None:
    base = Entry(TASK, "x", ANNA, JF)
    assert owned_by(Entry(TASK, "x", ANNA, JF, owner="Anna Schmidt", owner_id="2"), "2", "A",
                    None)
    assert owned_by(Entry(TASK, "x", ANNA, JF, owner="@anna"), "7", "Anna S", "Anna")
    assert not owned_by(Entry(TASK, "x", ANNA, JF, owner="@anna"), "7", "Anna S", None)
    assert owned_by(Entry(TASK, "x", ANNA, JF, owner="Bert"), "3", "Bert Berg", "bb")
    assert not owned_by(Entry(TASK, "x", ANNA, JF, owner="Bert"), "2", "Anna Schmidt", "anna")
    assert not owned_by(base, "2", "Anna Schmidt", "anna")  # nobody owns it


# -------------------------------------------------------------- sittings and carry-over


def item(text: str, occurrence: datetime, n: int, dealt: datetime | None = None,
         meeting: str = "jour-fixe") -> AgendaItem:
    return AgendaItem(meeting, occurrence, text, ANNA, occurrence - timedelta(days=2),
                      dealt_at=dealt, id=n)


def test_items_not_dealt_with_carry_over_to_the_next_meeting_of_the_series() -> None:
    first, second, third = JF, JF + timedelta(days=7), JF + timedelta(days=14)
    items = [item("Haushalt", first, 1, dealt=first), item("Portal", first, 2),
             item("Leitbild", second, 3), item("Fremd", first, 4, meeting="steuerungsgruppe"),
             item("Alt erledigt", first, 5, dealt=second)]
    at_first = agenda_of(items, "jour-fixe", first)
    assert [(ln.number, ln.item.text, ln.carried, ln.dealt_here) for ln in at_first] == [
        (1, "Haushalt", False, True), (2, "Portal", False, False),
        (3, "Alt erledigt", False, False)]
    at_second = agenda_of(items, "jour-fixe", second)
    assert [(ln.item.text, ln.carried, ln.dealt_here) for ln in at_second] == [
        ("Portal", True, False), ("Alt erledigt", True, True), ("Leitbild", False, False)]
    at_third = agenda_of(items, "jour-fixe", third)
    assert [(ln.item.text, ln.carried) for ln in at_third] == [("Portal", True),
                                                                ("Leitbild", True)]
    withdrawn = [AgendaItem("jour-fixe", first, "weg", ANNA, first, withdrawn=True, id=9)]
    assert agenda_of(withdrawn, "jour-fixe", second) == []


def test_a_meeting_runs_for_its_duration_or_between_start_and_end(plan: Plan) -> None:
    assert running_sitting(plan, [], TZ, JF - timedelta(minutes=1)) is None
    running = running_sitting(plan, [], TZ, JF + timedelta(minutes=59))
    assert running is not None and running.meeting.id == "jour-fixe"
    assert running_sitting(plan, [], TZ, JF + timedelta(minutes=60)) is None
    # Started early by command, running long: until /sitzung_ende.
    started = Session("jour-fixe", JF, started=JF - timedelta(minutes=10))
    assert running_sitting(plan, [started], TZ, JF - timedelta(minutes=5)) is not None
    assert running_sitting(plan, [started], TZ, JF + timedelta(minutes=90)) is not None
    ended = Session("jour-fixe", JF, started=started.started, ended=JF + timedelta(minutes=95))
    assert running_sitting(plan, [ended], TZ, JF + timedelta(minutes=96)) is None
    # Started late: it still covers its planned start (reports since then count).
    late = Session("jour-fixe", JF, started=JF + timedelta(minutes=5))
    found = running_sitting(plan, [late], TZ, JF + timedelta(minutes=6))
    assert found is not None and found.start == JF
    # Ended early: no longer running by the clock either.
    early = Session("jour-fixe", JF, ended=JF + timedelta(minutes=20))
    assert running_sitting(plan, [early], TZ, JF + timedelta(minutes=30)) is None


def test_the_teams_next_meeting_is_the_next_team_meeting(plan: Plan) -> None:
    found = next_occurrence(plan, TZ, datetime(2026, 11, 26, 10, 0, tzinfo=TZ))
    assert found is not None and found[0].kind == "team" and found[1] == JF


# -------------------------------------------------------------- the posts


def task(n: int, due: date, at: datetime, **fields: Any) -> Entry:
    return Entry(TASK, f"Aufgabe {n}", ANNA, at, owner="@anna", due=due, id=n, **fields)


def test_a_reminder_on_the_working_day_an_item_is_due(plan: Plan) -> None:
    made = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
    work = MeetingWork(entries=(
        task(1, date(2026, 12, 4), made),  # a Friday
        task(2, date(2026, 12, 6), made),  # a Sunday: reminded on Friday
        task(3, date(2026, 12, 25), made),  # Christmas: reminded on the 24th
        task(4, date(2026, 12, 4), made, done_at=made + timedelta(days=1)),
        task(5, date(2026, 11, 26), made),  # due the day it was agreed, after 08:00: none
        task(6, date(2026, 12, 4), made, withdrawn=True),
    ))
    posts = task_posts(plan, work, TZ, made, made + timedelta(days=40))
    assert [(p.key, p.at) for p in posts] == [
        ("task:1:2026-12-04", datetime(2026, 12, 4, 8, 0, tzinfo=TZ)),
        ("task:2:2026-12-06", datetime(2026, 12, 4, 8, 0, tzinfo=TZ)),
        ("task:3:2026-12-25", datetime(2026, 12, 24, 8, 0, tzinfo=TZ)),
    ]
    assert posts[0].useful_until.date() == date(2026, 12, 4)


def test_reminders_are_sent_once_and_caught_up_late_on_their_day(plan: Plan) -> None:
    made = datetime(2026, 11, 26, 10, 0, tzinfo=TZ)
    work = MeetingWork(entries=(task(1, date(2026, 12, 4), made),))
    due_at = datetime(2026, 12, 4, 8, 0, tzinfo=TZ)
    since = due_at - timedelta(hours=1)
    on_time = due_posts(plan, [], TZ, due_at + timedelta(seconds=5), {}, since, since, work)
    sent = [d for d in on_time if d.post.kind == "task"]
    assert [(d.action, d.late) for d in sent] == [("send", False)]
    logged = {sent[0].post.key: sent[0].post.at}
    again = due_posts(plan, [], TZ, due_at + timedelta(minutes=5), logged, since, since, work)
    assert [d for d in again if d.post.kind == "task"] == []
    # apbot was down at 08:00 and came up at 11:00: sent then, marked late.
    up = datetime(2026, 12, 4, 11, 0, tzinfo=TZ)
    late = [d for d in due_posts(plan, [], TZ, up, {}, since, up, work) if d.post.kind == "task"]
    assert [(d.action, d.late) for d in late] == [("send", True)]
    # Up only the next day: the reminder is no use any more.
    next_day = datetime(2026, 12, 5, 9, 0, tzinfo=TZ)
    skipped = [d for d in due_posts(plan, [], TZ, next_day, {}, since, next_day, work)
               if d.post.kind == "task"]
    assert [d.action for d in skipped] == ["skip"]


def test_minutes_are_posted_at_a_sittings_end_when_minutes_were_taken(plan: Plan) -> None:
    decision = Entry(DECISION, "X", ANNA, JF + timedelta(minutes=5), "jour-fixe", JF, id=1)
    window = (JF - timedelta(hours=1), JF + timedelta(days=1))
    assert minutes_posts(plan, MeetingWork(), TZ, *window) == []
    posts = minutes_posts(plan, MeetingWork(entries=(decision,)), TZ, *window)
    assert [(p.key, p.at) for p in posts] == [("minutes:jour-fixe:2026-12-01T10:00:00",
                                               JF + timedelta(minutes=60))]
    ended = Session("jour-fixe", JF, ended=JF + timedelta(minutes=25))
    posts = minutes_posts(plan, MeetingWork(sessions=(ended,), entries=(decision,)), TZ,
                          *window)
    assert [p.at for p in posts] == [JF + timedelta(minutes=25)]
    # A sitting started by command at another time is minuted too, even with nothing taken.
    adhoc_at = datetime(2026, 12, 3, 15, 0, tzinfo=TZ)
    adhoc = Session("jour-fixe", adhoc_at, started=adhoc_at, ended=adhoc_at + timedelta(hours=1))
    posts = planned_posts(plan, [], TZ, adhoc_at, adhoc_at + timedelta(hours=2),
                          MeetingWork(sessions=(adhoc,)))
    assert [p.key for p in posts if p.kind == "minutes"] == [
        "minutes:jour-fixe:2026-12-03T15:00:00"]


def test_a_sitting_started_and_ended_before_its_planned_time_is_found(plan: Plan) -> None:
    early = Session("jour-fixe", JF, started=JF - timedelta(minutes=10),
                    ended=JF - timedelta(minutes=5))
    found = find_sitting(plan, [early], TZ, "jour-fixe", JF)
    assert found is not None and found.end == JF - timedelta(minutes=5)
    assert find_sitting(plan, [], TZ, "jour-fixe", JF + timedelta(hours=1)) is None
