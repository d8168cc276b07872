"""End-to-end: automatic posts from the real process, on time, once, and caught up after a stop.

These tests wait for real time (a post some seconds ahead); the rules themselves are
tested with injected times in test_posts.py and test_post_runner.py.
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
    meeting = datetime.now(BERLIN) + timedelta(seconds=75)  # summary due in ~15 s
    plan = plan_with_meeting(tmp_path, meeting)
    with FakeBotAPI() as api, BotProcess(api, tmp_path / "data", tmp_path / "bot.log",
                                         APBOT_PLAN=str(plan)) as bot:
        api.push_message("AP3: Tagesordnung verschickt, 30 %")
        api.wait_for_text("gespeichert")
        api.fail_next("sendMessage", error_code=429, retry_after=1)
        posted = wait_for_summaries(api, 1, timeout=60)
        sent_at = time.time()
        time.sleep(2)  # room for a duplicate to show up
        assert len(summaries(api)) == 1
        text = str(posted[0]["text"])
        assert posted[0]["chat_id"] == DEFAULT_GROUP_ID
        assert "Tagesordnung verschickt" in text and "AP 3" in text
        assert "nachgeholt" not in text
        assert sent_at <= (meeting - timedelta(seconds=55)).timestamp() + 5
        assert any(c.status == 429 for c in api.calls("sendMessage"))
    assert "posted meeting:probe" in bot.log()


def test_missed_post_is_caught_up_once_then_never_again(tmp_path: Path) -> None:
    meeting = datetime.now(BERLIN) + timedelta(seconds=72)  # summary due in ~12 s
    plan = plan_with_meeting(tmp_path, meeting)
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        with BotProcess(api, data, log, APBOT_PLAN=str(plan)):
            pass  # up for a moment before the post's time, then stopped
        assert summaries(api) == []
        # Down across the post's time (real time has to pass for this).
        time.sleep(max(0.0, (meeting - timedelta(seconds=58)).timestamp() - time.time()))
        with BotProcess(api, data, log, APBOT_PLAN=str(plan)):
            posted = wait_for_summaries(api, 1, timeout=30)
        assert len(posted) == 1
        assert "(nachgeholt)" in str(posted[0]["text"])
        with BotProcess(api, data, log, APBOT_PLAN=str(plan)) as bot:
            api.push_message("/status AP3")  # the start-up check has run by the time it answers
            api.wait_for_text("Bildungskonferenzen")
            time.sleep(1)
        assert len(summaries(api)) == 1
    assert len(re.findall(r"posted meeting:probe", bot.log())) == 1


def test_migrated_group_keeps_getting_posts(tmp_path: Path) -> None:
    meeting = datetime.now(BERLIN) + timedelta(seconds=70)
    plan = plan_with_meeting(tmp_path, meeting)
    new_id = -1001234500000
    with FakeBotAPI() as api, BotProcess(api, tmp_path / "data", tmp_path / "bot.log",
                                         APBOT_PLAN=str(plan)):
        api.push_update({"message": {
            "message_id": 5000, "date": int(time.time()),
            "chat": {"id": DEFAULT_GROUP_ID, "type": "group", "title": "Team"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Anna"},
            "migrate_to_chat_id": new_id}})
        api.push_message("/status AP3", chat_id=new_id)  # the new id is served at once
        api.wait_for_text("Bildungskonferenzen", chat_id=new_id)
        posted = wait_for_summaries(api, 1, timeout=60)
    assert posted[0]["chat_id"] == new_id
