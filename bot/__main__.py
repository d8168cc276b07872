"""Command line: `python -m bot` (Telegram with a token, else the console), `ask`, `console`,
the read-only `schedule` and `preview`, the files `gantt` and `export`, the plan as a
workbook (`plan`), and for whoever runs apbot `check`, `backups` and `restore`."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.cli.backups import (
    BACKUPS_MODE,
    RESTORE_MODE,
    add_backup_parsers,
    run_backups,
    run_restore,
)
from bot.cli.check import CHECK_MODE, add_check_parser, run_check
from bot.cli.exports import EXPORT_MODES, add_export_parsers, run_export
from bot.cli.plan import PLAN_MODE, add_plan_parsers, plan_read_only, run_plan
from bot.cli.posts import UsageError, parse_moment, preview_text, schedule_text
from bot.commands import COMMANDS
from bot.core import Core
from bot.frontends.console import Console, prompted_lines
from bot.logs import setup_logging
from bot.messages import Clock, Context, system_clock
from bot.render.chart_worker import start_chart_worker
from bot.settings import Settings, SettingsError, settings_from_env
from workflows.plan import PlanError, load_plan
from workflows.storage import StoreError
from workflows.store import Store

EXIT_FATAL = 1
EXIT_CONFIG = 2
LISTINGS = ("schedule", "preview")  # read the store without locking it, as EXPORT_MODES do


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="apbot",
        description="apbot – Assistent für den Arbeits- und Zeitplan Bildungskommunen. "
        "Mit APBOT_MATRIX_… läuft er in Matrix, mit TELEGRAM_BOT_TOKEN in Telegram, "
        "sonst in der Konsole.",
    )
    sub = parser.add_subparsers(dest="mode")
    ask = sub.add_parser("ask", help="eine Nachricht beantworten und beenden")
    ask.add_argument("text", nargs="+", help='z. B. "/status AP3"')
    sub.add_parser("console", help="Konsole, auch wenn ein Token gesetzt ist")
    schedule = sub.add_parser("schedule", help="geplante automatische Beiträge auflisten")
    schedule.add_argument("--from", dest="start",
                          help="ab Datum, z. B. 2026-12-01 (Standard: jetzt)")
    schedule.add_argument("--days", type=int, default=30, help="so viele Tage (Standard: 30)")
    preview = sub.add_parser("preview",
                             help="einen automatischen Beitrag zeigen, ohne ihn zu senden")
    preview.add_argument("kind", choices=["quarterly", "milestone", "meeting", "deadline"])
    preview.add_argument("subject", nargs="?",
                         help="Quartal (Q1 2027), Meilenstein (M3.3), Sitzung (jour-fixe) "
                              "oder Berichtsfrist (ZN2025, VN)")
    preview.add_argument("--date", help="Zeitpunkt, z. B. 2026-12-01 (Standard: jetzt)")
    add_export_parsers(sub)
    add_plan_parsers(sub)
    add_check_parser(sub)
    add_backup_parsers(sub)
    return parser.parse_args(argv)


def run_listing(args: argparse.Namespace, core: Core, now: datetime) -> int:
    """The read-only modes: schedule and preview."""
    tz = core.ctx.settings.timezone
    try:
        if args.mode == "schedule":
            start = parse_moment(args.start, tz) if args.start else now
            print(schedule_text(core.ctx, start, max(1, args.days)))
        else:
            moment = parse_moment(args.date, tz) if args.date else now
            print(preview_text(core.ctx, args.kind, args.subject, moment))
    except (UsageError, ValueError) as err:
        print(f"apbot: {err}", file=sys.stderr)
        return EXIT_CONFIG
    return 0


def open_core(settings: Settings, now: datetime, read_only: bool = False) -> Core:
    """Load the plan and open the store; PlanError/StoreError stop start-up."""
    plan = load_plan(settings.plan_path)
    store = Store.open(settings.data_dir, now, read_only=read_only)
    return Core(Context(settings, plan, store), COMMANDS)


def main(argv: Sequence[str] | None = None,
         clock_for: Callable[[ZoneInfo], Clock] = system_clock) -> int:
    """Run apbot; `clock_for` makes the process's one clock (tests set another date)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.mode == CHECK_MODE:
        # Before the settings are read: the check reports a bad one instead of stopping.
        setup_logging(os.environ.get("TELEGRAM_BOT_TOKEN", "").strip() or None,
                      logging.WARNING)
        return run_check(args, os.environ, clock_for)
    try:
        settings = settings_from_env(os.environ)
    except SettingsError as err:
        print(f"apbot startet nicht: {err}", file=sys.stderr)
        return EXIT_CONFIG
    matrix = args.mode is None and settings.matrix
    telegram = args.mode is None and settings.token is not None and not matrix
    # The console prints answers on stdout; its log stays quiet unless something is wrong.
    redact = setup_logging(settings.token,
                           logging.INFO if telegram or matrix else logging.WARNING,
                           settings.matrix_access_token, settings.matrix_password)
    if matrix and settings.token:
        logging.getLogger("apbot").warning(
            "both Matrix and TELEGRAM_BOT_TOKEN are set: apbot runs on Matrix")
    try:
        return run(args, settings, telegram, clock_for(settings.timezone), matrix)
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        # Whatever it was, one line without the token (the traceback only at debug level,
        # through the same filter).
        logging.getLogger("apbot").debug("fatal error", exc_info=True)
        print(redact.redact(f"apbot ist abgebrochen: {type(err).__name__}: {err}"),
              file=sys.stderr)
        return EXIT_FATAL


