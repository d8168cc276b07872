"""Crash-safe file storage for TinyDB: a split log with a journal, daily backups, one process.

TinyDB hands its storage the whole database on every write. Rewriting all of it
would make each write cost grow with the history (about 0.5 s at 50k records),
so this storage keeps the small tables in `apbot.json` and each chunk of the
progress log ("log-0001", …) in a file of its own under `log/`. A change of the log
is appended to `log/journal.jsonl` (one line, one fsync) and folded into the chunk
files every few hundred writes; `apbot.json` and the chunk files are only ever
replaced atomically.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from workflows.journal import Changes, Journal, JournalDamaged, fsync_dir

BACKUPS_KEPT = 14
BACKUP_RETRY = timedelta(hours=1)  # a failed backup is tried again this much later
LOG_PREFIX = "log-"  # tables named so live in log/<number>.json
JOURNAL_NAME = "journal.jsonl"  # in log/
log = logging.getLogger(__name__)

Tables = dict[str, dict[str, Any]]


class StoreError(Exception):
    """The database cannot be opened or written; the message is for people."""


class StoreCorruptError(StoreError):
    """A database file does not parse; it is left untouched."""


class StoreLockedError(StoreError):
    """Another apbot process holds the data directory."""


class StoreWriteError(StoreError):
    """A write failed (disk full, permissions); the previous files are intact."""


class Notices:
    """Problems the admins are told about: each once, until it is over and comes back."""

    def __init__(self) -> None:
        self._active: set[str] = set()
        self._pending: list[str] = []

    def problem(self, key: str, text: str) -> None:
        """`key` is failing; `text` is handed out unless it is failing already."""
        if key not in self._active:
            self._active.add(key)
            self._pending.append(text)

    def resolved(self, key: str) -> None:
        """`key` works again: its next failure is told again."""
        self._active.discard(key)

    def take(self) -> list[str]:
        """The notices not yet handed out, oldest first; each is handed out once."""
        pending, self._pending = self._pending, []
        return pending


_REASONS = {
    errno.ENOSPC: "kein Platz mehr auf dem Datenträger",
    errno.EDQUOT: "Speicherkontingent erschöpft",
    errno.EACCES: "keine Berechtigung",
    errno.EPERM: "keine Berechtigung",
    errno.EROFS: "Datenträger nur lesbar",
    errno.EIO: "Ein-/Ausgabefehler",
    errno.EEXIST: "dort liegt eine Datei statt eines Verzeichnisses",
    errno.ENOTDIR: "dort liegt eine Datei statt eines Verzeichnisses",
}


def _reason(err: BaseException) -> str:
    """Why a file operation failed, in German where the cause is a common one."""
    if isinstance(err, OSError):
        return _REASONS.get(err.errno or 0) or err.strerror or str(err)
    return type(err).__name__


def newest_backup(backup_dir: Path) -> Path | None:
    backups = sorted(p for p in backup_dir.glob("apbot-*") if p.is_dir())
    return backups[-1] if backups else None


def database_files(main: Path) -> list[Path]:
    """The files that make up the database whose main file is `main` (those that exist):
    the main file, the log chunks and the journal — what a backup holds."""
    log_dir = main.parent / "log"
    chunks = sorted(log_dir.glob("*.json")) if log_dir.is_dir() else []
    return [p for p in [main, *chunks, log_dir / JOURNAL_NAME] if p.exists()]


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable. The new file is already in place, so a failure here is
    logged, not raised: reporting the write as failed would be untrue."""
    try:
        fsync_dir(directory)
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
    """TinyDB storage over several JSON files that never rewrites a file in place.

    The parsed tables stay in memory (the directory lock guarantees that no other
    process writes), so a query does not re-read anything. A write compares each
    table with what was last written — TinyDB puts a new dict in place of every
    table it changes. Changed log tables are compared document by document with a
    copy of what is on disk, and the changed documents go to the journal in one line;
    other changed tables are written to `apbot.json`.
    """

    def __init__(self, path: Path, backup_dir: Path, read_only: bool = False) -> None:
        self.path = path  # the main file; the log chunks live in path.parent / "log"
        self.log_dir = path.parent / "log"
        self.backup_dir = backup_dir
        self.read_only = read_only
        self.write_time: datetime | None = None  # set by the Store before each write
        self.notices = Notices()
        self._backed_up_on: date | None = None
        self._backup_failed: tuple[date, datetime] | None = None  # day, when (UTC)
        self._data: Tables | None = None
        self._written: dict[str, dict[str, Any]] = {}  # table → the dict last on disk
        self._batching = False
        self._pending: Tables | None = None
        self.journal = Journal(self.log_dir / JOURNAL_NAME, writable=not read_only)
        self._journaled: dict[str, dict[str, Any]] | None = None  # not yet in the chunk files
        self._on_disk: dict[str, dict[str, dict[str, Any]]] = {}  # log table → copies of docs

    def file_of(self, table: str) -> Path:
        if table.startswith(LOG_PREFIX):
            return self.log_dir / f"{table.removeprefix(LOG_PREFIX)}.json"
        return self.path

    def _load_file(self, path: Path) -> Tables:
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as err:
            raise StoreError(f"Die Datenbank {path} lässt sich nicht lesen "
                             f"({err.strerror or err}).") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise self._corrupt(path, f"kein gültiges JSON: {err}") from None
        if not isinstance(data, dict) or not all(
            isinstance(table, dict) for table in data.values()
        ):
            raise self._corrupt(path, "unerwarteter Aufbau")
        if any(self.file_of(name) != path for name in data):
            raise self._corrupt(path, "Tabelle in der falschen Datei")
        return data

    def _load(self) -> Tables:
        return _LazyTables(self, self._load_file(self.path))

    def _replay(self) -> dict[str, dict[str, Any]]:
        """The journal's changes, per table, oldest first folded into one (read once)."""
        if self._journaled is None:
            try:
                entries = self.journal.read()
            except JournalDamaged as err:
                raise self._corrupt(self.journal.path, str(err)) from None
            except OSError as err:
                raise StoreError(f"Das Journal {self.journal.path} lässt sich nicht lesen "
                                 f"({err.strerror or err}).") from None
            journaled: dict[str, dict[str, Any]] = {}
            for entry in entries:
                for name, docs in entry.items():
                    if not name.startswith(LOG_PREFIX):
                        raise self._corrupt(self.journal.path, f"fremde Tabelle {name!r}")
                    journaled.setdefault(name, {}).update(docs)
            self._journaled = journaled
        return self._journaled

    def _log_table(self, name: str) -> dict[str, Any]:
        """A log table as it is: its file ({} when there is none yet) and the journal."""
        table: dict[str, Any] = self._load_file(self.file_of(name)).get(name, {})
        for doc_id, doc in self._replay().get(name, {}).items():
            if doc is None:
                table.pop(doc_id, None)
            else:
                table[doc_id] = doc
        return table

    def load_table(self, name: str) -> dict[str, Any]:
        """A log table for TinyDB to change, remembered as written."""
        table = self._log_table(name)
        self._written[name] = table
        # Flat documents (str, int, bool, None values): a shallow copy is a true copy.
        self._on_disk[name] = {doc_id: dict(doc) for doc_id, doc in table.items()}
        return table

    def log_tables(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every log table, oldest first, read one file at a time.

        Tables already in memory are given as they are; the others are read and let go
        again, so the whole history is never held twice (raw and as records)."""
        data = self.read()
        assert isinstance(data, _LazyTables)
        chunks = self.log_dir.glob("*.json") if self.log_dir.is_dir() else []
        names = {f"{LOG_PREFIX}{chunk.stem}" for chunk in chunks} | set(self._replay())
        for name in sorted(names):
            yield name, data[name] if name in data else self._log_table(name)

    def damaged_record(self, table: str, doc_id: str, reason: str) -> StoreCorruptError:
        """The error for a log record that does not make sense, naming where it is written."""
        in_journal = doc_id in self._replay().get(table, {})
        path = self.journal.path if in_journal else self.file_of(table)
        return self._corrupt(path, f"Eintrag {doc_id}: {reason}")

    def _corrupt(self, path: Path, reason: str) -> StoreCorruptError:
        backup = newest_backup(self.backup_dir)
        hint = (f"Neueste Sicherung: {backup} – zum Wiederherstellen apbot beenden und den "
                f"Inhalt der Sicherung an die Stelle der Datenbank kopieren."
                if backup else "Es gibt keine Sicherung.")
        return StoreCorruptError(
            f"Die Datenbank {path} ist beschädigt ({reason}). apbot hat sie nicht "
            f"verändert und startet nicht, damit nichts verloren geht. {hint}"
        )

    def read(self) -> Tables | None:
        if self._data is None:
            self._written = {}
            self._data = self._load()
            self._written.update(self._data)
            self._replay()  # a damaged journal must stop start-up too, not a later read
        return self._data

    def forget(self) -> None:
        """Drop what is in memory; the next read shows what is on disk."""
        self._data = None
        self._written = {}
        self._journaled = None
        self._on_disk = {}
        self._pending = None  # a batch under way would otherwise write what was dropped

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Several TinyDB writes that reach the disk together (one write per file touched)."""
        if self._batching:
            yield
            return
        self._batching, self._pending = True, None
        try:
            yield
        except BaseException:
            self.forget()  # the half-done changes never reached the disk
            raise
        finally:
            self._batching = False
        pending, self._pending = self._pending, None
        if pending is not None:
            self.write(pending)

    def write(self, data: Tables) -> None:
        if self.read_only:
            self.forget()
            raise StoreWriteError(f"{self.path} ist nur zum Lesen geöffnet.")
        if self._batching:
            self._pending = data
            return
        changed = [name for name, table in data.items() if self._written.get(name) is not table]
        log_changes: Changes = {}
        for name in changed:
            if name.startswith(LOG_PREFIX) and (docs := self._changed_docs(name, data[name])):
                log_changes[name] = docs
        main_changed = any(not name.startswith(LOG_PREFIX) for name in changed)
        self._backup_once_a_day()  # never raises: a failed backup does not stop a write
        path, journal_end, appended = self.journal.path, self.journal.end, False
        try:
            # The log first, the main file last: a crash in between leaves a record in
            # the log whose post-log or meta entry is missing, never the reverse.
            if log_changes:
                self.journal.append(log_changes)
                appended = True
            if main_changed:
                path = self.path
                atomic_write(path, _dumps({name: table for name, table in data.items()
                                           if not name.startswith(LOG_PREFIX)}))
        except BaseException as err:
            # Whatever failed (a full disk, text UTF-8 cannot encode, a bug): TinyDB has
            # already changed the in-memory tables, so forget them and the next read
            # shows what is really on disk.
            unchanged = not appended or self._take_back(journal_end)
            self.forget()
            if not isinstance(err, Exception):
                raise  # an interrupt or exit stays what it is
            if not isinstance(err, OSError):
                log.error("writing %s failed", path, exc_info=err)
            outcome = ("die Datenbank ist unverändert" if unchanged else
                       f"die Änderung am Fortschrittslog in {self.journal.path} bleibt")
            raise StoreWriteError(
                f"Speichern in {path} fehlgeschlagen ({_write_reason(err)}); {outcome}."
            ) from err
        for name in changed:
            self._written[name] = data[name]
        for name, docs in log_changes.items():
            on_disk, journaled = self._on_disk[name], self._replay().setdefault(name, {})
            for doc_id, doc in docs.items():
                journaled[doc_id] = doc
                if doc is None:
                    on_disk.pop(doc_id, None)
                else:
                    on_disk[doc_id] = dict(doc)
        self._data = data
        if self.journal.full:
            self._compact(data)

    def _take_back(self, journal_end: int) -> bool:
        """Remove the journal line of a write whose main file failed; False if it stays."""
        try:
            self.journal.take_back(journal_end)
        except OSError as err:
            log.warning("could not take back the last line of %s (%s); its change stays",
                        self.journal.path, err.strerror or err)
            return False
        return True

    def _changed_docs(self, name: str, table: dict[str, Any]) -> dict[str, Any]:
        """The documents of a log table that differ from disk (None: removed)."""
        on_disk = self._on_disk.setdefault(name, {})
        docs: dict[str, Any] = {doc_id: doc for doc_id, doc in table.items()
                                if on_disk.get(doc_id) != doc}
        docs.update(dict.fromkeys(on_disk.keys() - table.keys()))
        return docs

    def _compact(self, data: Tables) -> None:
        """Write each log table named in the journal to its file, then empty the journal.

        A crash in between leaves the journal full: read again, it changes nothing. A
        failure (disk full, or any other) leaves the journal as it is, and everything in
        it is safe: the write it follows has succeeded, so it is not reported as failed.
        """
        try:
            for name in sorted(self._replay()):
                atomic_write(self.file_of(name), _dumps({name: data[name]}))
            self.journal.clear()
        except Exception as err:
            log.warning("could not fold the journal into the log files (%s); it keeps "
                        "growing until that works", _write_reason(err),
                        exc_info=not isinstance(err, OSError))
            return
        self._journaled = {}

    def copy_to(self, target: Path) -> Path:
        """Copy every file of the database to `target` (a new folder, or one with a number
        appended when it exists); the copy is complete or not there."""
        candidate, n = target, 1
        while candidate.exists():
            n += 1
            candidate = target.with_name(f"{target.name}-{n}")
        tmp = candidate.with_name(f".{candidate.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            for path in self._files():
                dest = tmp / path.relative_to(self.path.parent)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, dest)
            tmp.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, candidate)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return candidate

    def _files(self) -> list[Path]:
        return database_files(self.path)

    def _backup_once_a_day(self) -> None:
        """Copy every file to backups/apbot-<day>/ before the day's first write.

        A failed backup never stops the write: it is logged naming the file that failed,
        the admins get one notice (until a backup works again), and it is tried again at
        the first write `BACKUP_RETRY` later or on another day — so the day's backup may
        hold the database as it was at a later write of that day.
        """
        now = self.write_time
        if now is None:
            return
        day, instant = now.date(), now.astimezone(UTC)  # UTC: no repeated autumn hour
        if day == self._backed_up_on:
            return
        failed = self._backup_failed
        if failed is not None and failed[0] == day and instant < failed[1] + BACKUP_RETRY:
            return
        target = self.backup_dir / f"{self.path.stem}-{day.isoformat()}"
        tmp = self.backup_dir / f".{target.name}.tmp"
        where = self.backup_dir  # what is being written, for the log when it fails
        try:
            files = self._files()
            if files:
                self.backup_dir.mkdir(exist_ok=True)
                if not target.exists():
                    try:
                        shutil.rmtree(tmp, ignore_errors=True)
                        for path in files:
                            where = dest = tmp / path.relative_to(self.path.parent)
                            dest.parent.mkdir(parents=True, exist_ok=True)
                            shutil.copyfile(path, dest)
                        where = target
                        os.replace(tmp, target)
                    finally:
                        shutil.rmtree(tmp, ignore_errors=True)
                for old in sorted(p for p in self.backup_dir.glob(f"{self.path.stem}-*")
                                  if p.is_dir())[:-BACKUPS_KEPT]:
                    shutil.rmtree(old, ignore_errors=True)
        except Exception as err:
            self._backup_failed = (day, instant)
            # A file of the database that cannot be read is named by the error itself.
            source = isinstance(err, OSError) and err.filename and Path(os.fsdecode(err.filename))
            if source and not source.is_relative_to(self.backup_dir):
                where = source
            log.warning("the daily backup failed at %s (%s); the write goes ahead, the "
                        "backup to %s is tried again from %s on", where, _write_reason(err),
                        target, (instant + BACKUP_RETRY).isoformat(timespec="minutes"),
                        exc_info=not isinstance(err, OSError))
            # The admins are shown the backup, not a temporary file that is gone again.
            shown = target if where.is_relative_to(tmp) else where
            full = isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT)
            advice = "bitte Speicherplatz prüfen" if full else f"bitte {shown} prüfen"
            self.notices.problem(
                "backup",
                f"⚠️ Die tägliche Sicherung der Datenbank ist fehlgeschlagen ({_reason(err)}): "
                f"{shown}. Die Meldungen werden weiter gespeichert; {advice}.",
            )
            return
        self._backed_up_on, self._backup_failed = day, None
        self.notices.resolved("backup")

    def close(self) -> None:
        self.journal.close()
        self.forget()


