"""`python -m bot backups` and `python -m bot restore DATE`: list, restore, never lose a state."""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli.backups import run_backups, run_restore
from bot.settings import Settings
from tests.bot_process import REPO, BotProcess, bot_env
from tests.conftest import TEST_PLAN
from tests.fake_bot_api import DEFAULT_GROUP_ID, FakeBotAPI
from tests.run_cli import run_cli
from workflows.backups import (
    BackupError,
    Contents,
    backup_contents,
    contents,
    find_backup,
    list_backups,
    restore,
)
from workflows.progress import Author, Update
from workflows.storage import DirectoryLock
from workflows.store import Store

TZ = ZoneInfo("Europe/Berlin")
DAY1 = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)


def report(store: Store, ap: int, at: datetime) -> None:
    store.add_update(Update(ap=f"AP{ap}", text=f"AP{ap}: erledigt am {at:%d.%m.}",
                            author=Author(1001, "Anna"), chat_id=DEFAULT_GROUP_ID,
                            message_id=int(at.timestamp()), at=at), at)


def history(data: Path, days: int = 4) -> None:
    """One report a day from DAY1 on; the day's first write leaves a backup of the day
    before: apbot-2026-11-28 holds 1 report, apbot-2026-11-29 holds 2, …"""
    store = Store.open(data, DAY1)
    for n in range(days):
        report(store, n + 1, DAY1 + timedelta(days=n))
    store.close()


def tree(directory: Path) -> dict[str, str]:
    return {str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(directory.rglob("*")) if p.is_file() and p.name != "apbot.lock"}


def database(data: Path) -> dict[str, str]:
    """The database files only (not its backups, the inbox or the plan)."""
    return {k: v for k, v in tree(data).items() if k == "apbot.json" or k.startswith("log/")}


def settings(data: Path) -> Settings:
    return Settings(data_dir=data, plan_path=TEST_PLAN)


def args(backup: str, yes: bool = True) -> argparse.Namespace:
    return argparse.Namespace(backup=backup, yes=yes)


