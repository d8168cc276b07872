"""The progress log's journal: each write of the log is one line appended and fsynced.

Rewriting a log file of up to 100 records for every report costs encoding it, a
temporary file, two fsyncs and a rename; appending one line costs one fsync. The
journal holds what changed since the log files were last written in full; every
`LINES_KEPT` lines (or `BYTES_KEPT` bytes, after a large transaction) the storage folds
it into them and empties it (compaction).

A line is one write: a JSON object mapping table name → document id → document,
or null for a document removed. Only whole lines count. An unterminated last line
is an append torn by a crash or a full disk — it was never confirmed, since its fsync
did not return — and is dropped; it is the only thing apbot cuts off on its own. Any
line that ends with a newline and does not parse, the last one too, means the file
is damaged: nothing is cut, and start-up stops naming the line.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Changes = dict[str, dict[str, Any]]  # table → document id → document (None: removed)
LINES_KEPT = 200  # compaction after this many lines: one write in 200 pays for it
BYTES_KEPT = 1 << 20  # or this many bytes, so that start-up never parses much journal


class JournalDamaged(Exception):
    """A whole (newline-terminated) line does not parse; the message says which."""


class Journal:
    """An append-only file of changes; one writer (the directory lock sees to that)."""

    def __init__(self, path: Path, writable: bool) -> None:
        self.path = path
        self.writable = writable
        self.lines = 0
        self._size = 0  # bytes of whole lines: where the next line goes
        self._fd: int | None = None

    def read(self) -> list[Changes]:
        """Every whole line, oldest first. An unterminated last line is dropped (and cut off).

        Raises JournalDamaged for any whole line that does not parse: a line that ends
        with a newline was written completely once, so damage to it is not a torn append.
        """
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self.lines = self._size = 0
            return []
        *whole, _unfinished = raw.split(b"\n")  # after the last newline: a torn append
        entries: list[Changes] = []
        good = 0  # bytes of whole, parsed lines
        for number, line in enumerate(whole, start=1):
            entry = _parse(line)
            if entry is None:
                raise JournalDamaged(f"Zeile {number} ist unlesbar")
            entries.append(entry)
            good += len(line) + 1
        if good < len(raw) and self.writable:
            # (A reader beside the running bot may just see a line being written.)
            log.warning("%s: an incomplete last entry (never confirmed) is dropped", self.path)
            self._truncate(good)
        self.lines, self._size = len(entries), good
        return entries

    def append(self, changes: Changes) -> None:
        """Write one line and fsync it; on any error the file is as it was (or torn at the end).

        Text that UTF-8 cannot encode (a lone surrogate) raises UnicodeEncodeError before
        anything is written; the Store cleans such text before it gets here.
        """
        line = (json.dumps(changes, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        fd = self._open()
        try:
            # At the known end, not O_APPEND: a line torn by an earlier failure is overwritten.
            view, offset = memoryview(line), self._size
            while view:
                written = os.pwrite(fd, view, offset)
                if written == 0:  # no progress: treat it as the full disk it must be
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view, offset = view[written:], offset + written
            if os.fstat(fd).st_size > offset:
                os.ftruncate(fd, offset)
            os.fsync(fd)
        except BaseException:  # not only OSError: an interrupt mid-write leaves a torn end too
            with contextlib.suppress(OSError):
                os.ftruncate(fd, self._size)
            raise
        self._size += len(line)
        self.lines += 1

    @property
    def end(self) -> int:
        """Bytes of whole lines: where the next line goes."""
        return self._size

    def take_back(self, end: int) -> None:
        """Remove the one line appended after `end` (read from `end` just before it)."""
        fd = self._open()
        os.ftruncate(fd, end)
        self.lines, self._size = self.lines - 1, end
        os.fsync(fd)

    def clear(self) -> None:
        """Empty the journal, once everything in it is in the log files."""
        fd = self._open()
        os.ftruncate(fd, 0)
        os.fsync(fd)
        self.lines = self._size = 0

    @property
    def full(self) -> bool:
        """Time to fold the journal into the log files."""
        return self.lines >= LINES_KEPT or self._size >= BYTES_KEPT

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(exist_ok=True)
            new = not self.path.exists()
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
            if new:
                fsync_dir(self.path.parent)  # the file itself must survive a crash too
        return self._fd

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as file:
            file.truncate(size)
            os.fsync(file.fileno())


def _parse(line: bytes) -> Changes | None:
    try:
        entry = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(entry, dict) or not all(
        isinstance(docs, dict) and all(doc is None or isinstance(doc, dict)
                                       for doc in docs.values())
        for docs in entry.values()
    ):
        return None
    return entry


def fsync_dir(directory: Path) -> None:
    """Make a new or renamed directory entry durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
