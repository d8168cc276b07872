"""Command line: `python -m bot` (Telegram with a token, else the console), `ask`, `console`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime

from bot.commands import COMMANDS
from bot.console import Console, prompted_lines
from bot.core import Core
from bot.logs import setup_logging
from bot.messages import Context
from bot.settings import Settings, SettingsError, settings_from_env
from workflows.plan import PlanError, load_plan
from workflows.storage import StoreError
from workflows.store import Store

EXIT_CONFIG = 2


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="apbot",
        description="apbot – Assistent für den Arbeits- und Zeitplan Bildungskommunen. "
        "Ohne TELEGRAM_BOT_TOKEN startet er in der Konsole.",
    )
    sub = parser.add_subparsers(dest="mode")
    ask = sub.add_parser("ask", help="eine Nachricht beantworten und beenden")
    ask.add_argument("text", nargs="+", help='z. B. "/status AP3"')
    sub.add_parser("console", help="Konsole, auch wenn ein Token gesetzt ist")
    return parser.parse_args(argv)


def open_core(settings: Settings, now: datetime) -> Core:
    """Load the plan and open the store; PlanError/StoreError stop start-up."""
    plan = load_plan(settings.plan_path)
    store = Store.open(settings.data_dir, now)
    return Core(Context(settings, plan, store), COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = settings_from_env(os.environ)
    except SettingsError as err:
        print(f"apbot startet nicht: {err}", file=sys.stderr)
        return EXIT_CONFIG
    telegram = args.mode is None and settings.token is not None
    # The console prints answers on stdout; its log stays quiet unless something is wrong.
    setup_logging(settings.token, logging.INFO if telegram else logging.WARNING)

    def clock() -> datetime:
        return datetime.now(settings.timezone)

    try:
        core = open_core(settings, clock())
    except (PlanError, StoreError) as err:
        print(f"apbot startet nicht: {err}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        if telegram:
            from bot.telegram_app import run_telegram  # the console needs no Telegram import

            run_telegram(core)
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
