"""End-to-end: a meeting run from the chat through the real process and the fake Bot API.

The agenda is collected and the briefing before the meeting shows it; decisions and action
items are taken while it runs; the minutes are posted once at its end (also when apbot was
down then: caught up once, marked "(nachgeholt)"); an action item is reminded on its day
and done by button or by a reply. Each process runs at a controlled `now`
(tests/clocked_bot.py), so nothing waits for the machine's date.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.bot_process import MEMBER_ID, BotProcess
from tests.fake_bot_api import DEFAULT_GROUP_ID, Call, FakeBotAPI
from tests.test_e2e_posts import TITLE, at, plan_with_meeting

pytestmark = pytest.mark.e2e
BERLIN = ZoneInfo("Europe/Berlin")
MEETING = datetime(2026, 11, 26, 11, 0, tzinfo=BERLIN)  # "probe": 30 minutes, summary 1 before
SUMMARY = MEETING - timedelta(minutes=1)


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(can_read_all_group_messages=True) as fake:
        yield fake


def texts(api: FakeBotAPI, needle: str) -> list[str]:
    return [str(m["text"]) for m in api.sent_messages(DEFAULT_GROUP_ID)
            if needle in str(m.get("text", ""))]


def answer(api: FakeBotAPI, needle: str) -> Call:
    return api.wait_for("sendMessage", timeout=15, predicate=lambda c: c.ok and needle in str(
        c.params.get("text", "")))[-1]


def test_agenda_briefing_minutes_at_the_end_and_done_by_button(api: FakeBotAPI,
                                                               tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    start = SUMMARY - timedelta(seconds=6)  # room for the start-up and two messages
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log", now=start,
                    APBOT_PLAN=str(plan)) as bot:
        api.push_message("TOP: Haushalt 2027", date=at(start))
        api.wait_for_text("TOP 1 für Jour fixe Probelauf")
        api.push_message("/top AP4 Portal-Relaunch", user_id=MEMBER_ID, first_name="Ben",
                         date=at(start))
        api.wait_for_text("TOP 2 für Jour fixe Probelauf")
        # The briefing before the meeting, posted on its own, has the agenda on top.
        briefing = answer(api, f"<b>{TITLE}</b>").params["text"]
        assert "1. Haushalt 2027 – Anna" in briefing
        assert "2. Portal-Relaunch (AP 4) – Ben" in briefing
        assert "(nachgeholt)" not in briefing
        # Started by command before its time; minutes taken; ended by command.
        api.push_message("/sitzung_start", date=at(bot.clock()))
        api.wait_for_text("beginnt")
        api.push_message("Beschluss: Haushalt wird im Januar vorgelegt", date=at(bot.clock()))
        api.wait_for_text("Beschluss Nr. 1")
        api.push_message("Aufgabe: @ben bis 15.12. Einladung BiKo versenden (AP3)",
                         date=at(bot.clock()))
        task = answer(api, "Aufgabe Nr. 2")
        assert "Verantwortlich: @ben · bis Di., 15.12.2026" in task.params["text"]
        api.push_message("TOP 1 besprochen", date=at(bot.clock()))
        api.wait_for_text("TOP 1 besprochen")
        api.push_message("/sitzung_ende", date=at(bot.clock()))
        minutes = answer(api, "Protokoll: Jour fixe Probelauf").params["text"]
        for needle in ("Haushalt wird im Januar vorgelegt", "@ben: Einladung BiKo versenden "
                       "(AP 3) – bis Di., 15.12.2026", "1. Haushalt 2027 – Anna ✓ besprochen",
                       "2. Portal-Relaunch (AP 4) – Ben → vertagt"):
            assert needle in minutes
        assert "(nachgeholt)" not in minutes
        # Erledigt by button: by its owner (Ben, @ben).
        api.click_button(task.result, "Erledigt", user_id=MEMBER_ID, first_name="Ben",
                         username="ben")
        edited = api.wait_for("editMessageText", timeout=15)[0]
        assert "Aufgabe Nr. 2 erledigt" in edited.params["text"]
        api.push_message("/aufgaben", date=at(bot.clock()))  # one more round trip: room
        api.wait_for_text("Offene Aufgaben: keine")          # for a second post to show
        assert len(texts(api, "Protokoll: Jour fixe Probelauf")) == 1
    assert bot.log().count("posted minutes:probe") == 1


def test_minutes_missed_while_down_are_caught_up_once(api: FakeBotAPI, tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)  # "probe" runs 11:00–11:30
    data, log = tmp_path / "data", tmp_path / "bot.log"
    during = MEETING + timedelta(minutes=10)
    with BotProcess(api, data, log, now=during, APBOT_PLAN=str(plan)):
        api.push_message("Beschluss: Flyer in drei Sprachen", date=at(during))
        api.wait_for_text("ins Protokoll Jour fixe Probelauf")
    after = MEETING + timedelta(minutes=45)  # down at 11:30: caught up at the next start
    with BotProcess(api, data, log, now=after, APBOT_PLAN=str(plan)):
        minutes = answer(api, "Protokoll: Jour fixe Probelauf").params["text"]
    assert "(nachgeholt)" in minutes and "Flyer in drei Sprachen" in minutes
    later = after + timedelta(minutes=5)
    with BotProcess(api, data, log, now=later, APBOT_PLAN=str(plan)) as bot:
        api.push_message("/status AP3", date=at(later))  # the start-up check has run
        api.wait_for_text("Bildungskonferenzen")          # by the time it answers
    assert len(texts(api, "Protokoll: Jour fixe Probelauf")) == 1
    assert bot.log().count("posted minutes:probe") == 1


def test_task_reminder_on_its_day_and_erledigt_as_a_reply(api: FakeBotAPI,
                                                          tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    evening = datetime(2026, 11, 26, 17, 0, tzinfo=BERLIN)  # a Thursday
    with BotProcess(api, data, log, now=evening):
        api.push_message("/aufgabe ich bis morgen Raum für die BiKo buchen", date=at(evening))
        api.wait_for_text("Aufgabe Nr. 1")
    morning = datetime(2026, 11, 27, 8, 0, tzinfo=BERLIN) - timedelta(seconds=5)
    with BotProcess(api, data, log, now=morning):
        started = time.monotonic()
        reminder = answer(api, "Aufgabe Nr. 1 ist heute fällig")
        took = time.monotonic() - started
        assert "Anna: Raum für die BiKo buchen" in reminder.params["text"]
        assert "(nachgeholt)" not in reminder.params["text"]
        assert took < 10, f"due 2 s after the start, posted after {took:.1f} s"
        api.push_message("erledigt", reply_to_message=reminder.result, date=at(morning))
        api.wait_for_text("Aufgabe Nr. 1 erledigt")
    assert len(texts(api, "Aufgabe Nr. 1 ist heute fällig")) == 1
