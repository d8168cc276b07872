"""`python -m bot backups` and `python -m bot restore 2026-11-28 [--yes]`.

`backups` only reads: it lists the daily backups (and the states kept by a restore) with
day, size and what they hold, and works beside the running bot.

`restore` writes, so it takes the data directory's lock first, as the bot does: while a
bot runs it refuses before anything is read or written, and while it runs no bot can
start. It works without the plan and with a damaged database (the usual reason to
restore), so it runs before anything else is opened (see bot/__main__.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from bot.settings import Settings
from workflows.backups import (
    Backup,
    BackupError,
    Contents,
    backup_contents,
    backup_dir,
    contents,
    find_backup,
    list_backups,
    restore,
)
from workflows.storage import DirectoryLock, StoreError, StoreLockedError, database_files
from workflows.store import DB_NAME

BACKUPS_MODE = "backups"
RESTORE_MODE = "restore"
EXIT_REFUSED = 2
YES = frozenset({"j", "ja", "y", "yes"})


def add_backup_parsers(sub: Any) -> None:
    """The subcommands `backups` and `restore`."""
    sub.add_parser(BACKUPS_MODE, help="die Sicherungen der Datenbank auflisten")
    back = sub.add_parser(RESTORE_MODE, help="eine Sicherung zurückholen (apbot muss dafür "
                          "gestoppt sein; der jetzige Stand wird vorher gesichert)")
    back.add_argument("backup", metavar="DATUM",
                      help="Tag der Sicherung, z. B. 2026-11-28, oder ihr Name aus `backups`")
    back.add_argument("--yes", action="store_true", help="ohne Rückfrage wiederherstellen")


def size_text(size: int) -> str:
    """Bytes in German: 512 B, 84 kB, 1,2 MB."""
    if size < 1000:
        return f"{size} B"
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB".replace(".", ",")


def contents_text(found: Contents) -> str:
    reports = "1 Meldung" if found.reports == 1 else f"{found.reports} Meldungen"
    marks = ("1 Meilenstein" if found.marks == 1 else f"{found.marks} Meilensteine")
    return f"{reports}, {marks} erreicht"


def _label(backup: Backup) -> str:
    if not backup.before_restore:
        return "tägliche Sicherung"
    time = backup.name.rsplit("-", 1)[1]
    return f"Stand vor einer Wiederherstellung um {time[:2]}:{time[2:4]}:{time[4:]}"


def run_backups(settings: Settings, now: datetime, out: TextIO = sys.stdout) -> int:
    """The list of backups, oldest first."""
    folder = backup_dir(settings.data_dir)
    backups = list_backups(settings.data_dir)
    if not backups:
        print(f"Noch keine Sicherung in {folder}. apbot legt sie an jedem Tag vor dem ersten "
              "Speichern an.", file=out)
        return 0
    print(f"Sicherungen in {folder} (die letzten 14 werden aufbewahrt):", file=out)
    for backup in backups:
        try:
            held = contents_text(backup_contents(backup, now))
        except BackupError as err:
            held = f"❌ lässt sich nicht öffnen ({err})"
        print(f"  {backup.day:%d.%m.%Y}  {backup.name}  {size_text(backup.size)}  {held}  "
              f"({_label(backup)})", file=out)
    newest = next((b for b in reversed(backups) if not b.before_restore), backups[-1])
    wanted = newest.day.isoformat() if not newest.before_restore else newest.name
    print(f"Zurückholen, z. B.: python -m bot restore {wanted}", file=out)
    return 0


def _confirmed(ask: Callable[[str], str | None]) -> bool:
    answer = ask("Wiederherstellen? [j/N] ")
    return answer is not None and answer.strip().lower() in YES


def ask_stdin(prompt: str) -> str | None:
    """The answer typed (or piped) on stdin; None at end of input."""
    print(prompt, end="", flush=True)
    line = sys.stdin.readline()
    if not sys.stdin.isatty():
        print(line.strip())  # piped: show the answer, as a terminal would
    return line if line else None


def run_restore(args: argparse.Namespace, settings: Settings, now: datetime,
                ask: Callable[[str], str | None] = ask_stdin) -> int:
    """Restore a backup after a confirmation (or --yes); refuse while a bot runs."""
    data_dir = settings.data_dir
    if not data_dir.is_dir():
        print(f"apbot: Das Datenverzeichnis {data_dir} gibt es nicht (APBOT_DATA_DIR).",
              file=sys.stderr)
        return EXIT_REFUSED
    lock = DirectoryLock(data_dir)
    try:
        lock.acquire()
    except StoreLockedError as err:
        print(f"apbot: {err} Zum Wiederherstellen apbot erst beenden (z. B. "
              "`systemctl stop apbot`); es wurde nichts verändert.", file=sys.stderr)
        return EXIT_REFUSED
    except StoreError as err:
        print(f"apbot: {err} Es wurde nichts verändert.", file=sys.stderr)
        return EXIT_REFUSED
    try:
        return _restore_locked(args, settings, now, ask)
    finally:
        lock.release()


def _restore_locked(args: argparse.Namespace, settings: Settings, now: datetime,
                    ask: Callable[[str], str | None]) -> int:
    data_dir = settings.data_dir
    try:
        backup = find_backup(data_dir, args.backup)
        held = backup_contents(backup, now)
    except BackupError as err:
        print(f"apbot: {err} Es wurde nichts verändert.", file=sys.stderr)
        return EXIT_REFUSED
    print(f"Sicherung {backup.name} ({backup.day:%d.%m.%Y}, {size_text(backup.size)}): "
          f"{contents_text(held)}.")
    if not database_files(data_dir / DB_NAME):
        print(f"Jetzt liegt in {data_dir} keine Datenbank.")
    else:
        try:
            now_held = contents_text(contents(data_dir, now))
        except StoreError as err:
            now_held = f"lässt sich nicht öffnen ({err})"
        print(f"Jetziger Stand in {data_dir}: {now_held}. Er wird vorher als eigene "
              "Sicherung aufbewahrt; welche automatischen Beiträge schon gesendet wurden, "
              "bleibt vermerkt.")
    if not args.yes and not _confirmed(ask):
        print("Abgebrochen, es wurde nichts verändert.")
        return 1
    try:
        done = restore(data_dir, backup, now)
    except BackupError as err:
        print(f"apbot: {err} Es wurde nichts verändert.", file=sys.stderr)
        return EXIT_REFUSED
    except (OSError, StoreError) as err:
        print(f"apbot: {err}", file=sys.stderr)
        return 1
    print(f"✅ Wiederhergestellt: {backup.name} – {contents_text(done.contents)}; die "
          "Datenbank öffnet sich.")
    if done.kept is not None:
        print(f"Der Stand davor liegt in {done.kept.path} (zurück mit: python -m bot "
              f"restore {done.kept.name}).")
        if done.carried:
            print("Vom Stand davor übernommen: welche automatischen Beiträge gesendet wurden "
                  "(nichts wird doppelt gepostet), Gruppen-Umzüge und Kalender-Versionen.")
        else:
            print(f"⚠️ Der Stand davor ließ sich nicht lesen: automatische Beiträge seit dem "
                  f"{backup.day:%d.%m.%Y} können beim Start noch einmal gesendet werden.")
    print("Jetzt apbot wieder starten (z. B. `systemctl start apbot`).")
    return 0
