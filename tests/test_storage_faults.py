"""The store under faults (issue 11): text UTF-8 cannot hold, writes failing in any way,
damaged journal lines and log records, a deleted lock file, a backup that fails."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import workflows.storage as storage_module
from tests.conftest import TEST_PLAN
from workflows.journal import Journal
from workflows.plan import Plan, load_plan
from workflows.progress import Author, MilestoneMark, Update
from workflows.recording import Report, record
from workflows.storage import (
    BACKUP_RETRY,
    DirectoryLock,
    StoreCorruptError,
    StoreLockedError,
    StoreWriteError,
)
from workflows.store import Store

ROOT = Path(__file__).resolve().parents[1]
BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=BERLIN)
CHAT = "-1001234567890"
ANNA = Author("101", "Anna Schulze")
BAD = "\ud800"  # a lone surrogate: UTF-8 cannot encode it


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(TEST_PLAN)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path, NOW)
    yield s
    s.close()


def upd(text: str = "AP3: läuft", *, author: Author = ANNA, message_id: str = "1",
        forwarded_from: str | None = None) -> Update:
    return Update("AP3", text, author, CHAT, message_id, NOW, forwarded_from=forwarded_from)


def mark(author: Author = ANNA, message_id: str = "5") -> MilestoneMark:
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


# -- one bad character blocks nothing ---------------------------------------------------


def test_a_report_with_a_lone_surrogate_is_recorded_cleaned_and_later_ones_too(
    tmp_path: Path, plan: Plan,
) -> None:
    s = Store.open(tmp_path, NOW)
    try:
        bad = Report(f"AP3: Einladungen{BAD} verschickt", Author("101", f"Anna{BAD}"), CHAT, "1",
                     NOW, forwarded_from=f"Carla{BAD}")
        outcome = record(s, plan, bad, NOW)
        assert outcome.kind == "recorded"
        [first] = outcome.updates
        assert first.text == "AP3: Einladungen\ufffd verschickt"
        assert first.author == Author("101", "Anna\ufffd")
        assert first.forwarded_from == "Carla\ufffd"
        assert s.updates() == [first], "memory holds what the disk holds"

        later = record(s, plan, Report("AP4: Portal online", ANNA, CHAT, "2", NOW), NOW)
        assert later.kind == "recorded"
        assert s.updates() == [first, *later.updates]
    finally:
        s.close()
    updates, _ = reopened(tmp_path)
    assert updates == [first, *later.updates]


def test_a_surrogate_pair_split_in_two_becomes_its_character(store: Store) -> None:
    stored = store.add_update(upd("AP3: fertig \ud83d\ude00"), NOW)
    assert stored.text == "AP3: fertig 😀"


@pytest.mark.parametrize("operation", ["add_update", "save_update", "add_mark", "save_mark"])
def test_each_write_of_the_log_stores_the_cleaned_text(tmp_path: Path, operation: str) -> None:
    bad_author = Author("7", f"Herr{BAD} Schmidt")
    s = Store.open(tmp_path, NOW)
    try:
        held: Update | MilestoneMark
        if operation == "add_update":
            held = s.add_update(upd(f"AP3: {BAD}", author=bad_author), NOW)
            assert held.text == "AP3: \ufffd"
        elif operation == "save_update":
            first = s.add_update(upd(), NOW)
            held = s.save_update(replace(first, text=f"AP3: neu{BAD}", author=bad_author), NOW)
            assert held.text == "AP3: neu\ufffd"
            assert s.update(first.id or 0) == held
        elif operation == "add_mark":
            held = s.add_mark(mark(bad_author), NOW)
        else:
            first_mark = s.add_mark(mark(), NOW)
            held = s.save_mark(replace(first_mark, author=bad_author, withdrawn=True), NOW)
        assert held.author.name == "Herr\ufffd Schmidt"
        after = s.add_update(upd("AP4: danach", message_id="99"), NOW)
        in_memory = (s.updates(), s.marks())
    finally:
        s.close()
    assert reopened(tmp_path) == in_memory
    assert held in in_memory[0] or held in in_memory[1]
    assert after in in_memory[0]


# -- a write that fails in any way leaves memory as the disk is ---------------------------


class Boom(Exception):
    """Not an OSError: a failure nobody expected."""


def test_a_journal_failing_with_any_exception_leaves_the_store_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Store.open(tmp_path, NOW)
    try:
        kept = s.add_update(upd("AP3: bleibt"), NOW)
        before = on_disk(tmp_path)

        def broken(self: Journal, changes: object) -> None:
            raise Boom("kaputt")

        with monkeypatch.context() as patch:
            patch.setattr(Journal, "append", broken)
            with pytest.raises(StoreWriteError) as info:
                s.add_update(upd("AP4: geht verloren", message_id="2"), NOW)
            with pytest.raises(StoreWriteError), s.transaction():
                s.add_update(upd("AP5: auch", message_id="3"), NOW)
                s.add_mark(mark(), NOW)
        assert isinstance(info.value.__cause__, Boom)
        assert str(tmp_path / "log" / "journal.jsonl") in str(info.value)
        assert "unverändert" in str(info.value)
        assert on_disk(tmp_path) == before
        assert s.updates() == [kept] and s.marks() == []
        assert s.updates_of_message(CHAT, "2") == [] and s.updates("AP4") == []

        later = s.add_update(upd("AP6: später", message_id="4"), NOW)
        assert later.id == kept.id + 1  # type: ignore[operator]
        assert s.updates() == [kept, later]
        in_memory = s.updates(), s.marks()
    finally:
        s.close()
    assert reopened(tmp_path) == in_memory


def test_an_exception_inside_a_transaction_drops_its_changes(store: Store, tmp_path: Path) -> None:
    kept = store.add_update(upd("AP3: bleibt"), NOW)
    before = on_disk(tmp_path)
    with pytest.raises(Boom), store.transaction():
        store.add_update(upd("AP4: nie gespeichert", message_id="2"), NOW)
        raise Boom
    assert on_disk(tmp_path) == before
    assert store.updates() == [kept]
    assert store.add_update(upd("AP5: danach", message_id="3"), NOW).id == 2


def test_a_main_file_failing_after_the_journal_takes_the_journal_line_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = Store.open(tmp_path, NOW)
    try:
        kept = s.add_update(upd("AP3: bleibt"), NOW)
        before = on_disk(tmp_path)

        def broken(path: Path, payload: bytes) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        with monkeypatch.context() as patch:
            patch.setattr(storage_module, "atomic_write", broken)
            with pytest.raises(StoreWriteError) as info, s.transaction():
                s.add_update(upd("AP4: mit Vermerk", message_id="2"), NOW)
                s.set_last_post_check(NOW)
        message = str(info.value)
        assert f"Speichern in {tmp_path / 'apbot.json'} fehlgeschlagen" in message
        assert "unverändert" in message
        assert on_disk(tmp_path) == before, "the journal line was taken back"
        assert s.updates() == [kept] and s.last_post_check() is None
    finally:
        s.close()
    assert reopened(tmp_path)[0] == [kept]


def test_a_failed_journal_write_names_the_journal(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    def full(*args: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage_module.os, "pwrite", full)
    with pytest.raises(StoreWriteError) as info:
        store.add_update(upd(), NOW)
    assert f"Speichern in {tmp_path / 'log' / 'journal.jsonl'} fehlgeschlagen" in str(info.value)


# -- a damaged file stops start-up; apbot repairs nothing on its own -----------------------


def _journal_with_two_reports(data_dir: Path) -> Path:
    s = Store.open(data_dir, NOW)
    s.add_update(upd("AP3: eins"), NOW)
    s.add_update(upd("AP3: zwei", message_id="2"), NOW)
    s.close()
    return data_dir / "log" / "journal.jsonl"


def test_a_damaged_last_journal_line_with_its_newline_stops_start_up(tmp_path: Path) -> None:
    journal = _journal_with_two_reports(tmp_path)
    first, second = journal.read_bytes().splitlines(keepends=True)
    damaged = first + second[:20] + b"\x00" * (len(second) - 21) + b"\n"
    journal.write_bytes(damaged)
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, NOW)
    assert str(journal) in str(info.value) and "Zeile 2" in str(info.value)
    assert journal.read_bytes() == damaged, "nothing was cut off"


def test_only_an_unterminated_last_journal_line_is_cut(tmp_path: Path) -> None:
    journal = _journal_with_two_reports(tmp_path)
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"log-0001":{"3":')
    assert [u.text for u in reopened(tmp_path)[0]] == ["AP3: eins", "AP3: zwei"]
    assert journal.read_bytes() == whole


def _fold(data_dir: Path) -> None:
    """Move every journal line into the log files, as a fold does."""
    journal = data_dir / "log" / "journal.jsonl"
    tables: dict[str, dict[str, Any]] = {}
    for line in journal.read_text(encoding="utf-8").splitlines():
        for name, docs in json.loads(line).items():
            tables.setdefault(name, {}).update(docs)
    for name, docs in tables.items():
        path = data_dir / "log" / f"{name.removeprefix('log-')}.json"
        path.write_text(json.dumps({name: docs}), encoding="utf-8")
    journal.write_bytes(b"")


BROKEN_RECORDS: dict[str, tuple[Any, str]] = {
    "at-missing": (lambda d: d.pop("at"), "Feld 'at' fehlt"),
    "at-not-a-date": (lambda d: d.update(at="gestern"), "kein Zeitpunkt"),
    "at-naive": (lambda d: d.update(at="2026-03-10T09:30:00"), "keine Zeitzone"),
    "at-a-number": (lambda d: d.update(at=5), "Feld 'at' hat den falschen Typ"),
    "text-a-list": (lambda d: d.update(text=["x"]), "Feld 'text' hat den falschen Typ"),
    "withdrawn-missing": (lambda d: d.pop("withdrawn"), "Feld 'withdrawn' fehlt"),
    "forwarded-a-number": (lambda d: d.update(forwarded_from=3), "'forwarded_from'"),
    # Fields that may hold None must still be there (start-up's quick check tells apart).
    "percent-missing": (lambda d: d.pop("percent"), "Feld 'percent' fehlt"),
    "state-missing": (lambda d: d.pop("state"), "Feld 'state' fehlt"),
    "message-id-missing": (lambda d: d.pop("message_id"), "Feld 'message_id' fehlt"),
    "percent-a-text": (lambda d: d.update(percent="50"), "Feld 'percent' hat den falschen Typ"),
    "author-id-a-list": (lambda d: d.update(author_id=[1]), "'author_id' hat den falschen Typ"),
    "withdrawn-by-a-float": (lambda d: d.update(withdrawn_by=1.5), "'withdrawn_by'"),
    "unknown-type": (lambda d: d.update(type="notiz"), "unbekannte Art 'notiz'"),
    "no-type": (lambda d: d.pop("type"), "unbekannte Art None"),
}


@pytest.mark.parametrize("where", ["chunk", "journal"])
@pytest.mark.parametrize("broken", list(BROKEN_RECORDS))
def test_a_log_record_with_a_missing_or_wrong_field_stops_start_up(
    tmp_path: Path, where: str, broken: str,
) -> None:
    _journal_with_two_reports(tmp_path)
    if where == "chunk":
        _fold(tmp_path)
        path = tmp_path / "log" / "0001.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        doc = data["log-0001"]["2"]
    else:
        path = tmp_path / "log" / "journal.jsonl"
        first, second = path.read_text(encoding="utf-8").splitlines()
        data = json.loads(second)
        doc = data["log-0001"]["2"]
    change, reason = BROKEN_RECORDS[broken]
    change(doc)
    text = json.dumps(data)
    if where == "chunk":
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(f"{first}\n{text}\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(StoreCorruptError) as info:
        Store.open(tmp_path, NOW)
    message = str(info.value)
    assert str(path) in message
    assert "Eintrag 2" in message and reason in message
    assert path.read_bytes() == before
    with pytest.raises(StoreCorruptError):  # the lock was let go: the same reason again
        Store.open(tmp_path, NOW)


def test_a_mark_with_a_bad_day_and_a_record_with_a_bad_id_are_named(tmp_path: Path) -> None:
    s = Store.open(tmp_path, NOW)
    s.add_mark(mark(), NOW)
    s.close()
    _fold(tmp_path)
    chunk = tmp_path / "log" / "0001.json"
    data = json.loads(chunk.read_text(encoding="utf-8"))
    data["log-0001"]["1"]["reached_on"] = "März"
    chunk.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreCorruptError, match="Eintrag 1: Feld 'reached_on' ist kein Datum"):
        Store.open(tmp_path, NOW)
    data["log-0001"] = {"eins": data["log-0001"]["1"]}
    chunk.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(StoreCorruptError, match="Eintrag eins: keine gültige Nummer"):
        Store.open(tmp_path, NOW)


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


# -- a failed backup never blocks a write -------------------------------------------------


def _store_with_yesterday(data_dir: Path) -> Store:
    """A store with a report from yesterday, so today's first write takes a backup."""
    s = Store.open(data_dir, NOW - timedelta(days=1))
    s.add_update(upd("AP3: gestern"), NOW - timedelta(days=1))
    s.close()
    return Store.open(data_dir, NOW)