def _write_reason(err: BaseException) -> str:
    """What went wrong, for a write error's message and the log."""
    if isinstance(err, OSError):
        return err.strerror or str(err)
    return type(err).__name__


def _dumps(tables: Tables) -> bytes:
    return json.dumps(tables, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _LazyTables(dict[str, dict[str, Any]]):
    """The database as TinyDB sees it: the main tables, and each log table read from its
    file only when TinyDB first asks for it (to change a record in it)."""

    def __init__(self, storage: AtomicJSONStorage, tables: Tables) -> None:
        super().__init__(tables)
        self._storage = storage

    def __missing__(self, name: str) -> dict[str, Any]:
        if not name.startswith(LOG_PREFIX):
            raise KeyError(name)
        table = self._storage.load_table(name)
        self[name] = table
        return table


class DirectoryLock:
    """An exclusive lock on a data directory, held for the life of the process.

    The lock is taken on the directory itself (flock on its own descriptor): a lock
    file can be deleted while the bot runs, and a second bot would then lock a new file
    of the same name and write the same journal. apbot.lock only tells who holds the
    directory (its PID, for the message); it is locked too, as apbot did before, so an
    older apbot still running in the directory is seen as well.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "apbot.lock"
        self._dir_fd: int | None = None
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            dir_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as err:
            raise StoreError(f"Das Datenverzeichnis {self.directory} lässt sich nicht öffnen "
                             f"({err.strerror or err}).") from None
        try:
            self._lock(dir_fd)
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as err:
                raise StoreError(f"Die Sperrdatei {self.path} lässt sich nicht anlegen "
                                 f"({err.strerror or err}).") from None
            try:
                self._lock(fd)
                os.ftruncate(fd, 0)
                os.pwrite(fd, str(os.getpid()).encode(), 0)
            except BaseException:
                os.close(fd)
                raise
        except BaseException:
            os.close(dir_fd)  # closing drops the lock too
            raise
        self._dir_fd, self._fd = dir_fd, fd

    def _lock(self, fd: int) -> None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = f" (PID {pid})" if (pid := self._holder()) else ""
            raise StoreLockedError(
                f"Im Datenverzeichnis {self.directory} läuft schon ein apbot{holder}. "
                f"Pro Datenverzeichnis darf nur einer laufen."
            ) from None
        except OSError as err:
            raise StoreError(f"Das Datenverzeichnis {self.directory} lässt sich nicht sperren "
                             f"({err.strerror or err}).") from None

    def holder(self) -> str | None:
        """Whether an apbot holds the directory: None if not, else its PID ("" if unknown).

        Only looks: the lock is tried and at once let go, no file is created, so a running
        bot keeps its lock (a bot starting in that instant would be refused and retried
        by its service manager).
        """
        try:
            dir_fd = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return None  # no directory: nobody runs in it
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return self._holder()
        finally:
            os.close(dir_fd)  # closing lets go of a lock taken here
        return None

    def _holder(self) -> str:
        """The PID written by the process that holds the lock ("" if the file is gone)."""
        try:
            with open(self.path, "rb") as file:
                return file.read(32).decode(errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        for fd in (self._fd, self._dir_fd):
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
        self._fd = self._dir_fd = None
