"""The daily backups of a data directory: list them, and restore one without losing anything.

The storage copies the database to `backups/apbot-<day>/` before each day's first write
(workflows/storage.py). Restoring puts such a copy back in place of the database, and
keeps the database as it was first, as a backup of its own,
`backups/apbot-<day>-vor-wiederherstellung-<HHMMSS>/`, which is listed, rotated and can
be restored like the daily ones. It runs only with the data directory's lock held (the
caller takes it: no bot may run meanwhile), checks the backup opens before anything is
touched, and checks the restored database opens afterwards; if that fails, the state
kept first is put back.

Only the database is restored (`apbot.json`, `log/`); the plan file, the inbox of
Telegram updates not yet answered and the exports stay as they are. Of the database,
what records the world outside is carried over from the state before (`CARRIED`, merged
with the backup's, the state before winning): the log of the automatic posts sent (else
a post sent since the backup's day would be sent again at start-up, as a catch-up), the
chats that moved to a supergroup, and the calendar events' versions (a SEQUENCE that went
back would make calendars ignore the next export). Reports, milestones and everything
else are the backup's.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from workflows.journal import fsync_dir
from workflows.storage import StoreError, atomic_write, database_files
from workflows.store import DB_NAME, Store

BACKUP_DIR = "backups"
PREFIX = "apbot-"  # the storage names its backups after the main file: apbot-<day>
SAFETY_MARK = "vor-wiederherstellung"
# Tables of apbot.json whose entries are kept from the state before, by the field that
# names an entry: the backup's entries that the state before lacks are kept too.
CARRIED = {"posts": "key", "chats": "old", "calendar": "uid", "buttons": "key"}
_NAME = re.compile(rf"{PREFIX}(\d{{4}}-\d{{2}}-\d{{2}})(?:-{SAFETY_MARK}-(\d{{6}}))?")


@dataclass(frozen=True)
class Backup:
    """One backup directory."""

    name: str  # apbot-2026-11-28, or apbot-2026-12-02-vor-wiederherstellung-101500
    path: Path
    day: date
    size: int  # bytes, all its files
    before_restore: bool  # kept by a restore, not by the daily backup


@dataclass(frozen=True)
class Contents:
    """What a database holds, as far as people count it."""

    reports: int  # progress reports, withdrawn ones not counted
    marks: int  # milestones marked reached, withdrawn ones not counted
    withdrawn: int


@dataclass(frozen=True)
class Restored:
    """The outcome of a restore: what is in place now, and where the state before is."""

    backup: Backup
    contents: Contents
    kept: Backup | None  # None: there was no database to keep
    carried: bool  # the CARRIED tables are those of the state before (False: unreadable)


class BackupError(StoreError):
    """A backup that does not exist or does not open; nothing has been changed."""


def backup_dir(data_dir: Path) -> Path:
    return data_dir / BACKUP_DIR


def _size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def list_backups(data_dir: Path) -> list[Backup]:
    """The backups of `data_dir`, oldest first (by name, which sorts by day and time)."""
    found = []
    folder = backup_dir(data_dir)
    candidates = sorted(folder.glob(f"{PREFIX}*")) if folder.is_dir() else []
    for path in candidates:
        match = _NAME.fullmatch(path.name)
        if match is None or not path.is_dir():
            continue
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            continue
        found.append(Backup(path.name, path, day, _size(path), match.group(2) is not None))
    return found


def parse_day(text: str) -> date | None:
    """2026-11-28 or 28.11.2026; None for anything else."""
    with contextlib.suppress(ValueError):
        return date.fromisoformat(text)
    with contextlib.suppress(ValueError):
        return datetime.strptime(text, "%d.%m.%Y").date()  # noqa: DTZ007 (a day, no time)
    return None


def find_backup(data_dir: Path, wanted: str) -> Backup:
    """The backup named by a day (the daily one of that day) or by its name as listed."""
    backups = list_backups(data_dir)
    wanted = wanted.strip().rstrip("/")
    day = parse_day(wanted)
    for backup in backups:
        if (day is not None and backup.day == day and not backup.before_restore) or (
            backup.name == wanted or backup.name == f"{PREFIX}{wanted}"
        ):
            return backup
    if day is not None:
        shown = day.strftime("%d.%m.%Y")
        others = [b.name for b in backups if b.day == day]
        hint = f" Vom selben Tag gibt es: {', '.join(others)}." if others else ""
        raise BackupError(f"Es gibt keine tägliche Sicherung vom {shown}.{hint} "
                          "Die Sicherungen zeigt `python -m bot backups`.")
    raise BackupError(f"„{wanted}“ ist weder ein Datum (2026-11-28) noch der Name einer "
                      "Sicherung. Die Sicherungen zeigt `python -m bot backups`.")


def contents(directory: Path, now: datetime) -> Contents:
    """Open the database in `directory` read-only and count; StoreError if it does not open.

    Opening parses every file and every log record, as the bot does at start-up, so a
    database that passes here also lets the bot start."""
    store = Store.open(directory, now, read_only=True)
    try:
        updates, marks = store.updates(), store.marks()
    finally:
        store.close()
    return Contents(
        reports=sum(not u.withdrawn for u in updates),
        marks=sum(not m.withdrawn for m in marks),
        withdrawn=sum(u.withdrawn for u in updates) + sum(m.withdrawn for m in marks),
    )


def backup_contents(backup: Backup, now: datetime) -> Contents:
    """What a backup holds; BackupError naming it if it does not open."""
    if not (backup.path / DB_NAME).is_file():
        raise BackupError(f"Die Sicherung {backup.path} enthält keine {DB_NAME}.")
    try:
        return contents(backup.path, now)
    except StoreError as err:
        raise BackupError(f"Die Sicherung {backup.path} lässt sich nicht öffnen: {err}") from None


def _copy_database(source: Path, target: Path) -> None:
    """Copy the database files under `source` to the new directory `target`, made durable
    under a temporary name first so that `target` is either complete or absent."""
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        for path in database_files(source / DB_NAME):
            dest = tmp / path.relative_to(source)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            with open(dest, "rb") as file:
                os.fsync(file.fileno())
        for folder in {tmp, *(p.parent for p in tmp.rglob("*"))}:
            if folder.is_dir():
                fsync_dir(folder)
        os.replace(tmp, target)
        fsync_dir(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def keep_current(data_dir: Path, now: datetime) -> Backup | None:
    """Copy the database as it is now (also a damaged one) to a backup of its own."""
    if not database_files(data_dir / DB_NAME):
        return None
    name = f"{PREFIX}{now.date().isoformat()}-{SAFETY_MARK}-{now.strftime('%H%M%S')}"
    target = backup_dir(data_dir) / name
    target.parent.mkdir(exist_ok=True)
    if target.exists():  # two restores within a second: never overwrite a kept state
        raise StoreError(f"{target} gibt es schon; bitte eine Sekunde warten und noch "
                         "einmal versuchen.")
    _copy_database(data_dir, target)
    return Backup(name, target, now.date(), _size(target), True)


def _outside_facts(data_dir: Path) -> dict[str, Any] | None:
    """The CARRIED tables of the database now in `data_dir`; None if it does not read."""
    try:
        tables = json.loads((data_dir / DB_NAME).read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(tables, dict):
        return None
    return {name: tables[name] for name in CARRIED if isinstance(tables.get(name), dict)}


def _merged(restored: dict[str, Any], before: dict[str, Any], field: str) -> dict[str, Any]:
    """The entries of `before`, and those of `restored` that name what `before` does not
    (numbered after them, as TinyDB numbers documents)."""
    merged = dict(before)
    named = {doc.get(field) for doc in before.values() if isinstance(doc, dict)}
    next_id = max((int(k) for k in merged if k.isdigit()), default=0) + 1
    for doc in restored.values():
        if isinstance(doc, dict) and doc.get(field) not in named:
            merged[str(next_id)] = doc
            next_id += 1
    return merged


def _swap_in(data_dir: Path, source: Path, carry: dict[str, Any] | None = None) -> None:
    """Replace the database in `data_dir` with the one in `source` (a complete copy),
    with the tables in `carry` in place of the copy's."""
    staged = data_dir / ".restore.tmp"
    old = data_dir / ".restore-old.tmp"
    for leftover in (staged, old):
        shutil.rmtree(leftover, ignore_errors=True)
    _copy_database(source, staged)
    if carry is not None:
        main = staged / DB_NAME
        tables = json.loads(main.read_bytes().decode("utf-8"))
        for name, field in CARRIED.items():
            merged = _merged(tables.get(name) or {}, carry.get(name) or {}, field)
            if merged:
                tables[name] = merged
        atomic_write(main, json.dumps(tables, ensure_ascii=False,
                                      separators=(",", ":")).encode("utf-8"))
    old.mkdir()
    # Move the current files aside, then the staged ones in: renames within one file
    # system. The state before is kept as a backup already, whatever happens here.
    main, log_dir = data_dir / DB_NAME, data_dir / "log"
    if log_dir.exists():
        os.replace(log_dir, old / "log")
    if main.exists():
        os.replace(main, old / DB_NAME)
    if (staged / "log").exists():
        os.replace(staged / "log", log_dir)
    os.replace(staged / DB_NAME, main)
    fsync_dir(data_dir)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staged, ignore_errors=True)


