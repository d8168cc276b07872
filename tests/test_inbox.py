"""The inbox on its own: what a restart finds, torn and damaged lines, compaction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bot.frontends.inbox
from bot.frontends.inbox import Inbox
from workflows.storage import StoreCorruptError


def batch(*keys: int) -> list[tuple[str, dict[str, object]]]:
    return [(str(k), {"update_id": k, "message": {"text": f"AP3: Meldung {k} \ud800"}})
            for k in keys]


def test_a_restart_finds_what_is_not_done_and_what_was_sent(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    inbox = Inbox(path)
    first, second, third = inbox.add(batch(1, 2, 3), cursor="4")
    inbox.start(first)
    inbox.sent(first, 0)
    inbox.done(first)
    inbox.start(second)
    inbox.sent(second, 0)  # part 1 never went out
    inbox.close()

    again = Inbox(path)
    assert again.cursor == "4"
    assert [e.key for e in again.pending()] == ["2", "3"]
    assert again.get("2") is not None and again.get("2").sent == {0}  # type: ignore[union-attr]
    assert again.get("2").attempts == 1  # type: ignore[union-attr]
    assert again.get("3").payload == third.payload  # type: ignore[union-attr]
    # A lone surrogate from the messenger survives the round trip unchanged.
    assert again.get("3").payload["message"]["text"].endswith("\ud800")  # type: ignore


def test_a_batch_seen_again_is_not_kept_twice(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox.jsonl")
    inbox.add(batch(1, 2), cursor="3")
    fresh = inbox.add(batch(2, 3), cursor="4")
    assert [e.key for e in fresh] == ["3"]
    assert [e.key for e in inbox.pending()] == ["1", "2", "3"]


def test_a_torn_last_line_is_dropped_and_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    inbox = Inbox(path)
    inbox.add(batch(1), cursor="2")
    inbox.close()
    with path.open("ab") as file:
        file.write(b'{"cursor":"3","events":[{"key":"2","ev')  # a crash mid-append
    again = Inbox(path)
    assert again.cursor == "2"
    assert [e.key for e in again.pending()] == ["1"]


def test_a_damaged_line_stops_start_up_and_leaves_the_file(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    inbox = Inbox(path)
    inbox.add(batch(1), cursor="2")
    inbox.close()
    damaged = path.read_bytes() + b"not json\n" + b'{"done":"1"}\n'
    path.write_bytes(damaged)
    with pytest.raises(StoreCorruptError, match="Zeile 2"):
        Inbox(path)
    assert path.read_bytes() == damaged


def test_the_file_is_compacted_once_everything_is_done(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.frontends.inbox, "COMPACT_BYTES", 2000)
    path = tmp_path / "inbox.jsonl"
    inbox = Inbox(path)
    for k in range(1, 60):
        [event] = inbox.add(batch(k), cursor=str(k + 1))
        inbox.start(event)
        inbox.sent(event, 0)
        inbox.done(event)
        assert path.stat().st_size < 4000
    waiting, = inbox.add(batch(60), cursor="61")
    inbox.close()
    again = Inbox(path)
    assert again.cursor == "61"
    assert [e.key for e in again.pending()] == ["60"]
    assert waiting.payload == again.pending()[0].payload


def test_an_empty_inbox_remembers_its_cursor(tmp_path: Path) -> None:
    path = tmp_path / "inbox.jsonl"
    inbox = Inbox(path)
    [event] = inbox.add(batch(7), cursor="8")
    inbox.done(event)
    inbox.close()
    again = Inbox(path)  # compacts at start-up: nothing waits
    assert again.cursor == "8" and len(again) == 0
    assert path.read_text().count("\n") == 1


def test_marks_that_cannot_be_written_are_logged_not_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    inbox = Inbox(tmp_path / "inbox.jsonl")
    [event] = inbox.add(batch(1), cursor="2")

    def full(*args: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bot.frontends.inbox.os, "pwrite", full)
    inbox.sent(event, 0)  # a repeated reply after a crash at worst; never an error here
    inbox.done(event)
    assert "No space left on device" in caplog.text
    assert len(inbox) == 0


class CountingFsync:
    """os.fsync that counts its calls on one file (and still syncs)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.calls = 0
        self._fsync = os.fsync

    def __call__(self, fd: int) -> None:
        if Path(os.readlink(f"/proc/self/fd/{fd}")) == self.path:
            self.calls += 1
        self._fsync(fd)


def test_a_batch_not_yet_answered_is_synced_before_it_is_acknowledged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fsync = CountingFsync(tmp_path / "inbox.jsonl")
    monkeypatch.setattr(bot.frontends.inbox.os, "fsync", fsync)
    inbox = Inbox(tmp_path / "inbox.jsonl")
    first, second = inbox.add(batch(1, 2), cursor="3")
    inbox.start(first)
    inbox.sent(first, 0)
    inbox.done(first)  # the second is still waiting (its reply in the background)
    inbox.sync_unanswered()
    assert fsync.calls == 1
    inbox.sync_unanswered()  # nothing fetched since: nothing to do
    assert fsync.calls == 1
    inbox.sent(second, 0)
    inbox.done(second)
    inbox.add(batch(3), cursor="4")
    inbox.sync_unanswered()  # a new event waits again
    assert fsync.calls == 2
    inbox.sync()  # (Matrix: everything, always)
    assert fsync.calls == 2  # nothing new written since


def test_an_answered_batch_needs_no_sync_before_it_is_acknowledged(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "inbox.jsonl"
    fsync = CountingFsync(path)
    monkeypatch.setattr(bot.frontends.inbox.os, "fsync", fsync)
    inbox = Inbox(path)
    inbox.sync_unanswered()
    for key in (1, 2, 3):
        [event] = inbox.add(batch(key), cursor=str(key + 1))
        inbox.start(event)
        inbox.sent(event, 0)
        inbox.done(event)
        inbox.sync_unanswered()  # answered: Telegram may forget it, nothing is lost
    assert fsync.calls == 0
    inbox.sync()  # a cursor that resumes (Matrix) is synced as before
    assert fsync.calls == 1
    # The lines were written all the same (a kill -9 keeps them: the page cache).
    inbox.close()
    again = Inbox(path)
    assert again.cursor == "4" and not again.pending()