def run(args: argparse.Namespace, settings: Settings, telegram: bool, clock: Clock,
        matrix: bool = False) -> int:
    """The chosen mode, once settings and logging are in place."""
    # Backups need neither the plan nor a database that opens (a damaged one is the
    # reason to restore).
    if args.mode == BACKUPS_MODE:
        return run_backups(settings, clock())
    if args.mode == RESTORE_MODE:
        return run_restore(args, settings, clock())
    try:
        # `plan import --yes` takes the lock: it refuses while the bot runs (bot/cli/plan.py).
        read_only = args.mode in (*LISTINGS, *EXPORT_MODES) or plan_read_only(args)
        if telegram or matrix:  # first, so that it imports matplotlib while the data loads
            start_chart_worker()
        # The loaded history lives as long as the process: keep the garbage collector
        # from walking tens of thousands of records again and again, while they are read
        # (no cycles to collect there) and afterwards.
        gc.disable()
        try:
            core = open_core(settings, clock(), read_only=read_only)
        finally:
            gc.freeze()
            gc.enable()
    except (PlanError, StoreError) as err:
        print(f"apbot startet nicht: {err}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if args.mode in LISTINGS:
            return run_listing(args, core, clock())
        if args.mode in EXPORT_MODES:
            return run_export(args, core.ctx, clock())
        if args.mode == PLAN_MODE:
            return run_plan(args, core.ctx, clock())
        if matrix:
            from bot.frontends.matrix.client import LoginRejected, run_matrix

            try:
                run_matrix(core, clock)
            except LoginRejected as err:
                print(f"apbot beendet: {err}", file=sys.stderr)
                return EXIT_CONFIG
        elif telegram:
            # The console needs no Telegram import.
            from bot.frontends.telegram.polling import TokenRejected, run_telegram

            try:
                run_telegram(core, clock)
            except TokenRejected as err:
                print(f"apbot beendet: {err}", file=sys.stderr)
                return EXIT_CONFIG
        elif args.mode == "ask":
            Console(core, clock, sys.stdout).say(" ".join(args.text))
        else:
            console = Console(core, clock, sys.stdout)
            if sys.stdin.isatty():
                console.run(prompted_lines(), greet=True)
            else:
                console.run(sys.stdin)
    finally:
        core.ctx.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