def restore(data_dir: Path, backup: Backup, now: datetime) -> Restored:
    """Put `backup` in place of the database; the caller holds the directory's lock.

    The current state goes to a backup of its own first. Raises BackupError (nothing
    changed) when the backup does not open, StoreError when a step fails; then the
    database is the state before, or that state is in the kept backup (the message
    names it)."""
    expected = backup_contents(backup, now)
    kept = keep_current(data_dir, now)
    carry = _outside_facts(data_dir)
    try:
        _swap_in(data_dir, backup.path, carry)
        restored = contents(data_dir, now)
        if restored != expected:
            raise StoreError(f"die wiederhergestellte Datenbank zählt {restored}, die "
                             f"Sicherung {expected}")
    except (OSError, StoreError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        if kept is None:
            raise StoreError(f"Wiederherstellen fehlgeschlagen ({reason}).") from err
        try:
            _swap_in(data_dir, kept.path)
        except OSError:
            raise StoreError(
                f"Wiederherstellen fehlgeschlagen ({reason}), und der Stand davor ließ sich "
                f"nicht zurückholen: er liegt unverändert in {kept.path}."
            ) from err
        raise StoreError(f"Wiederherstellen fehlgeschlagen ({reason}); die Datenbank ist "
                         f"wieder wie vorher (auch in {kept.path}).") from err
    return Restored(backup, restored, kept, carried=carry is not None)