def test_backups_are_listed_with_day_size_and_reports(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    found = list_backups(data)
    assert [b.name for b in found] == ["apbot-2026-11-28", "apbot-2026-11-29", "apbot-2026-11-30"]
    assert [backup_contents(b, NOW).reports for b in found] == [1, 2, 3]
    out = io.StringIO()
    assert run_backups(settings(data), NOW, out) == 0
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("  28.11.2026  apbot-2026-11-28  ")
    assert "1 Meldung, 0 Meilensteine erreicht" in lines[1]
    assert "3 Meldungen" in lines[3] and ("kB" in lines[3] or " B " in lines[3])
    assert lines[-1] == "Zurückholen, z. B.: python -m bot restore 2026-11-30"


def test_no_backups_yet(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_backups(settings(tmp_path / "data"), NOW, out) == 0
    assert "Noch keine Sicherung" in out.getvalue()


def test_restore_round_trip_loses_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    before = database(data)
    assert contents(data, NOW).reports == 4
    done = restore(data, find_backup(data, "2026-11-29"), NOW)
    assert done.contents == Contents(reports=2, marks=0, withdrawn=0)
    assert contents(data, NOW) == done.contents
    assert done.kept is not None
    assert done.kept.name == "apbot-2026-12-02-vor-wiederherstellung-100000"
    assert contents(done.kept.path, NOW).reports == 4
    # The kept state is a backup like the others: restoring it brings everything back.
    assert done.kept in list_backups(data)
    later = NOW + timedelta(minutes=1)
    back = restore(data, find_backup(data, done.kept.name), later)
    assert database(data) == before
    assert back.contents.reports == 4
    # The bot opens it and goes on writing.
    store = Store.open(data, later)
    report(store, 9, later)
    assert len(store.updates()) == 5
    store.close()


def test_restore_asks_first(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    before = tree(data)
    asked: list[str] = []

    def no(prompt: str) -> str:
        asked.append(prompt)
        return "n\n"

    assert run_restore(args("2026-11-29", yes=False), settings(data), NOW, ask=no) == 1
    assert asked == ["Wiederherstellen? [j/N] "]
    assert tree(data) == before
    assert run_restore(args("29.11.2026", yes=False), settings(data), NOW,
                       ask=lambda prompt: None) == 1  # end of input: no
    assert tree(data) == before
    assert run_restore(args("2026-11-29", yes=False), settings(data), NOW,
                       ask=lambda prompt: "ja\n") == 0
    assert contents(data, NOW).reports == 2


def test_restore_refuses_while_a_bot_holds_the_directory(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    data = tmp_path / "data"
    history(data)
    before = tree(data)
    lock = DirectoryLock(data)
    lock.acquire()
    try:
        assert run_restore(args("2026-11-29"), settings(data), NOW) == 2
    finally:
        lock.release()
    assert "läuft schon ein apbot" in capsys.readouterr().err
    assert tree(data) == before


def test_a_damaged_database_can_be_restored_and_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    (data / "apbot.json").write_bytes(b'{"meta": {"1": {"sch')
    done = restore(data, find_backup(data, "2026-11-30"), NOW)
    assert contents(data, NOW).reports == 3
    assert done.kept is not None
    assert (done.kept.path / "apbot.json").read_bytes() == b'{"meta": {"1": {"sch'


def test_a_damaged_backup_is_refused_and_nothing_changes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    (data / "backups" / "apbot-2026-11-29" / "log" / "0001.json").write_text("[")
    before = tree(data)
    with pytest.raises(BackupError, match="apbot-2026-11-29 lässt sich nicht öffnen"):
        restore(data, find_backup(data, "2026-11-29"), NOW)
    assert tree(data) == before
    out = io.StringIO()
    run_backups(settings(data), NOW, out)
    assert "❌ lässt sich nicht öffnen" in out.getvalue()


def test_unknown_day_names_what_there_is(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data)
    with pytest.raises(BackupError, match=r"keine tägliche Sicherung vom 01\.11\.2026"):
        find_backup(data, "2026-11-01")
    with pytest.raises(BackupError, match="weder ein Datum"):
        find_backup(data, "gestern")


@pytest.mark.e2e
def test_restore_beside_the_running_bot_and_after(tmp_path: Path) -> None:
    """The real bot holds the directory: restore refuses; stopped, restore works, and the
    bot starts on the restored state."""
    data = tmp_path / "data"
    history(data)
    env = bot_env(data)
    with FakeBotAPI() as api, BotProcess(api, data, tmp_path / "bot.log", now=NOW) as bot:
        asked = api.push_message("/verlauf AP3", chat_type="private")
        assert "erledigt am 29.11." in api.wait_for_reply(asked).params["text"]
        before = database(data)
        refused = subprocess.run([sys.executable, "-m", "bot", "restore", "2026-11-29",
                                  "--yes"], cwd=REPO, env=env, capture_output=True,
                                 text=True, timeout=60, check=False)
        assert refused.returncode == 2
        assert "läuft schon ein apbot (PID" in refused.stderr
        assert "systemctl stop apbot" in refused.stderr
        assert database(data) == before
        bot.stop()
        done = subprocess.run([sys.executable, "-m", "bot", "restore", "2026-11-29"],
                              cwd=REPO, env=env, input="j\n", capture_output=True,
                              text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        assert "✅ Wiederhergestellt: apbot-2026-11-29 – 2 Meldungen" in done.stdout
        assert "vor-wiederherstellung" in done.stdout
        bot.start()
        asked = api.push_message("/verlauf AP3", chat_type="private")
        assert "Zu AP 3 ist noch nichts gemeldet" in api.wait_for_reply(asked).params["text"]
        asked = api.push_message("/verlauf AP2", chat_type="private")
        assert "erledigt am 28.11." in api.wait_for_reply(asked).params["text"]


def test_the_command_lines(tmp_path: Path) -> None:
    data = tmp_path / "data"
    history(data, days=2)
    listed = run_cli(data, "backups")
    assert listed.returncode == 0
    assert "apbot-2026-11-28" in listed.stdout
    wrong = run_cli(data, "restore", "2026-10-01", "--yes")
    assert wrong.returncode == 2
    assert "keine tägliche Sicherung vom 01.10.2026" in wrong.stderr
    assert "nichts verändert" in wrong.stderr


def test_what_was_posted_stays_known_after_a_restore(tmp_path: Path) -> None:
    """A post sent after the backup's day is not sent again; one only the backup knows
    (the database was begun anew since) stays known too."""
    data = tmp_path / "data"
    store = Store.open(data, DAY1)
    report(store, 1, DAY1)
    store.log_post("quarterly:Q3 2026", "sent", DAY1, DAY1)
    store.record_migration(-100123, -1001234, DAY1)
    report(store, 2, DAY1 + timedelta(days=1))  # the backup of 28.11. is taken here
    store.log_post("milestone:M3.3:28", "sent", DAY1 + timedelta(days=2),
                   DAY1 + timedelta(days=2))
    store.close()
    done = restore(data, find_backup(data, "2026-11-28"), NOW)
    assert done.carried
    store = Store.open(data, NOW, read_only=True)
    try:
        assert store.posted_keys() == {"quarterly:Q3 2026", "milestone:M3.3:28"}
        assert store.chat_migrations() == {"-100123": "-1001234"}
        assert [u.ap for u in store.updates()] == ["AP1"]  # the reports are the backup's
    finally:
        store.close()
    # Begun anew: the old backup's post log is kept beside the new one's.
    shutil.rmtree(data / "log")
    (data / "apbot.json").unlink()
    store = Store.open(data, NOW)
    store.log_post("milestone:M3.4:28", "sent", NOW, NOW)
    store.close()
    restore(data, find_backup(data, "2026-11-28"), NOW + timedelta(minutes=1))
    store = Store.open(data, NOW, read_only=True)
    try:
        assert store.posted_keys() == {"quarterly:Q3 2026", "milestone:M3.4:28"}
    finally:
        store.close()


def test_a_damaged_state_before_is_told(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    history(data)
    (data / "apbot.json").write_text("{")
    assert run_restore(args("2026-11-29"), settings(data), NOW) == 0
    out = capsys.readouterr().out
    assert "⚠️ Der Stand davor ließ sich nicht lesen" in out
    assert "seit dem 29.11.2026" in out