def test_a_backup_dir_that_cannot_be_written_blocks_no_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    backups = tmp_path / "backups"
    s = _store_with_yesterday(tmp_path)
    try:
        backups.write_text("kein Verzeichnis")  # root ignores chmod; a file in the way does not
        with caplog.at_level(logging.WARNING, logger="workflows.storage"):
            first = s.add_update(upd("AP3: heute", message_id="2"), NOW)
        assert str(backups) in caplog.text, "the log names the file that failed"
        assert s.updates()[-1] == first
        [notice] = s.take_notices()
        assert notice.startswith("⚠️ Die tägliche Sicherung der Datenbank ist fehlgeschlagen")
        assert str(backups) in notice and "weiter gespeichert" in notice
        assert s.take_notices() == [], "handed out once"

        # later writes fail to back up again (an hour later it is retried), and say nothing
        s.add_update(upd("AP3: gleich danach", message_id="3"), NOW + timedelta(minutes=5))
        s.add_update(upd("AP3: später", message_id="4"), NOW + BACKUP_RETRY)
        assert s.take_notices() == []
    finally:
        s.close()
    assert [u.text for u in reopened(tmp_path)[0]] == [
        "AP3: gestern", "AP3: heute", "AP3: gleich danach", "AP3: später"]


def test_a_full_disk_for_the_backup_is_retried_after_an_hour_and_told_again_when_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    copies: list[Path] = []
    full = [True]
    real = shutil.copyfile

    def copyfile(src: Path, dst: Path) -> Path:
        copies.append(Path(dst))
        if full[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return Path(real(src, dst))

    s = _store_with_yesterday(tmp_path)
    monkeypatch.setattr(storage_module.shutil, "copyfile", copyfile)
    backup = tmp_path / "backups" / f"apbot-{NOW.date().isoformat()}"
    try:
        s.add_update(upd("AP3: eins", message_id="2"), NOW)
        [notice] = s.take_notices()
        assert "kein Platz mehr auf dem Datenträger" in notice
        assert "bitte Speicherplatz prüfen" in notice
        assert str(backup) in notice, "the backup, not a temporary file that is gone"
        tried = len(copies)
        assert tried == 1

        s.add_update(upd("AP3: zwei", message_id="3"), NOW + BACKUP_RETRY - timedelta(minutes=1))
        assert len(copies) == tried, "not retried at every write"
        s.add_update(upd("AP3: drei", message_id="4"), NOW + BACKUP_RETRY)
        assert len(copies) == 2 * tried, "retried an hour later"
        assert s.take_notices() == []

        full[0] = False
        s.add_update(upd("AP3: vier", message_id="5"), NOW + 2 * BACKUP_RETRY)
        assert backup.is_dir() and s.take_notices() == []
        assert [u["text"] for u in _backup_updates(backup)] == ["AP3: gestern", "AP3: eins",
                                                                "AP3: zwei", "AP3: drei"]
        full[0] = True  # the next day the disk is full again: told again, once
        s.add_update(upd("AP3: fünf", message_id="6"), NOW + timedelta(days=1))
        s.add_update(upd("AP3: sechs", message_id="7"), NOW + timedelta(days=1, hours=2))
        assert len(s.take_notices()) == 1
    finally:
        s.close()
    assert len(reopened(tmp_path)[0]) == 7


def _backup_updates(backup: Path) -> list[dict[str, Any]]:
    docs: dict[str, Any] = {}
    for line in (backup / "log" / "journal.jsonl").read_text(encoding="utf-8").splitlines():
        for table in json.loads(line).values():
            docs.update(table)
    return [docs[k] for k in sorted(docs, key=int)]
