"""End-to-end: the real process against the local fake Bot API, as the team would use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.bot_process import ADMIN_ID, MEMBER_ID, REPO, BotProcess, bot_env
from tests.fake_bot_api import DEFAULT_GROUP_ID, DEFAULT_TOKEN, FakeBotAPI

pytestmark = pytest.mark.e2e


@pytest.fixture
def api() -> FakeBotAPI:
    with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
def bot(api: FakeBotAPI, tmp_path: Path) -> BotProcess:
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as process:
        yield process


def test_console_pipe_prints_status_of_ap3(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot"], input="/status AP3\n", cwd=REPO,
                            env=bot_env(tmp_path / "data"), capture_output=True, text=True,
                            timeout=60, check=True)
    out = result.stdout
    assert "AP 3 · Bildungskonferenzen" in out
    for mid in ("M3.1", "M3.2", "M3.3", "M3.4"):
        assert f"{mid} BiKo hat stattgefunden" in out
    assert "<b>" not in out  # the console shows plain text
    assert (tmp_path / "data" / "apbot.json").exists()


def test_console_ask_answers_once_and_records(tmp_path: Path) -> None:
    env = bot_env(tmp_path / "data")
    run = [sys.executable, "-m", "bot", "ask"]
    first = subprocess.run([*run, "AP3: Einladungen verschickt, 60 %"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=60, check=True)
    assert "AP 3" in first.stdout and "60 %" in first.stdout
    status = subprocess.run([*run, "/status AP3"], cwd=REPO, env=env, capture_output=True,
                            text=True, timeout=60, check=True)
    assert "Einladungen verschickt, 60 %" in status.stdout


def test_second_process_on_same_data_dir_exits(api: FakeBotAPI, bot: BotProcess,
                                              tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "bot", "ask", "/plan"], cwd=REPO,
                            env=bot_env(tmp_path / "data"), capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert "läuft schon ein apbot" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_in_team_group_with_botname(api: FakeBotAPI, bot: BotProcess) -> None:
    api.push_message("/status@apbot_test_bot AP3", user_id=MEMBER_ID, first_name="Ben")
    call = api.wait_for("sendMessage")[0]
    assert call.params["chat_id"] == DEFAULT_GROUP_ID
    assert call.params["parse_mode"] == "HTML"
    assert "Bildungskonferenzen" in call.params["text"]
    assert call.params["text"].count("BiKo hat stattgefunden") == 4


def test_command_menu_is_registered_in_german(api: FakeBotAPI, bot: BotProcess) -> None:
    commands = {c["command"]: c["description"] for c in api.commands()}
    assert commands["status"] == "Stand eines Arbeitspakets"
    assert {"plan", "hilfe", "update", "rueckgaengig", "quartal"} <= set(commands)


def test_unknown_ap_and_unknown_command_get_german_help(api: FakeBotAPI,
                                                      bot: BotProcess) -> None:
    api.push_message("/status AP14")
    api.push_message("/gibtsnicht")
    texts = [c.params["text"] for c in api.wait_for("sendMessage", count=2)]
    assert "AP 14 gibt es nicht – der Plan hat AP 1 bis AP 13." in texts[0]
    assert "/hilfe" in texts[1]


def test_chat_not_allowed_gets_one_line_and_nothing_is_stored(
        api: FakeBotAPI, bot: BotProcess, tmp_path: Path) -> None:
    stranger = -100999
    api.push_message("AP3: heimlich 90 %", chat_id=stranger, user_id=5555)
    api.push_message("/status AP3", chat_id=stranger, user_id=5555)
    api.push_message("/plan", chat_type="private", user_id=5555)  # not an admin
    calls = api.wait_for("sendMessage", count=2)
    assert calls[0].params["chat_id"] == stranger
    assert "nur für das Koordinierungsteam" in calls[0].params["text"]
    api.wait_for("sendMessage", count=2, predicate=lambda c: c.params["chat_id"] == 5555
                 or c.params["chat_id"] == stranger)
    # Only the command got an answer in the foreign group, not the chatter.
    foreign = [c for c in api.calls("sendMessage") if c.params["chat_id"] == stranger]
    assert len(foreign) == 1
    api.push_message("/status AP3")  # in the team chat: nothing was recorded
    reply = api.wait_for_text("Bildungskonferenzen", chat_id=DEFAULT_GROUP_ID)
    assert "heimlich" not in reply["text"]


def test_admin_private_chat_is_served(api: FakeBotAPI, bot: BotProcess) -> None:
    api.push_message("/plan", chat_type="private", user_id=ADMIN_ID)
    reply = api.wait_for_text("AP 13", chat_id=ADMIN_ID)
    assert "Leitbildentwicklung" in reply["text"]


def test_menu_rejected_is_only_a_warning(api: FakeBotAPI, tmp_path: Path) -> None:
    api.reject("setMyCommands", 400, "Bad Request: commands are broken")
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as bot:
        api.push_message("/status 3")
        api.wait_for_text("Bildungskonferenzen")
        assert "could not register the command menu" in bot.log()


def test_token_never_in_log(api: FakeBotAPI, tmp_path: Path) -> None:
    with BotProcess(api, tmp_path / "data", tmp_path / "bot.log") as bot:
        api.push_message("/status AP3")
        api.push_message("AP 8: Pressemitteilung raus")
        api.wait_for("sendMessage", count=2)
        api.fail_next("getUpdates", error_code=502)
        api.wait_for("getUpdates", predicate=lambda c: c.status == 502)
        api.push_message("/plan")
        api.wait_for("sendMessage", count=3)
    log = bot.log()
    assert "apbot is running" in log
    assert DEFAULT_TOKEN not in log
    assert DEFAULT_TOKEN.split(":")[1] not in log


def test_corrupt_database_stops_start_up_and_is_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "backups" / "apbot-2026-11-25").mkdir(parents=True)
    (data / "backups" / "apbot-2026-11-25" / "apbot.json").write_text("{}")
    broken = b'{"updates": {"1": {"ap": "AP3", "te'
    (data / "apbot.json").write_bytes(broken)
    result = subprocess.run([sys.executable, "-m", "bot", "ask", "/plan"], cwd=REPO,
                            env=bot_env(data), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert str(data / "apbot.json") in result.stderr
    assert str(data / "backups" / "apbot-2026-11-25") in result.stderr
    assert "Traceback" not in result.stderr
    assert (data / "apbot.json").read_bytes() == broken
