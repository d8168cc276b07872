"""The journal file on its own: whole lines count, a torn end is dropped, damage is named.

Only an unterminated last line (a torn append) is cut off; a damaged line that ends with
a newline, the last one too, is refused and the file left as it is.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

import workflows.journal as journal_module
from workflows.journal import Journal, JournalDamaged

ONE = {"log-0001": {"1": {"type": "update", "text": "AP3: läuft"}}}
TWO = {"log-0001": {"2": {"type": "update", "text": "AP4: 40 %"}, "1": None}}


def written(path: Path, *entries: dict[str, dict[str, object]]) -> Journal:
    journal = Journal(path, writable=True)
    journal.read()
    for entry in entries:
        journal.append(entry)
    journal.close()
    return journal


def test_lines_written_are_read_back_in_order(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    written(path, ONE, TWO)
    journal = Journal(path, writable=True)
    assert journal.read() == [ONE, TWO]
    assert journal.lines == 2
    assert path.read_bytes().count(b"\n") == 2
    assert "läuft" in path.read_text(encoding="utf-8"), "readable text, not escapes"


@pytest.mark.parametrize("tail", [b'{"log-0001": {"3": {"ty', b'{"log-0001":\x00\x00\x00',
                                  b'{"log-0001": {}}'])
def test_a_torn_last_line_is_dropped_and_cut_off(tmp_path: Path, tail: bytes) -> None:
    path = tmp_path / "journal.jsonl"
    written(path, ONE)
    whole = path.read_bytes()
    path.write_bytes(whole + tail)
    journal = Journal(path, writable=True)
    assert journal.read() == [ONE]
    assert path.read_bytes() == whole
    journal.append(TWO)
    assert Journal(path, writable=False).read() == [ONE, TWO]


def test_a_reader_beside_the_writer_leaves_a_line_being_written_alone(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    written(path, ONE)
    path.write_bytes(path.read_bytes() + b'{"log-0001": {"3"')
    before = path.read_bytes()
    assert Journal(path, writable=False).read() == [ONE]
    assert path.read_bytes() == before


@pytest.mark.parametrize("last", [b'{"log-0001":\x00\x00\x00\n', b'{"log-0001": {"3": {"ty\n',
                                  b'\n', b'["not", "a", "change"]\n'])
def test_a_damaged_last_line_that_ends_with_a_newline_is_refused(tmp_path: Path,
                                                                 last: bytes) -> None:
    """A terminated line was written whole once: damage to it is no torn append."""
    path = tmp_path / "journal.jsonl"
    written(path, ONE)
    damaged = path.read_bytes() + last
    path.write_bytes(damaged)
    with pytest.raises(JournalDamaged, match="Zeile 2"):
        Journal(path, writable=True).read()
    assert path.read_bytes() == damaged, "nothing is cut off"
    with pytest.raises(JournalDamaged, match="Zeile 2"):
        Journal(path, writable=False).read()


def test_a_damaged_line_before_the_last_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    written(path, ONE, TWO)
    second = path.read_bytes().splitlines(keepends=True)[1]
    path.write_bytes(b'["not", "a", "change"]\n' + second)
    with pytest.raises(JournalDamaged, match="Zeile 1"):
        Journal(path, writable=True).read()
    assert path.read_bytes() == b'["not", "a", "change"]\n' + second


def test_a_write_cut_short_leaves_the_file_as_it_was(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, writable=True)
    journal.read()
    journal.append(ONE)
    before = path.read_bytes()
    real = os.pwrite
    calls: list[int] = []

    def half_then_full(fd: int, data: memoryview, offset: int) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real(fd, data[: len(data) // 2], offset)
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))

    monkeypatch.setattr(journal_module.os, "pwrite", half_then_full)
    with pytest.raises(OSError):
        journal.append(TWO)
    monkeypatch.undo()
    assert path.read_bytes() == before
    journal.append(TWO)
    journal.close()
    assert Journal(path, writable=False).read() == [ONE, TWO]


def test_a_write_that_makes_no_progress_fails_instead_of_spinning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    journal = Journal(tmp_path / "journal.jsonl", writable=True)
    journal.read()
    monkeypatch.setattr(journal_module.os, "pwrite", lambda fd, data, offset: 0)
    with pytest.raises(OSError) as info:
        journal.append(ONE)
    assert info.value.errno == errno.ENOSPC
    journal.close()


def test_clearing_empties_the_file(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path, writable=True)
    journal.read()
    journal.append(ONE)
    journal.clear()
    assert path.read_bytes() == b"" and journal.lines == 0
    journal.append(TWO)
    journal.close()
    assert Journal(path, writable=False).read() == [TWO]
