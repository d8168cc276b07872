"""`python -m bot plan export OUT.xlsx` and `python -m bot plan import IN.xlsx [--yes]`.

The plan as an Excel workbook for whoever runs the server, the same workbook as
`/plan_excel` in the chat (see bot/render/workbook.py for what it may change).

`plan export` and `plan import` without `--yes` only read: they open the store without
its lock, as the other export modes do, and work beside the running bot.

`plan import --yes` writes, and it refuses while the bot runs: it opens the store
normally, which takes the data directory's lock, so a running apbot makes it stop with
the lock's message (exit 2) before anything is read or written. Going through the running
bot instead would need a way to talk to it; stopping it for a minute is simpler and
cannot leave the bot on an old plan. With the lock held, the change is written exactly as
Übernehmen in the chat writes it (plan_commands._take): the plan file in the data
directory, rewritten atomically with the version before kept, and the change logged in
the history (/planaenderungen) as made by "Kommandozeile", with its undo edits. No
announcement reaches the team chat (the bot is not running); the bot, started again, runs
on the new plan.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.exports import OUT_HELP, write_out
from bot.cli.posts import UsageError
from bot.messages import Context, local_today
from bot.plan_commands import _take, plan_text, target_of
from bot.render.workbook import (
    MAX_WORKBOOK_BYTES,
    NO_CHANGES,
    WorkbookError,
    plan_workbook,
    read_workbook,
)
from workflows.plan_edit import PlanEditError, apply_edits

PLAN_MODE = "plan"
CLI_AUTHOR = "Kommandozeile"
EXIT_USAGE = 2


def add_plan_parsers(sub: Any) -> None:
    """The subcommand `plan` with `export` and `import`."""
    plan = sub.add_parser("plan", help="den Plan als Excel-Arbeitsmappe ausgeben oder einlesen")
    actions = plan.add_subparsers(dest="action", required=True)
    actions.add_parser("export", help="den Plan als Excel-Datei (.xlsx) schreiben").add_argument(
        "out", help=OUT_HELP)
    load = actions.add_parser(
        "import", help="eine bearbeitete Arbeitsmappe einlesen: zeigt die Änderungen, "
        "übernimmt sie nur mit --yes (nicht während apbot läuft)")
    load.add_argument("file", help="die bearbeitete .xlsx-Datei")
    load.add_argument("--yes", action="store_true",
                      help="die Änderungen übernehmen (apbot muss dafür gestoppt sein)")


def plan_read_only(args: argparse.Namespace) -> bool:
    """Whether the mode only reads: everything but `plan import --yes`."""
    return args.mode == PLAN_MODE and not (args.action == "import" and args.yes)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_WORKBOOK_BYTES + 1)
    except OSError as err:
        raise UsageError(f"{path} lässt sich nicht lesen ({err.strerror or err}).") from None
    return data


def run_plan(args: argparse.Namespace, ctx: Context, now: datetime) -> int:
    """`plan export` / `plan import`; German messages, exit code 2 on bad input."""
    try:
        if args.action == "export":
            data = plan_workbook(ctx.plan, ctx.store.marks(), local_today(ctx, now))
            if done := write_out(args.out, data):
                print(done)
            return 0
        return _import(args, ctx, now)
    except UsageError as err:
        print(f"apbot: {err}", file=sys.stderr)
        return EXIT_USAGE


def _import(args: argparse.Namespace, ctx: Context, now: datetime) -> int:
    try:
        edits, lines = read_workbook(_read(args.file), ctx.plan)
        if not edits:
            print(NO_CHANGES)
            return 0
        target = target_of(ctx)
        apply_edits(plan_text(ctx.plan), target, edits)  # the whole change must be valid
    except (WorkbookError, PlanEditError) as err:
        print(f"apbot: {err} Der Plan ist unverändert.", file=sys.stderr)
        return EXIT_USAGE
    print(f"Änderungen laut {Path(args.file).name}:")
    for line in lines:
        print(f"• {line}")
    if not args.yes:
        print("Nichts geändert. Mit --yes übernehmen (apbot muss dafür gestoppt sein).")
        return 0
    try:
        _, change_id = _take(ctx, tuple(edits), lines, "0", CLI_AUTHOR, now)
    except PlanEditError as err:
        print(f"apbot: {err} Der Plan ist unverändert.", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:
        print(f"apbot: {target} ließ sich nicht schreiben ({err.strerror or err}). "
              "Der Plan ist unverändert.", file=sys.stderr)
        return 1
    print(f"Übernommen: {target} geschrieben (Planänderung Nr. {change_id}, "
          "im Chat unter /planaenderungen).")
    return 0
