"""End-to-end: automatic posts from the real process, on time, once, and caught up after a stop.

The process runs at a fixed date (tests/clocked_bot.py): its clock starts a moment
before a post is due, so a test waits a second or two, never for the machine's date.
The rules themselves are tested with injected times in test_posts.py and
test_post_runner.py.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.bot_process import BotProcess
from tests.conftest import TEST_PLAN
from tests.fake_bot_api import DEFAULT_GROUP_ID, FakeBotAPI

pytestmark = pytest.mark.e2e
BERLIN = ZoneInfo("Europe/Berlin")
TITLE = "Jour fixe Probelauf"
MEETING = datetime(2026, 11, 26, 11, 0, tzinfo=BERLIN)  # a Thursday; nothing else is due then
SUMMARY = MEETING - timedelta(minutes=1)  # plan_with_meeting: summarised 1 minute before


def seconds_before_summary(seconds: float) -> datetime:
    return SUMMARY - timedelta(seconds=seconds)


def at(moment: datetime) -> int:
    """A message date (Telegram's whole seconds) on the test's clock."""
    return int(moment.timestamp())


def plan_with_meeting(tmp_path: Path, meeting_at: datetime) -> Path:
    """The shipped plan with one team meeting at `meeting_at`, summarised 1 minute before."""
    shipped = TEST_PLAN.read_text(encoding="utf-8")
    without_meetings = shipped[: shipped.index("[[meeting]]")]
    local = meeting_at.astimezone(BERLIN).replace(tzinfo=None, microsecond=0)
    path = tmp_path / "plan.toml"
    path.write_text(without_meetings + f"""
[[meeting]]
id = "probe"
title = "{TITLE}"
kind = "team"
rrule = "FREQ=DAILY;COUNT=1"
dtstart = "{local.isoformat()}"
duration_minutes = 30
summary_before_minutes = 1
""", encoding="utf-8")
    return path


def summaries(api: FakeBotAPI) -> list[dict[str, object]]:
    return [m for m in api.sent_messages() if TITLE in str(m.get("text", ""))]


def wait_for_summaries(api: FakeBotAPI, count: int, timeout: float) -> list[dict[str, object]]:
    api.wait_for("sendMessage", timeout=timeout,
                 predicate=lambda c: c.ok and TITLE in str(c.params.get("text", "")))
    return summaries(api)


def test_meeting_summary_is_posted_once_on_time_despite_a_429(tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    # Due 5 s after the bot's clock starts: time for a slow start on a loaded machine,
    # with the report waiting at the first getUpdates.
    start = seconds_before_summary(5)
    with FakeBotAPI() as api:
        api.push_message("AP3: Tagesordnung verschickt, 30 %", date=at(start))
        bot = BotProcess(api, tmp_path / "data", tmp_path / "bot.log", now=start,
                         APBOT_PLAN=str(plan))
        with bot:
            started = time.monotonic()
            api.wait_for_text("gespeichert")
            api.fail_next("sendMessage", error_code=429, retry_after=1)  # the summary's
            posted = wait_for_summaries(api, 1, timeout=20)
            took = time.monotonic() - started
            api.push_message("/status AP3", date=at(start))  # one more round trip: room
            api.wait_for_text("Bildungskonferenzen")          # for a duplicate to show up
            assert len(summaries(api)) == 1
            text = str(posted[0]["text"])
            assert posted[0]["chat_id"] == DEFAULT_GROUP_ID
            assert "Tagesordnung verschickt" in text and "AP 3" in text
            assert "nachgeholt" not in text  # on time, not caught up as late
            # At most 5 s after polling began, plus the 429's second.
            assert took <= 12, f"due 5 s after the start, posted {took:.1f} s after polling"
            assert any(c.status == 429 for c in api.calls("sendMessage"))
    assert "posted meeting:probe" in bot.log()


def test_missed_post_is_caught_up_once_then_never_again(tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        with BotProcess(api, data, log, now=seconds_before_summary(30), APBOT_PLAN=str(plan)):
            pass  # up for a moment before the post's time, then stopped
        assert summaries(api) == []
        # Started again after the post's time, before the meeting: caught up, once.
        with BotProcess(api, data, log, now=SUMMARY + timedelta(seconds=20),
                        APBOT_PLAN=str(plan)):
            posted = wait_for_summaries(api, 1, timeout=15)
        assert len(posted) == 1
        assert "(nachgeholt)" in str(posted[0]["text"])
        later = SUMMARY + timedelta(seconds=40)
        with BotProcess(api, data, log, now=later, APBOT_PLAN=str(plan)) as bot:
            api.push_message("/status AP3", date=at(later))  # the start-up check has run
            api.wait_for_text("Bildungskonferenzen")          # by the time it answers
        assert len(summaries(api)) == 1
    assert len(re.findall(r"posted meeting:probe", bot.log())) == 1


def test_migrated_group_keeps_getting_posts(tmp_path: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    # The move waits for the first getUpdates; the post is due 5 s after the start, so
    # that a slow start on a loaded machine does not post before the move is read.
    start = seconds_before_summary(5)
    new_id = -1001234500000
    with FakeBotAPI() as api:
        api.push_update({"message": {
            "message_id": 5000, "date": at(start),
            "chat": {"id": DEFAULT_GROUP_ID, "type": "group", "title": "Team"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Anna"},
            "migrate_to_chat_id": new_id}})
        with BotProcess(api, tmp_path / "data", tmp_path / "bot.log", now=start,
                        APBOT_PLAN=str(plan)):
            api.push_message("/status AP3", chat_id=new_id, date=at(start))  # served at once
            api.wait_for_text("Bildungskonferenzen", chat_id=new_id)
            posted = wait_for_summaries(api, 1, timeout=20)
    assert posted[0]["chat_id"] == new_id
