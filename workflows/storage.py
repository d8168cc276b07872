"""Crash-safe file storage for TinyDB: atomic replace, daily backups, one process per directory."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

BACKUPS_KEPT = 14
log = logging.getLogger(__name__)


class StoreError(Exception):
    """The database cannot be opened or written; the message is for people."""


class StoreCorruptError(StoreError):
    """The database file does not parse; it is left untouched."""


class StoreLockedError(StoreError):
    """Another apbot process holds the data directory."""


class StoreWriteError(StoreError):
    """A write failed (disk full, permissions); the previous file is intact."""


def newest_backup(backup_dir: Path) -> Path | None:
    backups = sorted(backup_dir.glob("*.json"))
    return backups[-1] if backups else None


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable. The new file is already in place, so a failure here is
    logged, not raised: reporting the write as failed would be untrue."""
    try:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as err:
        log.warning("could not fsync directory %s: %s", directory, err)


def atomic_write(path: Path, payload: bytes) -> None:
    """Replace `path` with `payload` so that a crash leaves either the old or the new file."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


class AtomicJSONStorage(Storage):
    """TinyDB storage that never rewrites its file in place.

    The parsed document stays in memory (the directory lock guarantees that no
    other process writes), so a query does not re-read the file; every write
    goes to a temporary file that replaces the old one.
    """

    def __init__(self, path: Path, backup_dir: Path, read_only: bool = False) -> None:
        self.path = path
        self.backup_dir = backup_dir
        self.read_only = read_only
        self.write_day: date | None = None  # set by the Store before each write
        self._backed_up_on: date | None = None
        self._data: dict[str, dict[str, Any]] | None = None
        self._batching = False
        self._pending: dict[str, dict[str, Any]] | None = None

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise StoreError(f"Die Datenbank {self.path} lässt sich nicht lesen "
                             f"({err.strerror or err}).") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self._corrupt(f"kein gültiges JSON: {err}") from None
        if not isinstance(data, dict) or not all(
            isinstance(table, dict) for table in data.values()
        ):
            raise self._corrupt("unerwarteter Aufbau")
        return data

    def _corrupt(self, reason: str) -> StoreCorruptError:
        backup = newest_backup(self.backup_dir)
        hint = (f"Neueste Sicherung: {backup} – zum Wiederherstellen apbot beenden und die "
                f"Sicherung an die Stelle der Datenbank kopieren."
                if backup else "Es gibt keine Sicherung.")
        return StoreCorruptError(
            f"Die Datenbank {self.path} ist beschädigt ({reason}). apbot hat sie nicht "
            f"verändert und startet nicht, damit nichts verloren geht. {hint}"
        )

    def read(self) -> dict[str, dict[str, Any]] | None:
        if self._data is None:
            self._data = self._load()
        return self._data

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several TinyDB writes that reach the disk as one: all of them or none."""
        if self._batching:
            yield
            return
        self._batching, self._pending = True, None
        try:
            yield
        except BaseException:
            self._data = None  # forget the half-done changes; the disk has none of them
            raise
        finally:
            self._batching = False
        pending, self._pending = self._pending, None
        if pending is not None:
            self.write(pending)

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        if self.read_only:
            self._data = None
            raise StoreWriteError(f"{self.path} ist nur zum Lesen geöffnet.")
        if self._batching:
            self._pending = data
            return
        payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        try:
            self._backup_once_a_day()
            atomic_write(self.path, payload)
        except OSError as err:
            # TinyDB has already changed the in-memory tables: forget them so the
            # next read shows what is really on disk.
            self._data = None
            raise StoreWriteError(
                f"Speichern in {self.path} fehlgeschlagen ({err.strerror or err}); "
                f"die Datenbank ist unverändert."
            ) from err
        self._data = data

    def _backup_once_a_day(self) -> None:
        day = self.write_day
        if day is None or day == self._backed_up_on:
            return
        if self.path.exists():
            self.backup_dir.mkdir(exist_ok=True)
            target = self.backup_dir / f"{self.path.stem}-{day.isoformat()}.json"
            if not target.exists():
                tmp = target.with_suffix(".tmp")
                try:
                    shutil.copyfile(self.path, tmp)
                    os.replace(tmp, target)
                finally:
                    with contextlib.suppress(OSError):
                        tmp.unlink()
            for old in sorted(self.backup_dir.glob(f"{self.path.stem}-*.json"))[:-BACKUPS_KEPT]:
                old.unlink()
        self._backed_up_on = day

    def close(self) -> None:
        self._data = None


class DirectoryLock:
    """An exclusive lock on a data directory, held for the life of the process."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "apbot.lock"
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise StoreError(f"Die Sperrdatei {self.path} lässt sich nicht anlegen "
                             f"({err.strerror or err}).") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StoreLockedError(
                f"Im Datenverzeichnis {self.path.parent} läuft schon ein apbot (PID {holder}). "
                f"Pro Datenverzeichnis darf nur einer laufen."
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
