"""End-to-end: nothing lost, nothing twice, no token in the open (issue 11 §1, §2, §6).

The real `python -m bot` runs against the local fake Bot API. Each test brings the
process to the moment a fault is dangerous — the token refused, a batch acknowledged
but not yet handled, replies waiting at SIGTERM, the lock file gone — and checks what
the team would see afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.bot_process import ADMIN_ID, REPO, BotProcess, bot_env
from tests.fake_bot_api import DEFAULT_GROUP_ID, DEFAULT_TOKEN, FakeBotAPI
from tests.test_e2e_posts import MEETING, plan_with_meeting, seconds_before_summary, summaries
from tests.test_faults import (
    ADMIN_ENV,
    ADMINS,
    confirmations,
    key_of,
    report_text,
    stored,
    wait_until,
)
from workflows.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.faults]
SECRET = DEFAULT_TOKEN.split(":")[1]
TOKEN_LINE = "Telegram lehnt das Token ab – bitte bei @BotFather prüfen"


def everything_written(result: subprocess.CompletedProcess[str], data: Path) -> str:
    """stdout, stderr and every file in the data directory, as one text."""
    files = [p.read_bytes().decode("utf-8", "replace") for p in data.rglob("*") if p.is_file()]
    return "\n".join([result.stdout, result.stderr, *files])


def run_bot(data: Path, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot"], cwd=REPO, env=bot_env(data, **env),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# --------------------------------------------------------------------------- §1 the token


@pytest.mark.parametrize("path", ["/bot", "/wrong/bot"], ids=["401", "404"])
def test_rejected_token_ends_with_one_german_line_and_is_never_printed(
        tmp_path: Path, path: str) -> None:
    data = tmp_path / "data"
    with FakeBotAPI(token="999:other-token-the-fake-expects-instead") as api:
        base = f"http://{api.host}:{api.port}{path}"
        result = run_bot(data, TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, TELEGRAM_API_BASE_URL=base)
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == f"apbot beendet: {TOKEN_LINE}"
    assert "Traceback" not in result.stderr
    written = everything_written(result, data)
    assert DEFAULT_TOKEN not in written
    assert SECRET not in written


def test_token_revoked_while_running_ends_the_process_non_zero(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI(max_poll_wait=0.5) as api:
        bot = BotProcess(api, data, log)
        bot.start()
        try:
            api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
            api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)
            api.token = "999:the-token-was-revoked-in-botfather"
            assert bot.proc is not None
            code = bot.proc.wait(timeout=30)
        finally:
            bot.kill()
    assert code != 0
    text = log.read_text()
    assert TOKEN_LINE in text
    assert DEFAULT_TOKEN not in text and SECRET not in text
    assert "Traceback" not in text


# --------------------------------------------------------------------------- §2 acknowledged


def test_kill_9_right_after_the_acknowledgement_loses_nothing(tmp_path: Path) -> None:
    """60 reports wait at the Bot API; the bot takes them and is killed the moment the
    Bot API has forgotten them. After the restart every report is stored and confirmed."""
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        pushed = [key_of(api.push_message(report_text(i), chat_type="private",
                                          user_id=ADMINS[i % len(ADMINS)]))
                  for i in range(60)]
        bot = BotProcess(api, data, log, **ADMIN_ENV)
        try:
            bot.start()
            wait_until(lambda: not api.pending_updates(), 20,
                       lambda: f"{len(api.pending_updates())} still pending")
            bot.kill()
            bot.start()
            wait_until(lambda: set(confirmations(api)) >= set(pushed), 30,
                       lambda: f"{len(confirmations(api))} of 60 confirmed; "
                               f"log:\n{bot.log()[-2000:]}")
        finally:
            bot.stop()
    assert stored(data) == Counter(pushed)
    counts = confirmations(api)
    repeated = [k for k, n in counts.items() if n > 1]
    # At most the one reply per chat that was in flight at the kill, sent twice.
    assert all(counts[k] == 2 for k in repeated), repeated
    assert len({chat for chat, _ in repeated}) == len(repeated) <= len(ADMINS), repeated


def test_kill_9_before_the_reply_confirms_once_after_the_restart(tmp_path: Path) -> None:
    """The report is stored, its confirmation refused for now; kill -9; the restarted bot
    sends the confirmation, once."""
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        bot = BotProcess(api, data, log)
        try:
            bot.start()
            api.reject("sendMessage", error_code=502)
            report = api.push_message("AP3: Einladungen verschickt, 60 %", chat_type="private",
                                      user_id=ADMIN_ID)
            wait_until(lambda: stored(data, read_only=True)[key_of(report)] == 1, 10,
                       lambda: f"not stored; log:\n{bot.log()[-2000:]}")
            api.wait_for("sendMessage", timeout=10, predicate=lambda c: c.status == 502)
            bot.kill()
            api.accept("sendMessage")
            bot.start()
            wait_until(lambda: confirmations(api)[key_of(report)] >= 1, 20,
                       lambda: f"never confirmed; log:\n{bot.log()[-2000:]}")
            # One more round trip: room for a second confirmation to show up.
            api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
            api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)
        finally:
            bot.stop()
    assert confirmations(api) == Counter([key_of(report)])
    assert stored(data) == Counter([key_of(report)])


def test_sigterm_keeps_waiting_replies_and_sends_them_after_the_restart(tmp_path: Path) -> None:
    """25 reports in the group: 20 confirmations fit into the group's minute, 5 wait. The
    bot is stopped; after the restart those 5 arrive, each once."""
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI(can_read_all_group_messages=True) as api:
        bot = BotProcess(api, data, log)
        try:
            bot.start()
            pushed = [key_of(api.push_message(report_text(i), user_id=3001 + i % 5,
                                              first_name=f"Mitglied{i % 5}"))
                      for i in range(25)]
            wait_until(lambda: len(stored(data, read_only=True)) == 25, 20,
                       lambda: f"{len(stored(data, read_only=True))} of 25 stored")
            wait_until(lambda: len(confirmations(api)) >= 20, 20,
                       lambda: f"{len(confirmations(api))} confirmed")
            time.sleep(0.5)  # the 21st would wait for the group's minute (real time)
            assert len(confirmations(api)) == 20
            assert bot.stop() == 0
            bot.start()
            wait_until(lambda: len(confirmations(api)) >= 25, 20,
                       lambda: f"{len(confirmations(api))} of 25 confirmed; "
                               f"log:\n{bot.log()[-2000:]}")
            api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
            api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)
        finally:
            bot.stop()
    assert confirmations(api) == Counter(pushed), "each report confirmed exactly once"
    assert all(k[0] == DEFAULT_GROUP_ID for k in pushed)


def test_repeated_undo_after_a_restart_withdraws_only_one_report(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api:
        bot = BotProcess(api, data, log)
        try:
            bot.start()
            first = api.push_message("AP3: Einladungen verschickt", chat_type="private",
                                     user_id=ADMIN_ID)
            second = api.push_message("AP4: Portal online", chat_type="private",
                                      user_id=ADMIN_ID)
            wait_until(lambda: len(confirmations(api)) == 2, 10, lambda: bot.log()[-2000:])
            api.reject("sendMessage", error_code=502)  # the undo's answer does not get out
            api.push_message("/rueckgaengig", chat_type="private", user_id=ADMIN_ID)
            api.wait_for("sendMessage", timeout=10, predicate=lambda c: c.status == 502)
            bot.kill()
            api.accept("sendMessage")
            bot.start()  # handles the /rueckgaengig again
            api.wait_for_text("Zurückgenommen", chat_id=ADMIN_ID, timeout=20)
            api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
            api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)
        finally:
            bot.stop()
    store = Store.open(data, datetime.now().astimezone())
    try:
        withdrawn = {(int(u.chat_id), int(u.message_id or 0)): u.withdrawn
                     for u in store.updates()}
    finally:
        store.close()
    assert withdrawn == {key_of(first): False, key_of(second): True}


# --------------------------------------------------------------------------- §6 the lock


def test_a_deleted_lock_file_does_not_let_a_second_bot_start(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api, BotProcess(api, data, log):
        (data / "apbot.lock").unlink()
        result = run_bot(data, timeout=30, TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN,
                         TELEGRAM_API_BASE_URL=api.base_url)
        assert result.returncode != 0
        assert "läuft schon ein apbot" in result.stderr
        assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- §3 backups


def test_a_failed_backup_blocks_no_report_and_the_admin_is_told_once(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    Store.open(data, datetime(2026, 11, 2, 9, 0, tzinfo=UTC)).close()  # an older database
    shutil.rmtree(data / "backups", ignore_errors=True)
    (data / "backups").write_text("a file where the backups should go")
    with FakeBotAPI() as api, BotProcess(api, data, log) as bot:
        reports = [api.push_message(f"AP3: Runde {i} verschickt", chat_type="private",
                                    user_id=ADMIN_ID) for i in range(3)]
        wait_until(lambda: len(confirmations(api)) == 3, 15, lambda: bot.log()[-2000:])
        api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
        api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)
    assert stored(data) == Counter(key_of(r) for r in reports)
    notices = [m for m in api.sent_messages(ADMIN_ID) if "Sicherung" in str(m.get("text"))]
    assert len(notices) == 1, notices
    assert str(data / "backups") in bot.log()


# --------------------------------------------------------------------------- §3 full disk


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own (the machine's disk is never filled)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to free the disk)."""
    filler = disk / "filler"
    with filler.open("wb") as file:
        try:
            while True:
                file.write(b"\0" * 65536)
                file.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_posts_nothing_twice_and_tells_the_admin_once(
        tmp_path: Path, small_disk: Path) -> None:
    plan = plan_with_meeting(tmp_path, MEETING)
    data, log = small_disk / "data", tmp_path / "bot.log"
    # The summary is due 7 s after the bot's clock starts: on a loaded machine the start,
    # the answer and filling the disk must all come before it.
    with FakeBotAPI() as api, BotProcess(api, data, log, now=seconds_before_summary(7),
                                         APBOT_PLAN=str(plan)) as bot:
        api.push_message("/status AP3", chat_type="private", user_id=ADMIN_ID)
        api.wait_for_text("Bildungskonferenzen", chat_id=ADMIN_ID)  # the start-up check ran
        fill(small_disk)
        notice = api.wait_for_text("Automatische Beiträge angehalten", chat_id=ADMIN_ID,
                                   timeout=30)
        time.sleep(2)  # room for a post or a second notice to show up
        assert summaries(api) == []
        report = api.push_message("AP3: Einladungen verschickt", chat_type="private",
                                  user_id=ADMIN_ID)
        refused = api.wait_for("sendMessage", timeout=10, predicate=lambda c: c.ok and (
            c.params.get("chat_id") == ADMIN_ID and "speichern" in str(c.params["text"])))
        assert bot.proc is not None and bot.proc.poll() is None
    stopped = [m for m in api.sent_messages(ADMIN_ID) if "angehalten" in str(m.get("text"))]
    assert stopped == [notice]
    assert refused and key_of(report) not in stored(data)
    assert list(data.rglob("*.tmp")) == [], "no half-written file is left behind"


# --------------------------------------------------------------------------- §5 one bad character


def test_a_lone_surrogate_blocks_no_recording(tmp_path: Path) -> None:
    data, log = tmp_path / "data", tmp_path / "bot.log"
    with FakeBotAPI() as api, BotProcess(api, data, log) as bot:
        bad = api.push_message("AP3: Flyer \ud800 gedruckt", chat_type="private",
                               user_id=ADMIN_ID, first_name="Anna\udc00")
        good = api.push_message("AP4: Portal online", chat_type="private", user_id=ADMIN_ID)
        wait_until(lambda: len(confirmations(api)) == 2, 10, lambda: bot.log()[-2000:])
    assert stored(data) == Counter([key_of(bad), key_of(good)])
    store = Store.open(data, datetime.now(UTC))
    try:
        texts = sorted(u.text for u in store.updates())
        names = {u.author.name for u in store.updates()}
    finally:
        store.close()
    assert texts == ["AP3: Flyer \ufffd gedruckt", "AP4: Portal online"]
    assert any("\ufffd" in name for name in names)
