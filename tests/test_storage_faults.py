"""The store under faults (issue 11): text UTF-8 cannot hold, writes failing in any way,
damaged journal lines and log records, a deleted lock file, a backup that fails."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from workflows.plan import Plan, load_plan
from workflows.progress import Author, MilestoneMark, Update
from workflows.storage import (
    DirectoryLock,
    StoreLockedError,
)
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)
CHAT = -1001234567890
ANNA = Author(101, "Anna Schulze")
BAD = "\ud800"  # a lone surrogate: UTF-8 cannot encode it


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(ROOT / "data" / "plan.toml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path, NOW)
    yield s
    s.close()


def upd(text: str = "AP3: läuft", *, author: Author = ANNA, message_id: int = 1,
        forwarded_from: str | None = None) -> Update:
    return Update("AP3", text, author, CHAT, message_id, NOW, forwarded_from=forwarded_from)


def mark(author: Author = ANNA, message_id: int = 5) -> MilestoneMark:
    return MilestoneMark("M3.1", date(2026, 3, 1), author, CHAT, message_id, NOW)


def reopened(data_dir: Path) -> tuple[list[Update], list[MilestoneMark]]:
    s = Store.open(data_dir, NOW)
    try:
        return s.updates(), s.marks()
    finally:
        s.close()


def on_disk(data_dir: Path) -> dict[str, bytes]:
    """The database files, byte for byte (backups not included)."""
    files = [data_dir / "apbot.json", *sorted((data_dir / "log").glob("*.json")),
             data_dir / "log" / "journal.jsonl"]
    return {str(p.relative_to(data_dir)): p.read_bytes() for p in files if p.exists()}


# -- the lock holds when apbot.lock is deleted ---------------------------------------------


def test_a_deleted_lock_file_does_not_let_a_second_opener_in(tmp_path: Path) -> None:
    first = Store.open(tmp_path, NOW)
    try:
        (tmp_path / "apbot.lock").unlink()
        # Two opens in one process are two open file descriptions: flock sees them conflict.
        with pytest.raises(StoreLockedError) as info:
            Store.open(tmp_path, NOW)
        assert str(tmp_path) in str(info.value)
        assert "PID" not in str(info.value), "nobody's PID can be read any more"
        with pytest.raises(StoreLockedError):
            DirectoryLock(tmp_path).acquire()
        first.add_update(upd(), NOW)
    finally:
        first.close()
    s = Store.open(tmp_path, NOW)
    assert len(s.updates()) == 1
    assert (tmp_path / "apbot.lock").read_text() == str(os.getpid())
    s.close()


HOLDER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from workflows.store import Store
store = Store.open(Path(sys.argv[1]), datetime(2026, 1, 5, 9, tzinfo=UTC))
print("bereit", flush=True)
sys.stdin.read()
store.close()
"""


def test_a_deleted_lock_file_does_not_let_a_second_process_in(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            assert proc.stdout.readline().strip() == "bereit"
            with pytest.raises(StoreLockedError) as info:
                Store.open(tmp_path, NOW)
            assert f"PID {proc.pid}" in str(info.value)
            (tmp_path / "apbot.lock").unlink()
            with pytest.raises(StoreLockedError):
                Store.open(tmp_path, NOW)
            assert not (tmp_path / "apbot.lock").exists(), "the refused opener wrote nothing"
        finally:
            proc.stdin.close()
            assert proc.wait(timeout=30) == 0
    Store.open(tmp_path, NOW).close()


def test_an_older_apbot_holding_only_the_lock_file_is_seen(tmp_path: Path) -> None:
    import fcntl

    fd = os.open(tmp_path / "apbot.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as apbot before issue 11 did
        os.write(fd, b"4711")
        with pytest.raises(StoreLockedError, match="PID 4711"):
            Store.open(tmp_path, NOW)
    finally:
        os.close(fd)
    Store.open(tmp_path, NOW).close()  # and the directory was let go again

